//! Relations inside queries against the same results written by hand, on
//! the same connection, measured side by side with interleaved runs:
//! `has_many` through other relations (plain and deduplicated), a filter by
//! related rows through a chain, a polymorphic `belongs_to` and per-parent
//! keyset pages. Prints statement counts, medians and ratios as markdown;
//! each pair's results are checked equal first.
//!
//! ```text
//! cargo bench --bench relations                  # SQLite, and PostgreSQL when
//!                                                # LOADER_BENCH_POSTGRES or LOADER_TEST_POSTGRES is set
//! cargo bench --bench relations -- --quick       # fewer runs
//! cargo bench --bench relations -- --write-docs  # also docs/relations.md
//! ```

// Relation attributes that repeat a `through` value trip this lint on
// clippy 1.95 (rust-clippy#12923).
#![allow(clippy::duplicated_attributes)]

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use loader_runtime::rusqlite::types::Value;

#[path = "common/malloc.rs"]
mod malloc;
#[path = "../tests/common/proxy.rs"]
#[allow(dead_code)]
mod proxy;
use loader_runtime::{Backend, Db, Entity};
use proxy::Proxy;

const USERS: i64 = 2_000;
const POSTS_PER_USER: i64 = 10;
const COMMENTS_PER_POST: i64 = 3;
const CATEGORIES: i64 = 20;
const PHOTOS: i64 = 5_000;
const NOTES: i64 = 20_000;

#[derive(Entity, Debug, Clone)]
#[entity(table = "users")]
#[has_many(Post, fk = "author_id")]
#[has_many(Comment, through = "posts")]
#[has_many(Category, through = "posts", source = "category")]
struct User {
    id: i64,
    name: String,
}

#[derive(Entity, Debug, Clone)]
#[entity(table = "posts")]
#[has_many(Comment, fk = "post_id")]
#[belongs_to(Category, fk = "category_id")]
struct Post {
    id: i64,
    author_id: i64,
    category_id: i64,
    title: String,
}

#[derive(Entity, Debug, Clone)]
#[entity(table = "comments")]
struct Comment {
    id: i64,
    post_id: i64,
    score: i64,
    body: String,
}

#[derive(Entity, Debug, Clone)]
#[entity(table = "categories")]
struct Category {
    id: i64,
    name: String,
}

#[derive(Entity, Debug, Clone)]
#[entity(table = "photos")]
struct Photo {
    id: i64,
    url: String,
}

#[derive(Entity, Debug, Clone)]
#[entity(table = "notes")]
#[polymorphic(
    Post = "post",
    Photo = "photo",
    fk = "target_id",
    type_column = "target_type",
    name = "target"
)]
struct Note {
    id: i64,
    target_type: String,
    target_id: i64,
}

/// Interleaved posts (a user's posts spread over the table), comments,
/// categories, photos and notes on posts and photos, with the indexes a
/// schema of this shape has.
fn fill(db: &Db) {
    let series = |n: i64, start: i64| match db.backend() {
        Backend::Postgres => {
            format!("SELECT i FROM generate_series({start}::int8, {n}::int8) AS i")
        }
        _ => format!(
            "SELECT i FROM (WITH RECURSIVE s(i) AS (SELECT {start} UNION ALL SELECT i + 1 FROM s WHERE i < {n}) SELECT i FROM s)"
        ),
    };
    let posts = USERS * POSTS_PER_USER;
    db.execute_batch(&format!(
        "CREATE TABLE users (id BIGINT PRIMARY KEY, name TEXT NOT NULL);
         CREATE TABLE categories (id BIGINT PRIMARY KEY, name TEXT NOT NULL);
         CREATE TABLE posts (id BIGINT PRIMARY KEY, author_id BIGINT NOT NULL, category_id BIGINT NOT NULL,
                             title TEXT NOT NULL);
         CREATE INDEX posts_author ON posts (author_id);
         CREATE TABLE comments (id BIGINT PRIMARY KEY, post_id BIGINT NOT NULL, score BIGINT NOT NULL,
                                body TEXT NOT NULL);
         CREATE INDEX comments_post ON comments (post_id);
         CREATE TABLE photos (id BIGINT PRIMARY KEY, url TEXT NOT NULL);
         CREATE TABLE notes (id BIGINT PRIMARY KEY, target_type TEXT NOT NULL, target_id BIGINT NOT NULL);
         CREATE INDEX notes_target ON notes (target_type, target_id);
         INSERT INTO users SELECT i, 'user ' || i FROM ({users}) AS s;
         INSERT INTO categories SELECT i, 'category ' || i FROM ({categories}) AS s;
         INSERT INTO posts SELECT i, (i * 7919) % {USERS} + 1, i % {CATEGORIES} + 1, 'post ' || i FROM ({posts_s}) AS s;
         INSERT INTO comments SELECT i, (i * 104729) % {posts} + 1, (i * 31) % 100, 'comment ' || i FROM ({comments}) AS s;
         INSERT INTO photos SELECT i, 'photo' || i || '.png' FROM ({photos}) AS s;
         INSERT INTO notes SELECT i, CASE WHEN i % 2 = 0 THEN 'post' ELSE 'photo' END,
                                  CASE WHEN i % 2 = 0 THEN i % {posts} + 1 ELSE i % {PHOTOS} + 1 END
                           FROM ({notes}) AS s;",
        users = series(USERS, 1),
        categories = series(CATEGORIES, 1),
        posts_s = series(posts, 1),
        comments = series(posts * COMMENTS_PER_POST, 1),
        photos = series(PHOTOS, 1),
        notes = series(NOTES, 1),
    ))
    .unwrap();
    db.execute_batch("ANALYZE").unwrap();
}

