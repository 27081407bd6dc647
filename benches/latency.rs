//! What a preload costs across a network: the async preload (pipelined),
//! the sync preload and the async N+1 loop, on PostgreSQL through a proxy
//! that delays every packet by 0, 0.5 or 1 ms each way (one data centre is
//! about 0.5 ms), for a page of 20 users and for 10,000 users, each with
//! posts → comments, posts → author and a profile (4 relations, 5
//! statements). Also where the subquery form stops paying: the same tree
//! for 20 to 10,000 roots in both forms.
//!
//! `cargo bench --bench latency` (needs `LOADER_BENCH_POSTGRES` or
//! `LOADER_TEST_POSTGRES`; `-- --quick` for fewer runs, `-- --write-docs`
//! to write docs/latency.md). Medians of interleaved runs; round trips as
//! the proxy counts them (the client speaking after an answer).

#![allow(clippy::duplicated_attributes)]

#[path = "common/plot.rs"]
mod plot;
#[path = "../tests/common/proxy.rs"]
#[allow(dead_code)]
mod proxy;

use std::hint::black_box;
use std::time::{Duration, Instant};

use loader_runtime::{AsyncDb, Db, Entity, Form};
use proxy::Proxy;

#[derive(Entity, Debug)]
#[entity(table = "users")]
#[has_many(Post, fk = "author_id")]
#[has_one(Profile, fk = "user_id")]
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
}

#[derive(Entity, Debug)]
#[entity(table = "comments")]
struct Comment {
    id: i64,
    post_id: i64,
    body: String,
}

#[derive(Entity, Debug)]
#[entity(table = "profiles")]
struct Profile {
    id: i64,
    user_id: i64,
    bio: String,
}

const SCHEMA: &str = "loader_bench_latency";
const USERS: i64 = 10_000;

fn mix(sum: u64, value: i64) -> u64 {
    sum.wrapping_mul(31).wrapping_add(value as u64)
}

/// The tree for the first `roots` users: their posts with comments and
/// author, and their profile (a macro, so that the preloaded type stays
/// visible to the accessors).
macro_rules! tree {
    ($roots:expr) => {{
        let roots: i64 = $roots;
        User::query()
            .filter(move |u| u.id.le(roots))
            .order_by(|u| u.id.asc())
            .limit(roots as u64)
            .preload(
                User::posts()
                    .preload(Post::comments())
                    .preload(Post::author()),
            )
            .preload(User::profile())
    }};
}

macro_rules! checksum {
    ($users:expr) => {{
        let mut sum = 0u64;
        for user in &$users {
            sum = mix(sum, user.id);
            sum = mix(sum, user.profile().map_or(0, |p| p.id));
            for post in user.posts() {
                sum = mix(sum, post.id);
                sum = mix(sum, post.author().id);
                for comment in post.comments() {
                    sum = mix(sum, comment.id);
                }
            }
        }
        sum
    }};
}

async fn async_preload(db: &AsyncDb, roots: i64, form: Option<Form>) -> u64 {
    let query = tree!(roots);
    let query = match form {
        Some(form) => query.form(form),
        None => query,
    };
    let users = query.all(db).await.unwrap();
    checksum!(users)
}

fn sync_preload(db: &Db, roots: i64) -> u64 {
    let users = tree!(roots).all(db).unwrap();
    checksum!(users)
}

/// The same graph loaded lazily: one statement per relation per row.
async fn async_n_plus_one(db: &AsyncDb, roots: i64) -> u64 {
    let users = User::query()
        .filter(move |u| u.id.le(roots))
        .order_by(|u| u.id.asc())
        .limit(roots as u64)
        .all(db)
        .await
        .unwrap();
    let mut sum = 0u64;
    for user in &users {
        sum = mix(sum, user.id);
        let profile = user.load_profile(db).await.unwrap();
        sum = mix(sum, profile.map_or(0, |p| p.id));
        for post in user.load_posts(db).await.unwrap() {
            sum = mix(sum, post.id);
            sum = mix(sum, post.load_author(db).await.unwrap().id);
            for comment in post.load_comments(db).await.unwrap() {
                sum = mix(sum, comment.id);
            }
        }
    }
    sum
}

