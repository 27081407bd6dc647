//! A GraphQL schema (async-graphql) over the blog entities, served on
//! 127.0.0.1: users → posts → comments, each relation resolved through a
//! `RelationLoader`. At start it runs the nested query for 1, 10 and 1,000
//! users with the loaders and lazily, printing the statements each ran
//! and the median time per request; then it serves `POST /graphql`.
//!
//! `cargo run --example graphql` (SQLite in memory), or with a
//! `postgres://` URL as argument (schema `loader_example_graphql`).
//! `PORT` chooses the port (default 3001); `--no-serve` stops after the
//! table.

mod schema;

use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::routing::post;
use loader_runtime::{AsyncDb, Backend};
use schema::{BlogSchema, Loaders};

async fn graphql(
    State((schema, db)): State<(BlogSchema, AsyncDb)>,
    Json(request): Json<async_graphql::Request>,
) -> Json<async_graphql::Response> {
    Json(schema.execute(request.data(Loaders::new(&db, true))).await)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .cloned()
        .unwrap_or_else(|| "sqlite::memory:".to_owned());
    let db = open(&url).await?;
    schema::seed(&db, 1_000).await?;
    let schema = schema::schema();
    println!("backend: {:?}", db.backend());
    println!("| users | with loaders: statements | median | lazily: statements | median |");
    println!("|---|---|---|---|---|");
    for users in [1u64, 10, 1_000] {
        let mut row = format!("| {users} |");
        for batched in [true, false] {
            let mut times = Vec::new();
            let mut statements = 0;
            let runs = if users == 1_000 { 5 } else { 21 };
            for _ in 0..runs {
                let loaders = Loaders::new(&db, batched);
                let log = loaders.db.clone();
                let start = Instant::now();
                let response = schema
                    .execute(async_graphql::Request::new(schema::nested_query(users)).data(loaders))
                    .await;
                times.push(start.elapsed());
                assert!(response.errors.is_empty(), "{:?}", response.errors);
                statements = log.query_count();
            }
            times.sort();
            let median: Duration = times[times.len() / 2];
            row.push_str(&format!(
                " {statements} | {:.2} ms |",
                median.as_secs_f64() * 1000.0
            ));
        }
        println!("{row}");
    }
    // The statements of one nested query for 10 users, with the loaders.
    let loaders = Loaders::new(&db, true);
    let log = loaders.db.clone();
    schema
        .execute(async_graphql::Request::new(schema::nested_query(10)).data(loaders))
        .await;
    println!("\nthe statements of the nested query for 10 users:");
    for record in log.query_log() {
        println!(
            "  {} ({} keys, {} rows)",
            record.sql, record.bound_values, record.rows
        );
    }
    if args.iter().any(|a| a == "--no-serve") {
        return Ok(());
    }
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3001);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!(
        "serving POST http://{}/graphql, e.g. {{\"query\": \"{}\"}}",
        listener.local_addr()?,
        schema::nested_query(2).replace('"', "\\\"")
    );
    let app = axum::Router::new()
        .route("/graphql", post(graphql))
        .with_state((schema, db));
    axum::serve(listener, app).await?;
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
         DROP SCHEMA IF EXISTS loader_example_graphql CASCADE;
         CREATE SCHEMA loader_example_graphql;",
    )
    .await?;
    let mut config: loader_runtime::tokio_postgres::Config = url.parse()?;
    config.options("-c search_path=loader_example_graphql");
    AsyncDb::from_postgres_config(config)
}