fn mix(sum: u64, value: i64) -> u64 {
    sum.wrapping_mul(1_000_003).wrapping_add(value as u64)
}

/// One measured pair: the library and the same result by hand, each
/// returning a checksum of what it loaded and counting its statements.
struct Case {
    name: &'static str,
    library: fn(&Db) -> u64,
    by_hand: fn(&Db) -> u64,
    /// Statements the hand-written code runs.
    hand_statements: usize,
}

// ----------------------------------------------------------- the library

fn lib_comments_through(db: &Db) -> u64 {
    let users = User::query().preload(User::comments()).all(db).unwrap();
    users.iter().fold(0, |sum, u| {
        u.comments().iter().fold(mix(sum, u.id), |sum, c| {
            mix(mix(sum, c.id), c.body.len() as i64)
        })
    })
}

fn lib_categories_through(db: &Db) -> u64 {
    let users = User::query().preload(User::categories()).all(db).unwrap();
    users.iter().fold(0, |sum, u| {
        u.categories().iter().fold(mix(sum, u.id), |sum, c| {
            mix(mix(sum, c.id), c.name.len() as i64)
        })
    })
}

fn lib_filter_through(db: &Db) -> u64 {
    let users = User::query()
        .filter(|u| u.comments().any(|c| c.score.ge(99)))
        .all(db)
        .unwrap();
    users.iter().fold(0, |sum, u| mix(sum, u.id))
}

fn lib_polymorphic(db: &Db) -> u64 {
    let notes = Note::query().preload(Note::target()).all(db).unwrap();
    notes.iter().fold(0, |sum, n| {
        let target = match n.target() {
            Some(NoteTarget::Post(post)) => post.title.len() as i64,
            Some(NoteTarget::Photo(photo)) => -(photo.url.len() as i64),
            None => 0,
        };
        mix(mix(sum, n.id), target)
    })
}

fn lib_keyset(db: &Db) -> u64 {
    let users = User::query()
        .preload(
            User::posts()
                .order_by(|p| p.title.asc())
                .after(&5_000)
                .limit_per_parent(3),
        )
        .all(db)
        .unwrap();
    users.iter().fold(0, |sum, u| {
        u.posts()
            .iter()
            .fold(mix(sum, u.id), |sum, p| mix(sum, p.id))
    })
}

// ------------------------------------------------------------ by hand

/// Users by id, then `rows` of `(owner, ...)` pushed into each owner's
/// list through a map from owner id to position.
fn group<T>(users: &[(i64, String)], rows: Vec<(i64, T)>) -> Vec<Vec<T>> {
    let index: HashMap<i64, usize> = users.iter().enumerate().map(|(i, u)| (u.0, i)).collect();
    let mut lists: Vec<Vec<T>> = users.iter().map(|_| Vec::new()).collect();
    for (owner, row) in rows {
        if let Some(&i) = index.get(&owner) {
            lists[i].push(row);
        }
    }
    lists
}

fn hand_users(db: &Db) -> Vec<(i64, String)> {
    query(db, "SELECT id, name FROM users ORDER BY id", |r| {
        (r.int(0), r.text(1))
    })
}

