//! Users → posts → comments, loaded with one nested preload: one query per
//! level, printed as a tree. Then a page-shaped query: users ordered by
//! name, each with their 3 latest published posts and each post's comment
//! count, in 3 queries.
//!
//! Run with `cargo run --example blog`, or on PostgreSQL with
//! `cargo run --example blog -- postgres://postgres@127.0.0.1/test` (in a
//! schema of its own, `loader_example_blog`).

use loader_runtime::{Backend, Db, Entity};

#[derive(Entity, Debug)]
#[entity(table = "users")]
#[has_many(Post, fk = "author_id")]
struct User {
    id: i64,
    username: String,
}

#[derive(Entity, Debug)]
#[entity(table = "posts")]
#[belongs_to(User, fk = "author_id", name = "author")]
#[has_many(Comment, fk = "post_id")]
struct Post {
    id: i64,
    author_id: i64,
    title: String,
    published: bool,
    created_at: String,
}

#[derive(Entity, Debug)]
#[entity(table = "comments")]
#[belongs_to(User, fk = "commenter_id", name = "commenter")]
struct Comment {
    id: i64,
    post_id: i64,
    commenter_id: i64,
    body: String,
}

fn main() -> Result<(), loader_runtime::Error> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "sqlite::memory:".to_owned());
    let db = Db::connect(&url)?;
    if db.backend() == Backend::Postgres {
        db.execute_batch(
            "SET client_min_messages = warning;
             DROP SCHEMA IF EXISTS loader_example_blog CASCADE;
             CREATE SCHEMA loader_example_blog;
             SET search_path TO loader_example_blog;",
        )?;
    }
    db.execute_batch(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL);
         CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL, title TEXT NOT NULL,
                             published BOOLEAN NOT NULL, created_at TEXT NOT NULL);
         CREATE INDEX posts_author_id ON posts(author_id);
         CREATE TABLE comments (id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL,
                                commenter_id INTEGER NOT NULL, body TEXT NOT NULL);
         CREATE INDEX comments_post_id ON comments(post_id);
         INSERT INTO users VALUES (1, 'ada'), (2, 'grace'), (3, 'linus');
         INSERT INTO posts VALUES (1, 1, 'Notes on the Analytical Engine', TRUE, '1843-09-01'),
                                  (2, 2, 'A-0 System', TRUE, '1952-05-01'),
                                  (3, 1, 'Bernoulli numbers', TRUE, '1843-10-01'),
                                  (4, 3, 'Just for fun', TRUE, '1991-08-25'),
                                  (5, 1, 'Poetical science', FALSE, '1844-01-01'),
                                  (6, 1, 'A letter to Babbage', TRUE, '1843-07-01'),
                                  (7, 1, 'On the music of numbers', TRUE, '1843-11-01'),
                                  (8, 2, 'COBOL, a draft', FALSE, '1959-04-01');
         INSERT INTO comments VALUES (1, 1, 2, 'Visionary.'),
                                     (2, 1, 3, 'Still relevant.'),
                                     (3, 2, 1, 'The first compiler!'),
                                     (4, 4, 2, 'Ship it.');",
    )?;

    let users = User::query()
        .preload(User::posts().preload(Post::comments().preload(Comment::commenter())))
        .all(&db)?;

    for user in &users {
        println!("{}", user.username);
        for post in user.posts() {
            println!("  └ {}", post.title);
            for comment in post.comments() {
                println!("      └ {}: {}", comment.commenter().username, comment.body);
            }
        }
    }
    println!("\n{} queries:", db.query_count());
    for record in db.query_log() {
        println!("  {} ({} rows)", record.sql, record.rows);
    }

    // A page: 20 users by name, each with their 3 latest published posts
    // and the number of comments on each, without loading the comments.
    db.reset_query_log();
    let page = User::query()
        .order_by(|user| user.username.asc())
        .limit(20)
        .preload(
            User::posts()
                .filter(|post| post.published.eq(true))
                .order_by(|post| post.created_at.desc())
                .limit_per_parent(3)
                .preload(Post::comments().count()),
        )
        .all(&db)?;
    println!("\nLatest published posts:");
    for user in &page {
        println!("{}", user.username);
        for post in user.posts() {
            println!(
                "  {} {} ({} comments)",
                post.created_at,
                post.title,
                post.comments_count()
            );
        }
    }
    println!("\n{} queries:", db.query_count());
    for record in db.query_log() {
        println!("  {} ({} rows)", record.sql, record.rows);
    }
    Ok(())
}
