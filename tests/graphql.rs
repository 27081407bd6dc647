//! The GraphQL example's schema (examples/graphql/schema.rs): its nested
//! query runs 1 + levels statements for 1, 10 and 1,000 users with the
//! relation loaders (1 + users + posts without them), and both return the
//! same data; on SQLite and PostgreSQL.

#![allow(clippy::duplicated_attributes)]

mod common;
#[path = "../examples/graphql/schema.rs"]
#[allow(dead_code)]
mod schema;

use std::time::Duration;

use loader_runtime::AsyncDb;
use schema::Loaders;

/// A seeded async handle on each backend.
async fn databases() -> Vec<AsyncDb> {
    let mut dbs = vec![AsyncDb::connect("sqlite::memory:").await.unwrap()];
    let place = common::backend::current_schema();
    if common::backend::blocking(|| common::backend::postgres_schema(&place)).is_some() {
        dbs.push(common::backend::async_db(common::backend::async_config(
            &place,
        )));
    }
    for db in &dbs {
        schema::seed(db, 1_000).await.unwrap();
    }
    dbs
}

#[tokio::test(flavor = "multi_thread")]
async fn the_nested_query_runs_one_statement_per_level() {
    let schema = schema::schema();
    for db in databases().await {
        for users in [1u64, 10, 1_000] {
            let run = |batched: bool| {
                // A window long enough for a debug build's resolver pass.
                let loaders = Loaders::waiting(&db, batched, Duration::from_millis(500));
                let log = loaders.db.clone();
                let request =
                    async_graphql::Request::new(schema::nested_query(users)).data(loaders);
                let schema = &schema;
                async move {
                    let response = schema.execute(request).await;
                    assert!(response.errors.is_empty(), "{:?}", response.errors);
                    (
                        response.data.into_json().unwrap(),
                        log.query_count(),
                        log.query_log(),
                    )
                }
            };
            let (batched, statements, log) = run(true).await;
            assert_eq!(statements, 3, "{:?}, {users} users: {log:#?}", db.backend());
            let (lazy, lazy_statements, _) = run(false).await;
            assert_eq!(lazy_statements as u64, 1 + users + users * 3);
            assert_eq!(batched, lazy, "{:?}, {users} users", db.backend());
            let listed = batched["users"].as_array().unwrap();
            assert_eq!(listed.len() as u64, users);
            assert!(
                listed
                    .iter()
                    .all(|u| u["posts"].as_array().unwrap().len() == 3)
            );
            assert!(
                listed
                    .iter()
                    .flat_map(|u| u["posts"].as_array().unwrap())
                    .all(|p| p["comments"].as_array().unwrap().len() == 2)
            );
        }
    }
}