/// Comments through posts by the fastest code found: posts' owners into a
/// map, the comments in key order, grouped by owner (3 statements). The
/// JOIN of comments to posts, written by hand (the library's statement for
/// a page of users), is about 2x slower on SQLite: the join looks each
/// comment's post up in the posts' index.
fn hand_comments_through(db: &Db) -> u64 {
    let users = hand_users(db);
    let author_of: HashMap<i64, i64> = query(db, "SELECT id, author_id FROM posts", |r| {
        (r.int(0), r.int(1))
    })
    .into_iter()
    .collect();
    let rows: Vec<(i64, Comment)> = query(
        db,
        "SELECT id, post_id, score, body FROM comments ORDER BY id",
        |r| Comment {
            id: r.int(0),
            post_id: r.int(1),
            score: r.int(2),
            body: r.text(3),
        },
    )
    .into_iter()
    .filter_map(|c| author_of.get(&c.post_id).map(|&author| (author, c)))
    .collect();
    let lists = group(&users, rows);
    users.iter().zip(&lists).fold(0, |sum, (u, list)| {
        list.iter().fold(mix(sum, u.0), |sum, c| {
            mix(mix(sum, c.id), c.body.len() as i64)
        })
    })
}

/// Categories through posts by the fastest code found on both databases:
/// the JOIN of the categories to the posts' distinct pairs. Reading the
/// pairs alone, then each category they name by key, measured 5.6-5.8 ms
/// on SQLite against 5.2 ms and 3.4 ms on PostgreSQL against 3.3 ms.
fn hand_categories_through(db: &Db) -> u64 {
    let users = hand_users(db);
    let rows = query(
        db,
        // The fastest form found: distinct pairs on the narrow table first
        // (a plain `SELECT DISTINCT` over the join is 1.5x slower on SQLite).
        "SELECT p.author_id, c.id, c.name FROM categories c
         JOIN (SELECT DISTINCT author_id, category_id FROM posts) AS p ON p.category_id = c.id
         ORDER BY 1, 2",
        |r| {
            (
                r.int(0),
                Category {
                    id: r.int(1),
                    name: r.text(2),
                },
            )
        },
    );
    let lists = group(&users, rows);
    users.iter().zip(&lists).fold(0, |sum, (u, list)| {
        list.iter().fold(mix(sum, u.0), |sum, c| {
            mix(mix(sum, c.id), c.name.len() as i64)
        })
    })
}

fn hand_filter_through(db: &Db) -> u64 {
    let users = query(
        db,
        "SELECT id, name FROM users u WHERE EXISTS (SELECT 1 FROM posts p JOIN comments c ON c.post_id = p.id
           WHERE p.author_id = u.id AND c.score >= 99) ORDER BY id",
        |r| (r.int(0), r.text(1)),
    );
    users.iter().fold(0, |sum, u| mix(sum, u.0))
}

fn hand_polymorphic(db: &Db) -> u64 {
    let notes = query(
        db,
        "SELECT id, target_type, target_id FROM notes ORDER BY id",
        |r| (r.int(0), r.text(1), r.int(2)),
    );
    let mut post_ids: Vec<i64> = notes
        .iter()
        .filter(|n| n.1 == "post")
        .map(|n| n.2)
        .collect();
    let mut photo_ids: Vec<i64> = notes
        .iter()
        .filter(|n| n.1 == "photo")
        .map(|n| n.2)
        .collect();
    post_ids.sort_unstable();
    post_ids.dedup();
    photo_ids.sort_unstable();
    photo_ids.dedup();
    let posts: HashMap<i64, Post> = query_keys(
        db,
        "SELECT id, author_id, category_id, title FROM posts WHERE id",
        &post_ids,
        |r| {
            let post = Post {
                id: r.int(0),
                author_id: r.int(1),
                category_id: r.int(2),
                title: r.text(3),
            };
            (post.id, post)
        },
    )
    .into_iter()
    .collect();
    let photos: HashMap<i64, Photo> =
        query_keys(db, "SELECT id, url FROM photos WHERE id", &photo_ids, |r| {
            let photo = Photo {
                id: r.int(0),
                url: r.text(1),
            };
            (photo.id, photo)
        })
        .into_iter()
        .collect();
    notes.iter().fold(0, |sum, (id, kind, target)| {
        let target = match kind.as_str() {
            "post" => posts.get(target).map_or(0, |p| p.title.len() as i64),
            _ => photos.get(target).map_or(0, |p| -(p.url.len() as i64)),
        };
        mix(mix(sum, *id), target)
    })
}

fn hand_keyset(db: &Db) -> u64 {
    let users = hand_users(db);
    let rows = query(
        db,
        "SELECT author_id, id FROM (
           SELECT p.author_id, p.id, p.title, ROW_NUMBER() OVER (PARTITION BY p.author_id ORDER BY p.title, p.id) AS n
           FROM posts p, posts c WHERE c.id = 5000 AND (p.title > c.title OR (p.title = c.title AND p.id > c.id))
         ) AS ranked WHERE n <= 3 ORDER BY author_id, n",
        |r| (r.int(0), r.int(1)),
    );
    let lists = group(&users, rows);
    users.iter().zip(&lists).fold(0, |sum, (u, list)| {
        list.iter().fold(mix(sum, u.0), |sum, id| mix(sum, *id))
    })
}

