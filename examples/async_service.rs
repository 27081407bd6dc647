//! The N+1 story's endpoint, async: a handler shaped like an axum one
//! (`State<AsyncDb>` in, a page of users out) runs on the multi-threaded
//! tokio runtime, eight requests at a time, each loading a page of users
//! with their 3 latest published posts and each post's comment count: 3
//! statements per request whatever the page size, and on PostgreSQL one
//! round trip (the whole tree goes out pipelined, with BEGIN and COMMIT).
//!
//! Run with `cargo run --example async_service`, or on PostgreSQL with
//! `cargo run --example async_service -- postgres://postgres@127.0.0.1/test`
//! (in a schema of its own, `loader_example_async`).

use loader_runtime::{AsyncDb, Backend, Entity};

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
struct Comment {
    id: i64,
    post_id: i64,
    body: String,
}

/// What axum's `State` extractor hands a handler.
struct State<T>(T);

/// A page of the user list, as a query string would give it.
#[derive(Clone, Copy)]
struct Page {
    limit: u64,
    offset: u64,
}

/// `GET /users?limit=..&offset=..`: each user with their 3 latest published
/// posts and each post's comment count. Returns the body and how many
/// statements the request ran.
async fn list_users(
    State(db): State<AsyncDb>,
    page: Page,
) -> Result<(String, usize), loader_runtime::Error> {
    // A log of this request's own, on the shared pool.
    let db = db.with_new_log();
    let users = User::query()
        .order_by(|user| user.username.asc())
        .limit(page.limit.min(100))
        .offset(page.offset)
        .preload(
            User::posts()
                .filter(|post| post.published.eq(true))
                .order_by(|post| post.created_at.desc())
                .limit_per_parent(3)
                .preload(Post::comments().count()),
        )
        .all(&db)
        .await?;
    let mut body = String::new();
    for user in &users {
        body.push_str(&format!("{}\n", user.username));
        for post in user.posts() {
            body.push_str(&format!(
                "  {} {} ({} comments)\n",
                post.created_at,
                post.title,
                post.comments_count()
            ));
        }
    }
    Ok((body, db.query_count()))
}

/// `GET /posts/:id`: one post with its author and comments.
async fn show_post(State(db): State<AsyncDb>, id: i64) -> Result<String, loader_runtime::Error> {
    let post = Post::query()
        .preload(Post::author())
        .preload(Post::comments())
        .find(&db, &id)
        .await?;
    Ok(match post {
        None => format!("404: no post {id}\n"),
        Some(post) => {
            let comments: Vec<&str> = post.comments().iter().map(|c| c.body.as_str()).collect();
            format!(
                "{} by {}: {:?}\n",
                post.title,
                post.author().username,
                comments
            )
        }
    })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), loader_runtime::Error> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "sqlite::memory:".to_owned());
    let db = open(&url).await?;
    println!("backend: {:?}", db.backend());
    db.execute_batch(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL);
         CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL, title TEXT NOT NULL,
                             published BOOLEAN NOT NULL, created_at TEXT NOT NULL);
         CREATE INDEX posts_author_id ON posts(author_id);
         CREATE TABLE comments (id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL, body TEXT NOT NULL);
         CREATE INDEX comments_post_id ON comments(post_id);
         INSERT INTO users VALUES (1, 'ada'), (2, 'grace'), (3, 'linus'), (4, 'barbara');
         INSERT INTO posts VALUES (1, 1, 'Notes on the Analytical Engine', TRUE, '1843-09-01'),
                                  (2, 2, 'A-0 System', TRUE, '1952-05-01'),
                                  (3, 1, 'Bernoulli numbers', TRUE, '1843-10-01'),
                                  (4, 3, 'Just for fun', TRUE, '1991-08-25'),
                                  (5, 1, 'Poetical science', FALSE, '1844-01-01'),
                                  (6, 1, 'A letter to Babbage', TRUE, '1843-07-01'),
                                  (7, 1, 'On the music of numbers', TRUE, '1843-11-01'),
                                  (8, 4, 'CLU', TRUE, '1974-01-01');
         INSERT INTO comments VALUES (1, 1, 'Visionary.'), (2, 1, 'Still relevant.'),
                                     (3, 2, 'The first compiler!'), (4, 4, 'Ship it.');",
    )
    .await?;

    // Eight requests at once, as a server under load would take them; each
    // handler is a spawned task, so its future must be `Send`.
    let requests: Vec<_> = (0..8u64)
        .map(|index| {
            let state = State(db.clone());
            let page = Page {
                limit: 2,
                offset: index % 3,
            };
            tokio::spawn(list_users(state, page))
        })
        .collect();
    for (index, request) in requests.into_iter().enumerate() {
        let (body, statements) = request.await.expect("the handler panicked")?;
        println!("request {index}: {statements} statements\n{body}");
    }
    print!("{}", show_post(State(db.clone()), 1).await?);
    print!("{}", show_post(State(db.clone()), 99).await?);
    Ok(())
}

/// The database at `url`; on PostgreSQL, in a fresh schema of its own.
async fn open(url: &str) -> Result<AsyncDb, loader_runtime::Error> {
    let db = AsyncDb::connect(url).await?;
    if db.backend() != Backend::Postgres {
        return Ok(db);
    }
    db.execute_batch(
        "SET client_min_messages = warning;
         DROP SCHEMA IF EXISTS loader_example_async CASCADE;
         CREATE SCHEMA loader_example_async;",
    )
    .await?;
    // Every pooled connection starts in the schema.
    let mut config: loader_runtime::tokio_postgres::Config = url.parse()?;
    config.options("-c search_path=loader_example_async");
    AsyncDb::from_postgres_config(config)
}
