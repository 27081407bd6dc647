//! The axum service of `examples/api` under load, on PostgreSQL with a pool
//! of 8 connections: 16 concurrent HTTP clients on the page endpoint,
//! preloaded against the N+1 handler, pages of 10 and 100 users, directly
//! and through a proxy adding 0.5 ms each way. Then faults during a load
//! run: the server terminates the pool's connections, a lock makes
//! requests run into `statement_timeout`, the server is unreachable for
//! half a second. Every response body is checked against the data.
//!
//! `cargo bench --bench api_load` (needs `LOADER_BENCH_POSTGRES` or
//! `LOADER_TEST_POSTGRES`; `-- --quick` for shorter runs, `-- --write-docs`
//! to write docs/load.md; `-- --pooler postgres://...:6432/db` for a short
//! run through PgBouncer in transaction mode that fails on any failed or
//! wrong response, as `.ci/run` runs it). Bounded: each scenario stops
//! after its request count or its time limit, whichever comes first.

#![allow(clippy::duplicated_attributes)]

#[path = "../examples/api/app.rs"]
#[allow(dead_code)]
mod app;
#[path = "../tests/common/proxy.rs"]
#[allow(dead_code)]
mod proxy;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use loader_runtime::{AsyncDb, Db, deadpool_postgres, tokio_postgres};
use proxy::Proxy;

const SCHEMA: &str = "loader_bench_api";
const USERS: i64 = 1_000;
const CLIENTS: usize = 16;
const POOL: usize = 8;

fn config(url: &str, port: Option<u16>, extra: &str) -> tokio_postgres::Config {
    let parsed: tokio_postgres::Config = url.parse().unwrap();
    let mut config = tokio_postgres::Config::new();
    config.host("127.0.0.1");
    config.port(port.unwrap_or_else(|| parsed.get_ports().first().copied().unwrap_or(5432)));
    if let Some(user) = parsed.get_user() {
        config.user(user);
    }
    if let Some(dbname) = parsed.get_dbname() {
        config.dbname(dbname);
    }
    config.application_name("loader_api_load");
    config.options(format!("-c search_path={SCHEMA} {extra}"));
    config
}

fn pool(config: tokio_postgres::Config) -> AsyncDb {
    let manager = deadpool_postgres::Manager::new(config, tokio_postgres::NoTls);
    let pool = deadpool_postgres::Pool::builder(manager)
        .max_size(POOL)
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .wait_timeout(Some(Duration::from_secs(5)))
        .build()
        .unwrap();
    AsyncDb::from_postgres_pool(pool)
}

/// The service on a free port.
async fn serve(db: AsyncDb) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app::router(db)).await;
    });
    (base, server)
}