// ------------------------------------------------------ raw access

/// A row of either driver, read by position.
enum RawRow<'a> {
    Sqlite(&'a loader_runtime::rusqlite::Row<'a>),
    Postgres(&'a loader_runtime::tokio_postgres::Row),
}

impl RawRow<'_> {
    fn int(&self, i: usize) -> i64 {
        match self {
            RawRow::Sqlite(row) => row.get(i).unwrap(),
            RawRow::Postgres(row) => row.get(i),
        }
    }
    fn text(&self, i: usize) -> String {
        match self {
            RawRow::Sqlite(row) => row.get(i).unwrap(),
            RawRow::Postgres(row) => row.get(i),
        }
    }
}

fn query<T>(db: &Db, sql: &str, read: impl Fn(&RawRow<'_>) -> T) -> Vec<T> {
    if let Some(conn) = db.sqlite() {
        let mut statement = conn.prepare_cached(sql).unwrap();
        let mut rows = statement.query([]).unwrap();
        let mut out = Vec::new();
        while let Some(row) = rows.next().unwrap() {
            out.push(read(&RawRow::Sqlite(row)));
        }
        return out;
    }
    let client = db.postgres().unwrap();
    // Each statement prepared once per connection and kept, as hand-written
    // code would (preparing it on each run cost a round trip more).
    let statement = KEPT.with(|kept| {
        kept.borrow_mut()
            .entry((db as *const Db as usize, sql.to_owned()))
            .or_insert_with(|| client.prepare(sql).unwrap())
            .clone()
    });
    client
        .query(&statement, &[])
        .unwrap()
        .iter()
        .map(|row| read(&RawRow::Postgres(row)))
        .collect()
}

thread_local! {
    /// The hand-written code's kept PostgreSQL statements, by connection and text.
    static KEPT: std::cell::RefCell<HashMap<(usize, String), loader_runtime::tokio_postgres::Statement>> =
        std::cell::RefCell::new(HashMap::new());
}

/// `sql` (ending in the key column) with the keys bound as one array.
fn query_keys<T>(db: &Db, sql: &str, keys: &[i64], read: impl Fn(&RawRow<'_>) -> T) -> Vec<T> {
    if let Some(conn) = db.sqlite() {
        let values: Vec<Value> = keys.iter().map(|&k| Value::Integer(k)).collect();
        let mut statement = conn
            .prepare_cached(&format!("{sql} IN rarray(?1)"))
            .unwrap();
        let mut rows = statement.query([std::rc::Rc::new(values)]).unwrap();
        let mut out = Vec::new();
        while let Some(row) = rows.next().unwrap() {
            out.push(read(&RawRow::Sqlite(row)));
        }
        return out;
    }
    let client = db.postgres().unwrap();
    client
        .query(&format!("{sql} = ANY($1)"), &[&keys])
        .unwrap()
        .iter()
        .map(|row| read(&RawRow::Postgres(row)))
        .collect()
}

// ------------------------------------------------------ measuring

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "2,000 users → 60,000 comments through their posts",
            library: lib_comments_through,
            by_hand: hand_comments_through,
            hand_statements: 3,
        },
        Case {
            name: "2,000 users → categories through posts (each once)",
            library: lib_categories_through,
            by_hand: hand_categories_through,
            hand_statements: 2,
        },
        Case {
            name: "users with a comment scoring ≥ 99 (EXISTS through posts)",
            library: lib_filter_through,
            by_hand: hand_filter_through,
            hand_statements: 1,
        },
        Case {
            name: "20,000 notes → their post or photo (polymorphic)",
            library: lib_polymorphic,
            by_hand: hand_polymorphic,
            hand_statements: 3,
        },
        Case {
            name: "2,000 users → next 3 posts after a cursor (keyset per parent)",
            library: lib_keyset,
            by_hand: hand_keyset,
            hand_statements: 2,
        },
    ]
}

/// Round trips of one run of `f` on `db`, which talks through `proxy`.
fn round_trips(db: &Db, proxy: &Proxy, f: fn(&Db) -> u64) -> usize {
    proxy.take_round_trips();
    black_box(f(db));
    proxy.take_round_trips()
}

