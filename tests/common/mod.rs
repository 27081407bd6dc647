//! A blog schema shared by the integration tests: users → posts → comments,
//! with posts also pointing back at their author and an optional editor.

#![allow(dead_code)]
// Repeated relation attributes (`#[belongs_to(User, ...)]` twice) trip this
// lint on clippy 1.95; it is a known false positive (rust-clippy#12923),
// fixed upstream by checking only lint-level attributes.
#![allow(clippy::duplicated_attributes)]

pub mod backend;
pub mod conn;
pub mod filters;
pub mod proxy;

use loader_runtime::{Backend, Db, Entity};

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "users")]
#[has_many(Post, fk = "author_id")]
pub struct User {
    pub id: i64,
    pub username: String,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "posts")]
#[belongs_to(User, fk = "author_id", name = "author")]
#[belongs_to(User, fk = "editor_id", name = "editor")]
#[has_many(Comment, fk = "post_id")]
pub struct Post {
    pub id: i64,
    pub author_id: i64,
    pub editor_id: Option<i64>,
    pub title: String,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "comments")]
#[belongs_to(Post, fk = "post_id")]
pub struct Comment {
    pub id: i64,
    pub post_id: i64,
    pub body: String,
}

pub const SCHEMA: &str = "
    CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL);
    CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL,
                        editor_id INTEGER, title TEXT NOT NULL);
    CREATE INDEX posts_author_id ON posts(author_id);
    CREATE TABLE comments (id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL, body TEXT NOT NULL);
    CREATE INDEX comments_post_id ON comments(post_id);
";

/// An in-memory blog with `users` users, `posts_per_user` posts each and
/// `comments_per_post` comments on each post. User `u`'s posts are edited by
/// user `u + 1` when that user exists and `u` is even, else by nobody. The
/// rows are interleaved (post ids do not follow author ids) so that grouping
/// is really exercised.
pub fn blog(users: i64, posts_per_user: i64, comments_per_post: i64) -> Db {
    let db = Db::open_in_memory().expect("open in-memory database");
    fill_blog(&db, users, posts_per_user, comments_per_post);
    db
}

/// The same blog on every backend (see [`backend::databases`]).
pub fn blogs(users: i64, posts_per_user: i64, comments_per_post: i64) -> Vec<Db> {
    let dbs = backend::databases();
    for db in &dbs {
        fill_blog(db, users, posts_per_user, comments_per_post);
    }
    dbs
}

/// Creates the blog schema in `db` and fills it (see [`blog`]).
pub fn fill_blog(db: &Db, users: i64, posts_per_user: i64, comments_per_post: i64) {
    db.execute_batch(SCHEMA).expect("create schema");
    // The same rows from the same arithmetic: generate_series on
    // PostgreSQL, a recursive CTE on SQLite.
    if db.backend() == Backend::Postgres {
        backend::execute(
            db,
            "INSERT INTO users SELECT i, 'user ' || i FROM generate_series(1, $1::int8) AS i",
            &[&users],
        );
        backend::execute(
            db,
            "INSERT INTO posts
             SELECT i + 1, (i % $1::int8) + 1,
                    CASE WHEN (i % $1::int8) % 2 = 1 AND (i % $1::int8) + 2 <= $1::int8
                         THEN (i % $1::int8) + 2 END,
                    'post ' || (i + 1)
             FROM generate_series(0, $1::int8 * $2::int8 - 1) AS i",
            &[&users, &posts_per_user],
        );
        backend::execute(
            db,
            "INSERT INTO comments
             SELECT (p.id - 1) * $1::int8 + k, p.id, 'comment ' || k || ' on post ' || p.id
             FROM posts p, generate_series(1, $1::int8) AS k",
            &[&comments_per_post],
        );
        db.execute_batch("ANALYZE").expect("analyze");
        return;
    }
    backend::execute(
        db,
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO users SELECT i, 'user ' || i FROM n WHERE i <= ?1",
        &[&users],
    );
    backend::execute(
        db,
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1 * ?2)
         INSERT INTO posts
         SELECT i + 1, (i % ?1) + 1,
                CASE WHEN (i % ?1) % 2 = 1 AND (i % ?1) + 2 <= ?1 THEN (i % ?1) + 2 END,
                'post ' || (i + 1)
         FROM n WHERE i < ?1 * ?2",
        &[&users, &posts_per_user],
    );
    backend::execute(
        db,
        "INSERT INTO comments
         SELECT (p.id - 1) * ?1 + c.k, p.id, 'comment ' || c.k || ' on post ' || p.id
         FROM posts p, (WITH RECURSIVE k(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM k WHERE k < ?1)
                        SELECT k FROM k) c
         WHERE ?1 > 0",
        &[&comments_per_post],
    );
}
