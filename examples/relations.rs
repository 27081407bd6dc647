//! Relations inside queries, printed with the statements they run: a
//! `has_many` through another relation, a polymorphic relation and its
//! inverse, a filter by related rows and keyset pages of each user's posts.
//!
//! ```text
//! cargo run --example relations                                   # SQLite in memory
//! cargo run --example relations -- postgres://postgres@127.0.0.1/test
//! ```

// Relation attributes that repeat a `through` value trip this lint on
// clippy 1.95 (rust-clippy#12923).
#![allow(clippy::duplicated_attributes)]

use loader_runtime::{Db, Entity};

#[derive(Entity, Debug)]
#[entity(table = "users")]
#[has_many(Post, fk = "author_id")]
#[has_many(Comment, through = "posts", source = "comments")]
#[has_many(Tag, through = "posts")]
struct User {
    id: i64,
    name: String,
}

#[derive(Entity, Debug)]
#[entity(table = "posts")]
#[belongs_to(User, fk = "author_id", name = "author")]
#[has_many(Comment, as = "commentable")]
#[many_to_many(Tag, through = "post_tags", fk = "post_id", target_fk = "tag_id")]
struct Post {
    id: i64,
    author_id: i64,
    title: String,
}

#[derive(Entity, Debug)]
#[entity(table = "photos")]
#[has_many(Comment, as = "commentable")]
struct Photo {
    id: i64,
    url: String,
}

#[derive(Entity, Debug)]
#[entity(table = "tags")]
struct Tag {
    id: i64,
    label: String,
}

/// A comment on a post or on a photo.
#[derive(Entity, Debug)]
#[entity(table = "comments")]
#[polymorphic(
    Post = "post",
    Photo = "photo",
    fk = "commentable_id",
    type_column = "commentable_type",
    name = "commentable"
)]
struct Comment {
    id: i64,
    commentable_type: String,
    commentable_id: i64,
    body: String,
}

const DATA: &str = "
    CREATE TABLE users (id BIGINT PRIMARY KEY, name TEXT NOT NULL);
    CREATE TABLE posts (id BIGINT PRIMARY KEY, author_id BIGINT NOT NULL, title TEXT NOT NULL);
    CREATE TABLE photos (id BIGINT PRIMARY KEY, url TEXT NOT NULL);
    CREATE TABLE tags (id BIGINT PRIMARY KEY, label TEXT NOT NULL);
    CREATE TABLE post_tags (post_id BIGINT NOT NULL, tag_id BIGINT NOT NULL);
    CREATE TABLE comments (id BIGINT PRIMARY KEY, commentable_type TEXT NOT NULL,
                           commentable_id BIGINT NOT NULL, body TEXT NOT NULL);
    INSERT INTO users VALUES (1, 'ada'), (2, 'grace');
    INSERT INTO posts VALUES (1, 1, 'Notes on the engine'), (2, 1, 'Bernoulli numbers'),
                             (3, 2, 'Compilers'), (4, 1, 'Looms');
    INSERT INTO photos VALUES (1, 'engine.png');
    INSERT INTO tags VALUES (1, 'math'), (2, 'machines');
    INSERT INTO post_tags VALUES (1, 2), (2, 1), (4, 2), (3, 2);
    INSERT INTO comments VALUES (1, 'post', 1, 'Visionary.'), (2, 'photo', 1, 'Lovely gears.'),
                                (3, 'post', 3, 'Still relevant.'), (4, 'post', 2, 'Table A?');
";

fn open() -> loader_runtime::Result<Db> {
    let db = match std::env::args().nth(1) {
        Some(url) => {
            let db = Db::connect(&url)?;
            db.execute_batch(
                "DROP SCHEMA IF EXISTS loader_example_relations CASCADE;
                 CREATE SCHEMA loader_example_relations;
                 SET search_path TO loader_example_relations;",
            )?;
            db
        }
        None => Db::open_in_memory()?,
    };
    db.execute_batch(DATA)?;
    Ok(db)
}

fn statements(db: &Db) {
    for query in db.query_log() {
        println!("    SQL: {}", query.sql);
    }
    db.reset_query_log();
}

fn main() -> loader_runtime::Result<()> {
    let db = open()?;
    println!("backend: {:?}", db.backend());
    db.reset_query_log();

    println!("\nEach user's comments and tags, through their posts (3 statements):");
    let users = User::query()
        .preload(User::comments())
        .preload(User::tags())
        .all(&db)?;
    for user in &users {
        let comments: Vec<&str> = user.comments().iter().map(|c| c.body.as_str()).collect();
        let tags: Vec<&str> = user.tags().iter().map(|t| t.label.as_str()).collect();
        println!("  {}: comments {comments:?}, tags {tags:?}", user.name);
    }
    statements(&db);

    println!(
        "\nEach comment's target, a post (with its author) or a photo (one statement per type):"
    );
    let comments = Comment::query()
        .preload(Comment::commentable().preload(Post::author()))
        .all(&db)?;
    for comment in &comments {
        let on = match comment.commentable() {
            Some(CommentCommentable::Post(post)) => {
                format!("post {:?} by {}", post.title, post.author().name)
            }
            Some(CommentCommentable::Photo(photo)) => format!("photo {}", photo.url),
            None => "nothing".to_owned(),
        };
        println!("  {:?} on {on}", comment.body);
    }
    statements(&db);

    println!("\nUsers with a post tagged math, and each post's own comments (the inverse):");
    let users = User::query()
        .filter(|u| u.tags().any(|t| t.label.eq("math")))
        .preload(User::posts().preload(Post::comments()))
        .all(&db)?;
    for user in &users {
        for post in user.posts() {
            println!(
                "  {}: {:?} has {} comment(s)",
                user.name,
                post.title,
                post.comments().len()
            );
        }
    }
    statements(&db);

    println!("\nAda's posts by title, two a page, each page after the last post seen:");
    let mut cursor: Option<i64> = None;
    loop {
        let mut posts = User::posts()
            .order_by(|p| p.title.asc())
            .limit_per_parent(2);
        if let Some(cursor) = &cursor {
            posts = posts.after(cursor);
        }
        let users = User::query()
            .filter(|u| u.name.eq("ada"))
            .preload(posts)
            .all(&db)?;
        let page: Vec<&Post> = users[0].posts().iter().map(|p| p.entity()).collect();
        if page.is_empty() {
            break;
        }
        let titles: Vec<&str> = page.iter().map(|p| p.title.as_str()).collect();
        println!("  page: {titles:?}");
        cursor = page.last().map(|p| p.id);
    }
    println!("  ({} statements for the pages)", db.query_count());
    Ok(())
}