/// `counted`: the same data on a connection through a counting proxy
/// (PostgreSQL), for the round-trip column.
fn run(db: &Db, counted: Option<(&Db, &Proxy)>, label: &str, runs: usize, out: &mut String) {
    out.push_str(&format!(
        "\n### {label}\n\n| case | statements (library / by hand) | round trips (library / by hand) | library | by hand | ratio |\n|---|---|---|---|---|---|\n"
    ));
    for case in cases() {
        db.reset_query_log();
        let checksum = (case.library)(db);
        let statements = db.query_count();
        assert_eq!(
            checksum,
            (case.by_hand)(db),
            "{label}: {}: same result",
            case.name
        );
        let (mut library, mut by_hand) = (Vec::new(), Vec::new());
        for run in 0..runs {
            // Interleaved, alternating which goes first.
            let time = |f: fn(&Db) -> u64, into: &mut Vec<Duration>| {
                let start = Instant::now();
                black_box(f(db));
                into.push(start.elapsed());
            };
            if run % 2 == 0 {
                time(case.library, &mut library);
                time(case.by_hand, &mut by_hand);
            } else {
                time(case.by_hand, &mut by_hand);
                time(case.library, &mut library);
            }
        }
        let (library, by_hand) = (median(library), median(by_hand));
        let trips = match counted {
            Some((db, proxy)) => format!(
                "{} / {}",
                round_trips(db, proxy, case.library),
                round_trips(db, proxy, case.by_hand)
            ),
            None => "—".to_owned(),
        };
        let line = format!(
            "| {} | {} / {} | {trips} | {} | {} | {:.2}× |\n",
            case.name,
            statements,
            case.hand_statements,
            ms(library),
            ms(by_hand),
            library.as_secs_f64() / by_hand.as_secs_f64()
        );
        eprint!("{label}: {line}");
        out.push_str(&line);
    }
}

fn main() {
    if let Some(code) = malloc::run_with_fixed_thresholds() {
        std::process::exit(code);
    }
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let write_docs = args.iter().any(|a| a == "--write-docs");
    let runs = if quick { 5 } else { 15 };
    let mut out = format!(
        "# Relations inside queries against hand-written SQL\n\n\
         `cargo bench --bench relations` ({runs} interleaved runs each, medians; the hand-written code runs on \
         the same connection, decodes the same rows into the same structs and groups them with a \
         `HashMap`; on PostgreSQL it prepares each statement once and keeps it, and sends one statement \
         per round trip, where the library pipelines a wave; each pair's results are checked equal first; glibc's heap-trim and mmap thresholds \
         fixed, as in docs/benchmarks.md). {USERS} users × {POSTS_PER_USER} posts \
         (spread over the table) × {COMMENTS_PER_POST} comments, {CATEGORIES} categories, {PHOTOS} photos, \
         {NOTES} notes half on posts, half on photos.\n"
    );
    let sqlite = Db::open_in_memory().unwrap();
    fill(&sqlite);
    run(&sqlite, None, "SQLite (in memory)", runs, &mut out);
    let url = std::env::var("LOADER_BENCH_POSTGRES")
        .or_else(|_| std::env::var("LOADER_TEST_POSTGRES"))
        .ok();
    match url {
        Some(url) => {
            let db = Db::connect(&url).unwrap();
            db.execute_batch(
                "DROP SCHEMA IF EXISTS loader_bench_relations CASCADE;
                 CREATE SCHEMA loader_bench_relations;
                 SET search_path TO loader_bench_relations;",
            )
            .unwrap();
            fill(&db);
            // The same schema through a proxy that counts round trips (the
            // client speaking after the server answered).
            let parsed: loader_runtime::tokio_postgres::Config = url.parse().unwrap();
            let port = parsed.get_ports().first().copied().unwrap_or(5432);
            let proxy = Proxy::start(&format!("127.0.0.1:{port}"), Duration::ZERO);
            let counted = Db::connect(&format!(
                "postgres://{}@127.0.0.1:{}/{}",
                parsed.get_user().unwrap_or("postgres"),
                proxy.port,
                parsed.get_dbname().unwrap_or("postgres")
            ))
            .unwrap();
            counted
                .execute_batch("SET search_path TO loader_bench_relations")
                .unwrap();
            run(
                &db,
                Some((&counted, &proxy)),
                "PostgreSQL (loopback)",
                runs,
                &mut out,
            );
            drop(counted);
            db.execute_batch("DROP SCHEMA loader_bench_relations CASCADE")
                .unwrap();
        }
        None => eprintln!(
            "no PostgreSQL rows: set LOADER_BENCH_POSTGRES (or LOADER_TEST_POSTGRES) to a connection URL"
        ),
    }
    println!("{out}");
    if write_docs {
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/docs/relations.md"),
            out,
        )
        .unwrap();
    }
}