fn fill(url: &str) {
    let db = Db::connect(url).unwrap();
    db.execute_batch(&format!(
        "SET client_min_messages = warning;
         DROP SCHEMA IF EXISTS {SCHEMA} CASCADE;
         CREATE SCHEMA {SCHEMA};
         SET search_path TO {SCHEMA};
         CREATE TABLE users (id BIGINT PRIMARY KEY, username TEXT NOT NULL);
         CREATE TABLE posts (id BIGINT PRIMARY KEY, author_id BIGINT NOT NULL, title TEXT NOT NULL);
         CREATE TABLE comments (id BIGINT PRIMARY KEY, post_id BIGINT NOT NULL, body TEXT NOT NULL);
         CREATE TABLE profiles (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, bio TEXT NOT NULL);
         INSERT INTO users SELECT i, 'user ' || i FROM generate_series(1, {USERS}) AS i;
         INSERT INTO posts SELECT i, (i % {USERS}) + 1, 'post ' || i FROM generate_series(1, {USERS} * 10) AS i;
         INSERT INTO comments SELECT i, (i % ({USERS} * 10)) + 1, 'comment ' || i
             FROM generate_series(1, {USERS} * 20) AS i;
         INSERT INTO profiles SELECT i, i, 'bio ' || i FROM generate_series(1, {USERS}) AS i;
         CREATE INDEX posts_author_id ON posts(author_id);
         CREATE INDEX comments_post_id ON comments(post_id);
         CREATE INDEX profiles_user_id ON profiles(user_id);"
    ))
    .unwrap();
    for table in ["users", "posts", "comments", "profiles"] {
        db.execute_batch(&format!("VACUUM ANALYZE {table}"))
            .unwrap();
    }
}

fn config(url: &str, port: u16) -> loader_runtime::tokio_postgres::Config {
    let parsed: loader_runtime::tokio_postgres::Config = url.parse().unwrap();
    let mut config = loader_runtime::tokio_postgres::Config::new();
    config.host("127.0.0.1").port(port);
    if let Some(user) = parsed.get_user() {
        config.user(user);
    }
    if let Some(dbname) = parsed.get_dbname() {
        config.dbname(dbname);
    }
    config.options(format!("-c search_path={SCHEMA}"));
    config
}

fn sync_url(url: &str, port: u16) -> String {
    let parsed: loader_runtime::tokio_postgres::Config = url.parse().unwrap();
    format!(
        "postgres://{}@127.0.0.1:{port}/{}",
        parsed.get_user().unwrap_or("postgres"),
        parsed.get_dbname().unwrap_or("postgres")
    )
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}

struct Measured {
    median: Duration,
    round_trips: usize,
    statements: usize,
}

/// One variant: a warm-up run (checked against `expected`), then the round
/// trips and statements of one run, then `runs` timed runs.
enum Variant<'a> {
    Async(&'a AsyncDb, Option<Form>),
    Sync(&'a Db),
    NPlusOne(&'a AsyncDb),
}

impl Variant<'_> {
    fn name(&self) -> &'static str {
        match self {
            Variant::Async(_, None) => "async preload",
            Variant::Async(_, Some(Form::Keys)) => "async, by key set",
            Variant::Async(_, Some(_)) => "async, by subquery",
            Variant::Sync(_) => "sync preload",
            Variant::NPlusOne(_) => "async N+1 loop",
        }
    }

    fn run(&self, runtime: &tokio::runtime::Runtime, roots: i64) -> u64 {
        match self {
            Variant::Async(db, form) => runtime.block_on(async_preload(db, roots, *form)),
            Variant::Sync(db) => sync_preload(db, roots),
            Variant::NPlusOne(db) => runtime.block_on(async_n_plus_one(db, roots)),
        }
    }

    fn monitor(&self) -> &loader_runtime::Monitor {
        match self {
            Variant::Async(db, _) | Variant::NPlusOne(db) => db,
            Variant::Sync(db) => db,
        }
    }
}