#[derive(Default)]
struct Outcome {
    latencies: Vec<Duration>,
    statements: usize,
    pool_wait: Duration,
    failed: usize,
    wrong: usize,
    /// When each request finished, and how.
    timeline: Vec<(Duration, Status)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Status {
    Ok,
    Failed,
    Wrong,
}

/// `CLIENTS` clients requesting `path` (with `offset=k` cycling through
/// `offsets` pages) until `requests` are done or `limit` has passed; each
/// body is compared with `expected[k]`.
async fn load(
    base: &str,
    path: &str,
    expected: Arc<Vec<serde_json::Value>>,
    requests: usize,
    limit: Duration,
) -> Outcome {
    let client = reqwest::Client::new();
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (client, next, expected) =
                (client.clone(), Arc::clone(&next), Arc::clone(&expected));
            let url = format!("{base}{path}");
            tokio::spawn(async move {
                let mut outcome = Outcome::default();
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    if index >= requests || start.elapsed() > limit {
                        return outcome;
                    }
                    let page = index % expected.len();
                    let sent = Instant::now();
                    let response = client
                        .get(format!("{url}&offset={}", page * 10))
                        .send()
                        .await;
                    let status = match response {
                        Ok(response) if response.status() == 200 => {
                            let header = |name: &str| {
                                response
                                    .headers()
                                    .get(name)
                                    .and_then(|v| v.to_str().ok())
                                    .and_then(|v| v.parse::<u64>().ok())
                                    .unwrap_or(0)
                            };
                            outcome.statements += header("x-statements") as usize;
                            outcome.pool_wait += Duration::from_micros(header("x-pool-wait-us"));
                            match response.json::<serde_json::Value>().await {
                                Ok(body) if body == expected[page] => Status::Ok,
                                _ => Status::Wrong,
                            }
                        }
                        _ => Status::Failed,
                    };
                    match status {
                        Status::Ok => outcome.latencies.push(sent.elapsed()),
                        Status::Failed => outcome.failed += 1,
                        Status::Wrong => outcome.wrong += 1,
                    }
                    outcome.timeline.push((start.elapsed(), status));
                    if status == Status::Failed {
                        // A client backs off a little before it tries again.
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            })
        })
        .collect();
    let mut all = Outcome::default();
    for task in tasks {
        let outcome = task.await.unwrap();
        all.latencies.extend(outcome.latencies);
        all.statements += outcome.statements;
        all.pool_wait += outcome.pool_wait;
        all.failed += outcome.failed;
        all.wrong += outcome.wrong;
        all.timeline.extend(outcome.timeline);
    }
    all.timeline.sort();
    all
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// The expected body of each page, from the preloaded endpoint with no
/// load (and checked against the lazy one).
async fn expected(base: &str, limit: u64, pages: usize) -> Arc<Vec<serde_json::Value>> {
    let client = reqwest::Client::new();
    let mut bodies = Vec::new();
    for page in 0..pages {
        let get = |path: &str| {
            let url = format!("{base}{path}?limit={limit}&offset={}", page * 10);
            let client = client.clone();
            async move {
                client
                    .get(url)
                    .send()
                    .await
                    .unwrap()
                    .json::<serde_json::Value>()
                    .await
                    .unwrap()
            }
        };
        let body = get("/users").await;
        assert_eq!(
            body,
            get("/users_n_plus_one").await,
            "the two endpoints agree"
        );
        bodies.push(body);
    }
    Arc::new(bodies)
}

/// One load scenario's table row.
async fn row(
    network: &str,
    base: &str,
    limit: u64,
    endpoint: &str,
    expected: Arc<Vec<serde_json::Value>>,
    requests: usize,
    seconds: u64,
) -> (String, usize) {
    let path = match endpoint {
        "preload" => "/users",
        _ => "/users_n_plus_one",
    };
    eprintln!("{endpoint}, page {limit}, {network}: up to {requests} requests");
    let start = Instant::now();
    let mut outcome = load(
        base,
        &format!("{path}?limit={limit}"),
        expected,
        requests,
        Duration::from_secs(seconds),
    )
    .await;
    let elapsed = start.elapsed();
    outcome.latencies.sort();
    let done = outcome.latencies.len().max(1);
    let line = format!(
        "| {network} | {limit} | {endpoint} | {} | {:.0} req/s | {} | {} | {:.1} | {} | {} | {} |\n",
        outcome.timeline.len(),
        outcome.latencies.len() as f64 / elapsed.as_secs_f64(),
        ms(percentile(&outcome.latencies, 0.5)),
        ms(percentile(&outcome.latencies, 0.99)),
        outcome.statements as f64 / done as f64,
        ms(outcome.pool_wait / done as u32),
        outcome.failed,
        outcome.wrong,
    );
    (line, outcome.failed + outcome.wrong)
}

/// `--pooler URL`: a short load run through a pooler in transaction mode
/// (PgBouncer), prepared statements off, in a database of its own made
/// through the server's URL. Fails (exit 1) on any failed or wrong
/// response: `.ci/run` runs it.
fn pooled_run(url: &str, pooler: &str, quick: bool) {
    const DATABASE: &str = "loader_bench_api";
    let admin = Db::connect(url).unwrap();
    admin
        .execute_batch("SET client_min_messages = warning")
        .unwrap();
    admin
        .execute_batch(&format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        .unwrap();
    admin
        .execute_batch(&format!("CREATE DATABASE {DATABASE}"))
        .unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (out, bad) = runtime.block_on(async {
        let mut config: tokio_postgres::Config = pooler.parse().unwrap();
        config.dbname(DATABASE);
        let db = pool(config).without_prepared_statements();
        app::seed(&db, USERS).await.unwrap();
        let (base, server) = serve(db).await;
        let mut out = String::from("| network | page | endpoint | requests | throughput | p50 | p99 | statements / request | pool wait / request | failed | wrong |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
        let mut bad = 0;
        for limit in [10u64, 100] {
            let expected = expected(&base, limit, 5).await;
            for endpoint in ["preload", "N+1"] {
                let requests = match (quick, endpoint, limit) {
                    (true, "N+1", 100) => 50,
                    (true, _, _) => 300,
                    (false, "N+1", 100) => 300,
                    _ => 2_000,
                };
                let (line, failed) =
                    row("through PgBouncer", &base, limit, endpoint, Arc::clone(&expected), requests, 20).await;
                out.push_str(&line);
                bad += failed;
            }
        }
        server.abort();
        (out, bad)
    });
    println!("{out}");
    if bad > 0 {
        eprintln!("{bad} requests failed or returned a wrong graph through the pooler");
        std::process::exit(1);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let write_docs = args.iter().any(|a| a == "--write-docs");
    let pooler = args
        .iter()
        .position(|a| a == "--pooler")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let Some(url) = std::env::var("LOADER_BENCH_POSTGRES")
        .or_else(|_| std::env::var("LOADER_TEST_POSTGRES"))
        .ok()
    else {
        eprintln!(
            "no PostgreSQL: set LOADER_BENCH_POSTGRES (or LOADER_TEST_POSTGRES) to a connection URL"
        );
        return;
    };
    if let Some(pooler) = pooler {
        pooled_run(&url, &pooler, quick);
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let upstream = {
        let parsed: tokio_postgres::Config = url.parse().unwrap();
        format!(
            "127.0.0.1:{}",
            parsed.get_ports().first().copied().unwrap_or(5432)
        )
    };
    let mut out = String::new();
    runtime.block_on(async {
        eprintln!("seeding {SCHEMA} ({USERS} users)...");
        let setup = AsyncDb::connect(&url).await.unwrap();
        setup
            .execute_batch(&format!(
                "SET client_min_messages = warning; DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA};"
            ))
            .await
            .unwrap();
        let seeded = pool(config(&url, None, ""));
        app::seed(&seeded, USERS).await.unwrap();
        seeded.execute_batch("ANALYZE").await.unwrap();

        out.push_str(&format!("## Load: {CLIENTS} clients, a pool of {POOL} connections\n\n"));
        out.push_str("`GET /users?limit=N` (each user's 3 latest published posts with their comment counts) against `GET /users_n_plus_one?limit=N` (the same page lazily). Every body compared with the data. Pool wait: the mean time a request waited for a connection.\n\n");
        out.push_str("| network | page | endpoint | requests | throughput | p50 | p99 | statements / request | pool wait / request | failed | wrong |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
        for delay in [None, Some(Duration::from_micros(500))] {
            let proxy = delay.map(|delay| Proxy::start(&upstream, delay));
            let db = pool(config(&url, proxy.as_ref().map(|p| p.port), ""));
            let (base, server) = serve(db).await;
            for limit in [10u64, 100] {
                let pages = 5;
                let expected = expected(&base, limit, pages).await;
                for endpoint in ["preload", "N+1"] {
                    let (requests, seconds) = match (quick, endpoint, limit) {
                        (true, _, _) => (200, 3),
                        (false, "preload", _) => (2_000, 20),
                        (false, _, 10) => (1_000, 20),
                        _ => (300, 20),
                    };
                    let network = match delay {
                        None => "direct".to_owned(),
                        Some(d) => format!("+{} ms each way", d.as_secs_f64() * 1000.0),
                    };
                    let (line, _) =
                        row(&network, &base, limit, endpoint, Arc::clone(&expected), requests, seconds)
                            .await;
                    out.push_str(&line);
                }
            }
            server.abort();
        }

        out.push_str("\n## Faults during a load run\n\n");
        out.push_str(&format!("{CLIENTS} clients on `GET /users?limit=10` for 7 s (a client whose request failed waits 10 ms before the next), through the proxy (no delay), the pool's connections with `statement_timeout = 300ms`: at 1 s the server terminates the pool's connections (`pg_terminate_backend`), at 2.5 s another session holds `LOCK TABLE posts` for 1 s, at 4.5 s the server is unreachable for 0.5 s. A request that fails gets an error response (503); `wrong` counts 200 responses whose body differs from the data.\n\n"));
        let proxy = Proxy::start(&upstream, Duration::ZERO);
        let db = pool(config(&url, Some(proxy.port), "-c statement_timeout=300"));
        let (base, server) = serve(db).await;
        let expected = expected(&base, 10, 5).await;
        let faults = {
            let url = url.clone();
            std::thread::spawn(move || {
                let admin = Db::connect(&url).unwrap();
                std::thread::sleep(Duration::from_millis(1_000));
                admin
                    .execute_batch(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'loader_api_load'",
                    )
                    .unwrap();
                std::thread::sleep(Duration::from_millis(1_500));
                admin
                    .execute_batch(&format!(
                        "BEGIN; LOCK TABLE {SCHEMA}.posts IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(1); COMMIT;"
                    ))
                    .unwrap();
            })
        };
        let outage = {
            let proxy = &proxy;
            async move {
                tokio::time::sleep(Duration::from_millis(4_500)).await;
                proxy.down();
                tokio::time::sleep(Duration::from_millis(500)).await;
                proxy.up();
            }
        };
        let requests = if quick { 20_000 } else { 100_000 };
        let (outcome, ()) = tokio::join!(
            load(&base, "/users?limit=10", Arc::clone(&expected), requests, Duration::from_secs(7)),
            outage
        );
        faults.join().unwrap();
        server.abort();
        let windows = [
            ("connections terminated", 1.0, 2.5),
            ("lock + statement_timeout", 2.5, 4.5),
            ("server unreachable", 4.5, 7.0),
        ];
        out.push_str("| fault (window) | requests | ok | failed | wrong | first success after the window's last failure |\n|---|---|---|---|---|---|\n");
        for (name, from, to) in windows {
            let window: Vec<&(Duration, Status)> = outcome
                .timeline
                .iter()
                .filter(|(at, _)| at.as_secs_f64() >= from && at.as_secs_f64() < to)
                .collect();
            let count = |status| window.iter().filter(|(_, s)| *s == status).count();
            let last_failure = window
                .iter()
                .filter(|(_, status)| *status != Status::Ok)
                .map(|(at, _)| *at)
                .max();
            let recovered = match last_failure {
                None => "no failure".to_owned(),
                Some(last) => match window.iter().find(|(at, s)| *s == Status::Ok && *at > last) {
                    Some((at, _)) => format!("{} later", ms(*at - last)),
                    None => "none in the window".to_owned(),
                },
            };
            out.push_str(&format!(
                "| {name} ({from}–{to} s) | {} | {} | {} | {} | {recovered} |\n",
                window.len(),
                count(Status::Ok),
                count(Status::Failed),
                count(Status::Wrong),
            ));
        }
        out.push_str(&format!(
            "\nIn all: {} requests, {} ok, {} failed, **{} wrong**.\n",
            outcome.timeline.len(),
            outcome.latencies.len(),
            outcome.failed,
            outcome.wrong
        ));
    });
    println!("{out}");
    if write_docs {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/load.md");
        std::fs::write(
            &path,
            format!("# The api example under load and faults\n\nGenerated by `cargo bench --bench api_load -- --write-docs` (PostgreSQL on this 2-core machine, the service, the clients and the proxy in one process). See `benches/api_load.rs`.\n\n{out}"),
        )
        .unwrap();
        eprintln!("wrote {}", path.display());
    }
}
