//! The endpoint from the N+1 story, as an axum service on the async pool:
//!
//! * `GET /users?limit=20&offset=0`: a page of users, each with their 3
//!   latest published posts and each post's comment count: 3 statements
//!   whatever the page size (the `x-statements` header says how many ran);
//! * `GET /users/{id}`: one user with posts and comments;
//! * `GET /users_n_plus_one?limit=20`: the same page loaded lazily, for
//!   comparison (1 + users + posts statements).
//!
//! `cargo run --example api` serves a seeded in-memory SQLite database;
//! `cargo run --example api -- postgres://postgres@127.0.0.1/test` (or
//! `DATABASE_URL=...`) serves PostgreSQL, in a schema of its own
//! (`loader_example_api`). `PORT` chooses the port (default 3000).

mod app;

use loader_runtime::{AsyncDb, Backend};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("DATABASE_URL").ok())
        .unwrap_or_else(|| "sqlite::memory:".to_owned());
    let db = open(&url).await?;
    app::seed(&db, 200).await?;
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!(
        "serving {:?} on http://{}/users?limit=20 (also /users/1 and /users_n_plus_one)",
        db.backend(),
        listener.local_addr()?
    );
    axum::serve(listener, app::router(db)).await?;
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
         DROP SCHEMA IF EXISTS loader_example_api CASCADE;
         CREATE SCHEMA loader_example_api;",
    )
    .await?;
    let mut config: loader_runtime::tokio_postgres::Config = url.parse()?;
    config.options("-c search_path=loader_example_api");
    AsyncDb::from_postgres_config(config)
}
