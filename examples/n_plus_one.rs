//! The classic N+1 demonstration: 3 users with one post each.
//!
//! The lazy loop runs 1 query for the users plus 1 per user (4 in all);
//! the preload runs 1 for the users plus 1 for all their posts (2 in all).
//!
//! Every statement is echoed to standard error as it runs.
//!
//! Run with `cargo run --example n_plus_one` (SQLite, in memory). The same
//! program runs on PostgreSQL when given a connection URL, in
//! `DATABASE_URL` or as its argument:
//! `cargo run --example n_plus_one -- postgres://postgres@127.0.0.1/test`
//! (it works in a schema of its own, `loader_example`).

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
struct Post {
    id: i64,
    author_id: i64,
    title: String,
}

fn main() -> Result<(), loader_runtime::Error> {
    let url = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("DATABASE_URL").ok())
        .unwrap_or_else(|| "sqlite::memory:".to_owned());
    let db = Db::connect(&url)?;
    if db.backend() == Backend::Postgres {
        // Keep out of the database's own tables; start afresh each run.
        db.execute_batch(
            "SET client_min_messages = warning;
             DROP SCHEMA IF EXISTS loader_example CASCADE;
             CREATE SCHEMA loader_example;
             SET search_path TO loader_example;",
        )?;
    }
    println!("on {:?}", db.backend());
    db.execute_batch(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL);
         CREATE TABLE posts (id INTEGER PRIMARY KEY,
                             author_id INTEGER NOT NULL REFERENCES users(id),
                             title TEXT NOT NULL);
         CREATE INDEX posts_author_id ON posts(author_id);
         INSERT INTO users VALUES (1, 'ada'), (2, 'grace'), (3, 'linus');
         INSERT INTO posts VALUES (1, 1, 'Notes on the Analytical Engine'),
                                  (2, 2, 'A-0 System'),
                                  (3, 3, 'Just for fun');",
    )?;
    db.set_echo(true);

    println!("== lazy: one query per user ==");
    for user in User::all(&db)? {
        for post in user.load_posts(&db)? {
            println!("{} wrote {:?}", user.username, post.title);
        }
    }
    println!("{} queries", db.query_count());

    db.reset_query_log();
    println!("\n== preload: one query per relation ==");
    for user in User::query().preload(User::posts()).all(&db)? {
        for post in user.posts() {
            println!("{} wrote {:?}", user.username, post.title);
        }
    }
    println!("{} queries", db.query_count());
    Ok(())
}
