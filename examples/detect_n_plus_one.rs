//! Finding the N+1 loop you wrote by mistake: the warning in your logs,
//! strict mode in your tests, a query-count assertion, and the report of a
//! preload you never read.
//!
//! Run with `cargo run --example detect_n_plus_one`.

use loader_runtime::{Db, Entity, Error, NPlusOne};

#[derive(Entity, Debug)]
#[entity(table = "users")]
#[has_many(Post, fk = "author_id")]
struct User {
    id: i64,
    username: String,
}

#[derive(Entity, Debug)]
#[entity(table = "posts")]
#[has_many(Comment, fk = "post_id")]
struct Post {
    id: i64,
    author_id: i64,
    title: String,
}

#[derive(Entity, Debug)]
#[entity(table = "comments")]
struct Comment {
    id: i64,
    post_id: i64,
    body: String,
}

fn main() -> Result<(), Error> {
    // Where the warnings go: any `tracing` subscriber; here, the terminal.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_target(true)
        .init();

    let db = Db::open_in_memory()?;
    db.execute_batch(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL);
         CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL, title TEXT NOT NULL);
         CREATE TABLE comments (id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL, body TEXT NOT NULL);
         INSERT INTO users VALUES (1, 'ada'), (2, 'grace'), (3, 'linus'), (4, 'barbara');
         INSERT INTO posts VALUES (1, 1, 'Notes'), (2, 2, 'A-0'), (3, 3, 'Linux'), (4, 4, 'CLU');
         INSERT INTO comments VALUES (1, 1, 'Visionary.'), (2, 3, 'Ship it.');",
    )?;

    println!(
        "1. The N+1 loop: the third lazy load of `posts` logs a warning with this file's line."
    );
    for user in User::all(&db)? {
        let posts = user.load_posts(&db)?;
        println!("   {} has {} posts", user.username, posts.len());
    }

    println!("\n2. Strict mode, for tests: the same loop fails instead.");
    db.reset_query_log();
    db.set_n_plus_one(NPlusOne::Strict { threshold: 2 });
    let failure = User::all(&db)?
        .iter()
        .map(|user| user.load_posts(&db))
        .find_map(Result::err);
    if let Some(error) = failure {
        println!("   error: {error}");
    }

    println!("\n3. The fix, with the number of queries asserted.");
    db.reset_query_log();
    let users = db.assert_queries(2, || User::query().preload(User::posts()).all(&db))?;
    println!("   {} users, {} queries", users.len(), db.query_count());

    println!("\n4. A block that must not query: reading preloaded data is fine.");
    let titles = db.forbid_queries(|| {
        users
            .iter()
            .flat_map(|user| user.posts())
            .map(|post| post.title.as_str())
            .collect::<Vec<_>>()
    });
    println!("   {}", titles.join(", "));

    println!("\n5. A preload that is never read is reported when its values are dropped.");
    db.set_unused_preload_detection(true);
    let users = User::query()
        .preload(User::posts().preload(Post::comments()))
        .all(&db)?;
    let posts: usize = users.iter().map(|user| user.posts().len()).sum();
    println!("   read {posts} posts, never their comments");
    drop(users);
    Ok(())
}