fn measure(
    runtime: &tokio::runtime::Runtime,
    proxy: &Proxy,
    variants: &[Variant<'_>],
    roots: i64,
    runs: usize,
) -> Vec<Measured> {
    let expected = variants[0].run(runtime, roots);
    let mut measured = Vec::new();
    for variant in variants {
        assert_eq!(variant.run(runtime, roots), expected, "{}", variant.name());
        proxy.take_round_trips();
        variant.monitor().reset_query_log();
        variant.run(runtime, roots);
        measured.push(Measured {
            median: Duration::ZERO,
            round_trips: proxy.take_round_trips(),
            statements: variant.monitor().query_count(),
        });
    }
    let mut times = vec![Vec::new(); variants.len()];
    for _ in 0..runs {
        for (index, variant) in variants.iter().enumerate() {
            let start = Instant::now();
            black_box(variant.run(runtime, roots));
            times[index].push(start.elapsed());
        }
    }
    for (measured, times) in measured.iter_mut().zip(times) {
        measured.median = median(times);
    }
    measured
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let write_docs = args.iter().any(|a| a == "--write-docs");
    let Some(url) = std::env::var("LOADER_BENCH_POSTGRES")
        .or_else(|_| std::env::var("LOADER_TEST_POSTGRES"))
        .ok()
    else {
        eprintln!(
            "no PostgreSQL: set LOADER_BENCH_POSTGRES (or LOADER_TEST_POSTGRES) to a connection URL"
        );
        return;
    };
    eprintln!("filling {SCHEMA} ({USERS} users, 10 posts each, 2 comments per post)...");
    fill(&url);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let upstream = {
        let parsed: loader_runtime::tokio_postgres::Config = url.parse().unwrap();
        let port = parsed.get_ports().first().copied().unwrap_or(5432);
        format!("127.0.0.1:{port}")
    };

    let mut out = String::new();
    out.push_str("## A page (20 users) and 10,000 users, by network delay\n\n");
    out.push_str("Each user with posts → comments, posts → author and a profile: 4 relations, 5 statements (the N+1 loop runs 1 + 2 per user + 2 per post). Delay is one way, per packet; `0 ms` still goes through the proxy. A round trip is the client speaking after the server answered: without a delay the server's first answers can arrive while the client is still writing the rest of a pipeline, so at `0 ms` the count can exceed the waits.\n\n");
    out.push_str("| roots | delay (one way) | variant | median | round trips | statements |\n|---|---|---|---|---|---|\n");
    let mut page_at = Vec::new();
    // (variant, one-way delay in ms, median) of the page, for the plot.
    let mut page_points: Vec<(&'static str, f64, Duration)> = Vec::new();
    for delay_us in [0u64, 500, 1_000] {
        let delay = Duration::from_micros(delay_us);
        let proxy = Proxy::start(&upstream, delay);
        let db = AsyncDb::from_postgres_config(config(&url, proxy.port)).unwrap();
        let sync = Db::connect(&sync_url(&url, proxy.port)).unwrap();
        sync.execute_batch(&format!("SET search_path TO {SCHEMA}"))
            .unwrap();
        for roots in [20i64, 10_000] {
            eprintln!("{roots} roots at {delay_us} us");
            let mut variants = vec![Variant::Async(&db, None), Variant::Sync(&sync)];
            if roots == 20 {
                variants.push(Variant::NPlusOne(&db));
            }
            let runs = match (quick, roots) {
                (true, _) => 3,
                (false, 20) => 21,
                _ => 5,
            };
            let measured = measure(&runtime, &proxy, &variants, roots, runs);
            for (variant, measured) in variants.iter().zip(&measured) {
                out.push_str(&format!(
                    "| {roots} | {} ms | {} | {} | {} | {} |\n",
                    delay_us as f64 / 1000.0,
                    variant.name(),
                    ms(measured.median),
                    measured.round_trips,
                    measured.statements
                ));
            }
            if roots == 20 {
                page_at.push((delay_us, measured[0].median));
                for (variant, measured) in variants.iter().zip(&measured) {
                    page_points.push((variant.name(), delay_us as f64 / 1000.0, measured.median));
                }
            }
        }
    }
    if let (Some((_, unloaded)), Some((_, far))) = (page_at.first(), page_at.last()) {
        let rtt = Duration::from_millis(2);
        out.push_str(&format!(
            "\nPage, async preload: {} at 1 ms one way against {} at 0 ms: {:.2} round trips (2 ms each) above the unloaded time.\n",
            ms(*far),
            ms(*unloaded),
            (far.as_secs_f64() - unloaded.as_secs_f64()) / rtt.as_secs_f64()
        ));
    }

    out.push_str("\n## Where the subquery form stops paying (0.5 ms one way)\n\n");
    out.push_str("The same tree for the first N users, its nested levels named by key set (one round trip per level) or by subquery (one round trip, the server evaluating the roots' conditions again for each level).\n\n");
    out.push_str("| roots | by key set | by subquery | subquery / key set |\n|---|---|---|---|\n");
    let proxy = Proxy::start(&upstream, Duration::from_micros(500));
    let db = AsyncDb::from_postgres_config(config(&url, proxy.port)).unwrap();
    for roots in [20i64, 100, 1_000, 3_000, 10_000] {
        eprintln!("forms, {roots} roots");
        let variants = [
            Variant::Async(&db, Some(Form::Keys)),
            Variant::Async(&db, Some(Form::Subquery)),
        ];
        let runs = match (quick, roots) {
            (true, _) => 3,
            (false, r) if r >= 3_000 => 7,
            _ => 15,
        };
        let measured = measure(&runtime, &proxy, &variants, roots, runs);
        out.push_str(&format!(
            "| {roots} | {} ({} round trips) | {} ({} round trip) | {:.2} |\n",
            ms(measured[0].median),
            measured[0].round_trips,
            ms(measured[1].median),
            measured[1].round_trips,
            measured[1].median.as_secs_f64() / measured[0].median.as_secs_f64()
        ));
    }
    println!("{out}");
    if write_docs {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/latency.md");
        let document = format!(
            "# Latency across a network\n\nGenerated by `cargo bench --bench latency -- --write-docs` (PostgreSQL on this machine, through a delaying proxy in the bench process; 2 shared cores). See `benches/latency.rs` for what each variant runs.\n\n![a page's latency by network delay: async preload, sync preload and the async N+1 loop](latency.svg)\n\n{out}"
        );
        std::fs::write(&path, document).unwrap();
        eprintln!("wrote {}", path.display());
        let svg = path.with_file_name("latency.svg");
        plot(&page_points, &svg);
        eprintln!("wrote {}", svg.display());
    }
}

/// The page's latency against one-way delay, one line per variant, on a log
/// time axis (the N+1 loop is two orders of magnitude above the preloads).
fn plot(points: &[(&'static str, f64, Duration)], path: &std::path::Path) {
    use plotters::prelude::*;
    let root = SVGBackend::new(path, (720, 440)).into_drawing_area();
    root.fill(&WHITE).unwrap();
    let times: Vec<f64> = points
        .iter()
        .map(|(_, _, t)| t.as_secs_f64() * 1e3)
        .collect();
    let (low, high) = times
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), &t| (lo.min(t), hi.max(t)));
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "a page of 20 users (5 statements) on PostgreSQL, by network delay",
            ("sans-serif", 16),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .build_cartesian_2d(-0.05f64..1.05, ((low * 0.7)..(high * 1.5)).log_scale())
        .unwrap();
    chart
        .configure_mesh()
        .x_desc("delay, one way (ms)")
        .y_desc("latency (ms)")
        .x_labels(3)
        .x_label_formatter(&|x| format!("{x:.1}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()
        .unwrap();
    let colors = [BLUE, BLACK, RED];
    let mut names: Vec<&str> = Vec::new();
    for (name, _, _) in points {
        if !names.contains(name) {
            names.push(name);
        }
    }
    for (name, color) in names.into_iter().zip(colors.into_iter().cycle()) {
        let data: Vec<(f64, f64)> = points
            .iter()
            .filter(|(variant, _, _)| *variant == name)
            .map(|(_, delay, t)| (*delay, t.as_secs_f64() * 1e3))
            .collect();
        plot::series(&mut chart, name, color, data);
    }
    plot::legend(&mut chart, SeriesLabelPosition::MiddleRight, 13);
    root.present().unwrap();
}
