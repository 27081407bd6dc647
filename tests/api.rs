//! The axum service of `examples/api`, requested over HTTP on 127.0.0.1:
//! its JSON, its errors and the statements each request ran, on SQLite and
//! PostgreSQL.

#![allow(clippy::duplicated_attributes)]

#[path = "../examples/api/app.rs"]
mod app;
mod common;

use loader_runtime::AsyncDb;
use serde_json::Value;

const USERS: i64 = 150;

/// The service on a free port, on each backend, with its base URL.
async fn services() -> Vec<(String, tokio::task::JoinHandle<()>)> {
    let mut dbs = vec![AsyncDb::connect("sqlite::memory:").await.unwrap()];
    let schema = common::backend::current_schema();
    if common::backend::blocking(|| common::backend::postgres_schema(&schema)).is_some() {
        dbs.push(common::backend::async_db(common::backend::async_config(
            &schema,
        )));
    }
    let mut services = Vec::new();
    for db in dbs {
        app::seed(&db, USERS).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, app::router(db)).await.unwrap();
        });
        services.push((base, server));
    }
    services
}

/// Status, statements run (the `x-statements` header) and JSON body.
async fn get(client: &reqwest::Client, url: &str) -> (u16, Option<usize>, Value) {
    let response = client.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    let statements = response
        .headers()
        .get("x-statements")
        .map(|value| value.to_str().unwrap().parse().unwrap());
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_owned());
    assert_eq!(content_type.as_deref(), Some("application/json"), "{url}");
    (status, statements, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_costs_three_statements_whatever_its_size() {
    let client = reqwest::Client::new();
    for (base, server) in services().await {
        for limit in [1u64, 10, 100] {
            let (status, statements, body) =
                get(&client, &format!("{base}/users?limit={limit}&offset=5")).await;
            assert_eq!(status, 200);
            assert_eq!(statements, Some(3), "{base} limit {limit}");
            let users = body.as_array().unwrap();
            assert_eq!(users.len(), limit as usize);
            let names: Vec<&str> = users
                .iter()
                .map(|u| u["username"].as_str().unwrap())
                .collect();
            assert!(
                names.windows(2).all(|w| w[0] < w[1]),
                "ordered by name: {names:?}"
            );
            for user in users {
                let posts = user["posts"].as_array().unwrap();
                assert!(posts.len() <= 3);
                assert!(posts.iter().all(|p| p["published"] == true));
                let dates: Vec<&str> = posts
                    .iter()
                    .map(|p| p["created_at"].as_str().unwrap())
                    .collect();
                assert!(
                    dates.windows(2).all(|w| w[0] >= w[1]),
                    "latest first: {dates:?}"
                );
                assert!(posts.iter().all(|p| p["comments_count"].is_u64()));
                assert!(
                    posts.iter().all(|p| p.get("author_id").is_none()),
                    "skipped field"
                );
            }
            // The lazy endpoint returns the same page, at 1 + users + posts statements.
            let (status, lazy_statements, lazy) = get(
                &client,
                &format!("{base}/users_n_plus_one?limit={limit}&offset=5"),
            )
            .await;
            assert_eq!(status, 200);
            assert_eq!(lazy, body, "{base} limit {limit}");
            let posts: usize = users
                .iter()
                .map(|u| u["posts"].as_array().unwrap().len())
                .sum();
            assert_eq!(lazy_statements, Some(1 + limit as usize + posts));
        }
        server.abort();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_user_with_posts_and_comments() {
    let client = reqwest::Client::new();
    for (base, server) in services().await {
        let (status, statements, user) = get(&client, &format!("{base}/users/7")).await;
        assert_eq!(status, 200);
        assert_eq!(statements, Some(3));
        assert_eq!(user["id"], 7);
        let posts = user["posts"].as_array().unwrap();
        assert_eq!(posts.len(), 5, "every post, published or not");
        let ids: Vec<i64> = posts.iter().map(|p| p["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, [70, 71, 72, 73, 74]);
        for post in posts {
            let id = post["id"].as_i64().unwrap();
            assert_eq!(post["comments"].as_array().unwrap().len() as i64, id % 4);
        }
        server.abort();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_gets_a_json_error_and_a_4xx() {
    let client = reqwest::Client::new();
    for (base, server) in services().await {
        let (status, statements, body) = get(&client, &format!("{base}/users/abc")).await;
        assert_eq!((status, statements), (400, None));
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("`abc` is not a user id")
        );
        let (status, _, body) = get(&client, &format!("{base}/users/999999")).await;
        assert_eq!(status, 404);
        assert_eq!(body["error"], "no user 999999");
        let (status, _, body) = get(&client, &format!("{base}/users?limit=ten")).await;
        assert_eq!(status, 400);
        assert!(
            body["error"].as_str().unwrap().contains("whole numbers"),
            "{body}"
        );
        let (status, _, body) = get(&client, &format!("{base}/users?offset=-1")).await;
        assert_eq!(status, 400, "{body}");
        // A huge limit is capped, not a 500.
        let (status, statements, body) =
            get(&client, &format!("{base}/users?limit=1000000000")).await;
        assert_eq!((status, statements), (200, Some(3)));
        assert_eq!(body.as_array().unwrap().len() as u64, app::MAX_PAGE);
        // Past the end: an empty page.
        let (status, _, body) = get(&client, &format!("{base}/users?offset=100000")).await;
        assert_eq!(status, 200);
        assert_eq!(body, Value::Array(Vec::new()));
        server.abort();
    }
}
