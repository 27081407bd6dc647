//! The preload against the best hand-written rusqlite code (`floor`), the
//! N+1 loop (`lazy`) and Diesel's idiomatic `belonging_to` + `grouped_by`
//! (`diesel`, a separate process: see `benches/diesel-peer`), measured side
//! by side with interleaved runs; prints medians and ratios as markdown.
//! With `LOADER_BENCH_POSTGRES` (or `LOADER_TEST_POSTGRES`) set to a
//! connection URL, the same on PostgreSQL against a hand-written
//! `postgres`-crate floor (storage `postgres`).
//!
//! ```text
//! cargo bench --bench loaders                 # every shape and size
//! cargo bench --bench loaders -- --quick      # fewer runs, no 100,000
//! cargo bench --bench loaders -- --write-docs # also docs/benchmarks.{md,svg}
//! cargo bench --bench loaders -- --postgres-only
//! ```

use std::collections::HashMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use loader_runtime::postgres_driver as pg;
use loader_runtime::rusqlite::types::Value;
use loader_runtime::rusqlite::{self, Connection};
use loader_runtime::{Db, Entity};

#[derive(Entity, Debug, Clone)]
#[entity(table = "users")]
#[has_many(Post, fk = "author_id")]
struct User {
    id: i64,
    username: String,
}

#[derive(Entity, Debug, Clone)]
#[entity(table = "posts")]
#[belongs_to(User, fk = "author_id", name = "author")]
#[has_many(Comment, fk = "post_id")]
#[many_to_many(Tag, through = "post_tags", fk = "post_id", target_fk = "tag_id")]
struct Post {
    id: i64,
    author_id: i64,
    title: String,
}

#[derive(Entity, Debug, Clone)]
#[entity(table = "comments")]
struct Comment {
    id: i64,
    post_id: i64,
    body: String,
}

#[derive(Entity, Debug, Clone)]
#[entity(table = "tags")]
struct Tag {
    id: i64,
    name: String,
}

fn mix(sum: u64, value: i64) -> u64 {
    sum.wrapping_mul(1_000_003).wrapping_add(value as u64)
}

// ---------------------------------------------------------------- data

#[derive(Clone, Copy, Debug, PartialEq)]
enum Shape {
    /// `parents` users × 10 posts: users with their posts.
    HasMany,
    /// `parents` posts (10 per user): posts with their author.
    BelongsTo,
    /// `parents` users × 10 posts × 3 comments, three levels.
    Nested,
    /// `parents` posts × 3 of 50 tags through a join table.
    ManyToMany,
}

impl Shape {
    fn name(self) -> &'static str {
        match self {
            Shape::HasMany => "has_many",
            Shape::BelongsTo => "belongs_to",
            Shape::Nested => "nested",
            Shape::ManyToMany => "many_to_many",
        }
    }

    fn describe(self, parents: i64) -> String {
        match self {
            Shape::HasMany => format!("{parents} users × 10 posts"),
            Shape::BelongsTo => format!("{parents} posts → {} users", parents / 10),
            Shape::Nested => format!("{parents} users × 10 posts × 3 comments"),
            Shape::ManyToMany => format!("{parents} posts × 3 of 50 tags"),
        }
    }

    fn statements(self) -> usize {
        match self {
            Shape::Nested => 3,
            _ => 2,
        }
    }
}

const SCHEMA: &str = "
    CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL);
    CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL, title TEXT NOT NULL);
    CREATE TABLE comments (id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL, body TEXT NOT NULL);
    CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    CREATE TABLE post_tags (post_id INTEGER NOT NULL, tag_id INTEGER NOT NULL, PRIMARY KEY (post_id, tag_id));
";

fn fill(conn: &Connection, shape: Shape, parents: i64) {
    conn.execute_batch(SCHEMA).unwrap();
    let users = match shape {
        Shape::HasMany | Shape::Nested => parents,
        Shape::BelongsTo | Shape::ManyToMany => (parents / 10).max(1),
    };
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO users SELECT i, 'user number ' || i FROM n",
        [users],
    )
    .unwrap();
    // Post ids interleave authors, as real data does.
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1 * 10)
         INSERT INTO posts SELECT i + 1, (i % ?1) + 1, 'post title number ' || (i + 1) FROM n",
        [users],
    )
    .unwrap();
    if shape == Shape::Nested {
        conn.execute_batch(
            "INSERT INTO comments SELECT (p.id - 1) * 3 + k.k, p.id, 'comment body ' || k.k
             FROM posts p, (SELECT 1 AS k UNION ALL SELECT 2 UNION ALL SELECT 3) k;",
        )
        .unwrap();
    }
    if shape == Shape::ManyToMany {
        conn.execute_batch(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50)
             INSERT INTO tags SELECT i, 'tag ' || i FROM n;
             INSERT INTO post_tags SELECT p.id, 1 + (p.id * k.k * 7) % 50 FROM posts p,
                 (SELECT 1 AS k UNION ALL SELECT 2 UNION ALL SELECT 3) k WHERE 1 ON CONFLICT DO NOTHING;",
        )
        .unwrap();
    }
    conn.execute_batch(
        "CREATE INDEX posts_author_id ON posts(author_id);
         CREATE INDEX comments_post_id ON comments(post_id);
         CREATE INDEX post_tags_tag_id ON post_tags(tag_id);
         ANALYZE;",
    )
    .unwrap();
}

fn database(dir: &Path, shape: Shape, parents: i64) -> PathBuf {
    let path = dir.join(format!("{}-{parents}.db", shape.name()));
    let _ = std::fs::remove_file(&path);
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA journal_mode = WAL;").unwrap();
    fill(&conn, shape, parents);
    path
}

// ---------------------------------------------------------- hand-written

fn user_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        username: r.get(1)?,
    })
}
fn post_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<Post> {
    Ok(Post {
        id: r.get(0)?,
        author_id: r.get(1)?,
        title: r.get(2)?,
    })
}
fn comment_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<Comment> {
    Ok(Comment {
        id: r.get(0)?,
        post_id: r.get(1)?,
        body: r.get(2)?,
    })
}

fn all<T>(
    conn: &Connection,
    sql: &str,
    read: fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Vec<T> {
    let mut statement = conn.prepare_cached(sql).unwrap();
    statement
        .query_map([], read)
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Groups children (read in parent-key order) into a map of vectors.
fn group<T>(children: Vec<T>, key: fn(&T) -> i64) -> HashMap<i64, Vec<T>> {
    let mut map: HashMap<i64, Vec<T>> = HashMap::new();
    for child in children {
        map.entry(key(&child)).or_default().push(child);
    }
    map
}

/// Users with their posts, grouped by hand with a HashMap; the checksum of
/// the graph.
fn users_with_posts(users: Vec<User>, posts: Vec<Post>) -> u64 {
    let mut by_user = group(posts, |p| p.author_id);
    let graph: Vec<(User, Vec<Post>)> = users
        .into_iter()
        .map(|u| {
            let posts = by_user.remove(&u.id).unwrap_or_default();
            (u, posts)
        })
        .collect();
    graph.iter().fold(0, |sum, (u, posts)| {
        posts.iter().fold(mix(sum, u.id), |sum, p| mix(sum, p.id))
    })
}

/// Posts with their authors, each author shared through an `Arc`; the
/// checksum of the graph.
fn posts_with_authors(posts: Vec<Post>, authors: impl Iterator<Item = User>) -> u64 {
    let users: HashMap<i64, Arc<User>> = authors.map(|u| (u.id, Arc::new(u))).collect();
    let graph: Vec<(Post, Arc<User>)> = posts
        .into_iter()
        .map(|p| {
            let author = Arc::clone(&users[&p.author_id]);
            (p, author)
        })
        .collect();
    graph
        .iter()
        .fold(0, |sum, (p, u)| mix(mix(sum, p.id), u.id))
}

/// Users × posts by the fastest hand-written code found: both tables read
/// in primary-key order (a rowid table's own order: no index walk, no
/// sort), each post's user found with one hash lookup, and the posts
/// grouped by a counting sort into one buffer, so each user's posts are a
/// slice in key order.
fn best_floor_has_many(conn: &Connection) -> u64 {
    let (users, posts) = users_and_posts(conn);
    counting_sort_graph(users, posts)
}

/// Users and posts, each read and decoded in primary-key order.
fn users_and_posts(conn: &Connection) -> (Vec<User>, Vec<Post>) {
    let users = all(conn, "SELECT id, username FROM users ORDER BY id", user_of);
    let posts = all(
        conn,
        "SELECT id, author_id, title FROM posts ORDER BY id",
        post_of,
    );
    (users, posts)
}

/// The checksum of what was decoded, ungrouped.
fn decoded_checksum(users: &[User], posts: &[Post]) -> u64 {
    let sum = users.iter().fold(0, |sum, u| mix(sum, u.id));
    posts.iter().fold(sum, |sum, p| mix(sum, p.id))
}

/// Posts in key order grouped under their users by a counting sort into
/// one buffer; the checksum of the graph.
fn counting_sort_graph(users: Vec<User>, posts: Vec<Post>) -> u64 {
    let user_ids: Vec<i64> = users.iter().map(|u| u.id).collect();
    let (grouped, ranges) = counting_groups(&user_ids, posts, |p| p.author_id);
    users.iter().zip(&ranges).fold(0, |sum, (u, &(from, to))| {
        grouped[from..to]
            .iter()
            .fold(mix(sum, u.id), |sum, p| mix(sum, p.id))
    })
}

/// `children` grouped under `parents` (by key) by a counting sort into one
/// buffer, keeping their order within each parent: the buffer and each
/// parent's range. Children of no parent are dropped.
fn counting_groups<T>(
    parents: &[i64],
    children: Vec<T>,
    parent_of: impl Fn(&T) -> i64,
) -> (Vec<T>, Vec<(usize, usize)>) {
    let index: HashMap<i64, usize> = parents.iter().enumerate().map(|(i, &k)| (k, i)).collect();
    let owner: Vec<Option<usize>> = children
        .iter()
        .map(|c| index.get(&parent_of(c)).copied())
        .collect();
    let mut start = vec![0usize; parents.len() + 1];
    for &o in owner.iter().flatten() {
        start[o + 1] += 1;
    }
    for i in 0..parents.len() {
        start[i + 1] += start[i];
    }
    let ranges: Vec<(usize, usize)> = (0..parents.len())
        .map(|i| (start[i], start[i + 1]))
        .collect();
    let mut slots: Vec<Option<T>> = (0..start[parents.len()]).map(|_| None).collect();
    for (child, o) in children.into_iter().zip(owner) {
        if let Some(o) = o {
            slots[start[o]] = Some(child);
            start[o] += 1;
        }
    }
    (slots.into_iter().flatten().collect(), ranges)
}

/// Posts × tags by the fastest code found: posts in key order, the tags
/// once (each shared), the join table alone in its own key order (a
/// covering index), grouped by a counting sort. One statement more than
/// the library's join.
fn best_floor_many_to_many(conn: &Connection) -> u64 {
    let posts = all(
        conn,
        "SELECT id, author_id, title FROM posts ORDER BY id",
        post_of,
    );
    let tags: HashMap<i64, Arc<Tag>> = all(conn, "SELECT id, name FROM tags ORDER BY id", |r| {
        Ok(Tag {
            id: r.get(0)?,
            name: r.get(1)?,
        })
    })
    .into_iter()
    .map(|tag| (tag.id, Arc::new(tag)))
    .collect();
    let links: Vec<(i64, Arc<Tag>)> = all(
        conn,
        "SELECT post_id, tag_id FROM post_tags ORDER BY post_id, tag_id",
        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
    )
    .into_iter()
    .filter_map(|(post, tag)| tags.get(&tag).map(|tag| (post, Arc::clone(tag))))
    .collect();
    let post_ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
    let (links, ranges) = counting_groups(&post_ids, links, |link| link.0);
    posts.iter().zip(&ranges).fold(0, |sum, (p, &(from, to))| {
        links[from..to]
            .iter()
            .fold(mix(sum, p.id), |sum, (_, t)| mix(sum, t.id))
    })
}

/// Users → posts → comments by the fastest code found: the three tables in
/// key order, two counting sorts.
fn best_floor_nested(conn: &Connection) -> u64 {
    let (users, posts) = users_and_posts(conn);
    let comments = all(
        conn,
        "SELECT id, post_id, body FROM comments ORDER BY id",
        comment_of,
    );
    let user_ids: Vec<i64> = users.iter().map(|u| u.id).collect();
    let (posts, post_ranges) = counting_groups(&user_ids, posts, |p| p.author_id);
    let post_ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
    let (comments, comment_ranges) = counting_groups(&post_ids, comments, |c| c.post_id);
    users
        .iter()
        .zip(&post_ranges)
        .fold(0, |sum, (u, &(from, to))| {
            (from..to).fold(mix(sum, u.id), |sum, post| {
                let (first, last) = comment_ranges[post];
                comments[first..last]
                    .iter()
                    .fold(mix(sum, posts[post].id), |sum, c| mix(sum, c.id))
            })
        })
}

/// The physical limit of users × posts: both tables read and decoded, no
/// grouping (its checksum differs from the others').
fn decode_only_has_many(conn: &Connection) -> u64 {
    let (users, posts) = users_and_posts(conn);
    decoded_checksum(&users, &posts)
}

/// The old floor: the library's former strategy written by hand (children
/// `ORDER BY` foreign key, grouped with a HashMap), kept as `floor` to
/// compare with earlier runs; `best floor` is the fastest hand-written
/// code where one was written.
fn floor(conn: &Connection, shape: Shape) -> u64 {
    match shape {
        Shape::HasMany => {
            let users = all(conn, "SELECT id, username FROM users ORDER BY id", user_of);
            let posts = all(
                conn,
                "SELECT id, author_id, title FROM posts ORDER BY author_id, id",
                post_of,
            );
            users_with_posts(users, posts)
        }
        Shape::BelongsTo => {
            let posts = all(
                conn,
                "SELECT id, author_id, title FROM posts ORDER BY id",
                post_of,
            );
            let mut ids: Vec<i64> = posts.iter().map(|p| p.author_id).collect();
            ids.sort_unstable();
            ids.dedup();
            let keys: Rc<Vec<Value>> = Rc::new(ids.into_iter().map(Value::Integer).collect());
            let mut statement = conn
                .prepare_cached("SELECT id, username FROM users WHERE id IN rarray(?1)")
                .unwrap();
            let users = statement.query_map([keys], user_of).unwrap();
            posts_with_authors(posts, users.map(Result::unwrap))
        }
        Shape::Nested => {
            let users = all(conn, "SELECT id, username FROM users ORDER BY id", user_of);
            let posts = all(
                conn,
                "SELECT id, author_id, title FROM posts ORDER BY author_id, id",
                post_of,
            );
            let comments = all(
                conn,
                "SELECT id, post_id, body FROM comments ORDER BY post_id, id",
                comment_of,
            );
            let mut by_post = group(comments, |c| c.post_id);
            let mut by_user: HashMap<i64, Vec<(Post, Vec<Comment>)>> = HashMap::new();
            for post in posts {
                let comments = by_post.remove(&post.id).unwrap_or_default();
                by_user
                    .entry(post.author_id)
                    .or_default()
                    .push((post, comments));
            }
            type PostWithComments = (Post, Vec<Comment>);
            let graph: Vec<(User, Vec<PostWithComments>)> = users
                .into_iter()
                .map(|u| {
                    let posts = by_user.remove(&u.id).unwrap_or_default();
                    (u, posts)
                })
                .collect();
            graph.iter().fold(0, |sum, (u, posts)| {
                posts.iter().fold(mix(sum, u.id), |sum, (p, comments)| {
                    comments
                        .iter()
                        .fold(mix(sum, p.id), |sum, c| mix(sum, c.id))
                })
            })
        }
        Shape::ManyToMany => {
            let posts = all(
                conn,
                "SELECT id, author_id, title FROM posts ORDER BY id",
                post_of,
            );
            let mut statement = conn
                .prepare_cached(
                    "SELECT pt.post_id, t.id, t.name FROM tags t JOIN post_tags pt ON pt.tag_id = t.id
                     ORDER BY pt.post_id, t.id",
                )
                .unwrap();
            // Each tag decoded once and shared, as the loader does.
            let mut tags: HashMap<i64, Arc<Tag>> = HashMap::new();
            let mut by_post: HashMap<i64, Vec<Arc<Tag>>> = HashMap::new();
            let mut rows = statement.query([]).unwrap();
            while let Some(row) = rows.next().unwrap() {
                let post: i64 = row.get(0).unwrap();
                let id: i64 = row.get(1).unwrap();
                let tag = tags
                    .entry(id)
                    .or_insert_with(|| {
                        Arc::new(Tag {
                            id,
                            name: row.get(2).unwrap(),
                        })
                    })
                    .clone();
                by_post.entry(post).or_default().push(tag);
            }
            let graph: Vec<(Post, Vec<Arc<Tag>>)> = posts
                .into_iter()
                .map(|p| {
                    let tags = by_post.remove(&p.id).unwrap_or_default();
                    (p, tags)
                })
                .collect();
            graph.iter().fold(0, |sum, (p, tags)| {
                tags.iter().fold(mix(sum, p.id), |sum, t| mix(sum, t.id))
            })
        }
    }
}

// --------------------------------------------------------------- ours

fn preload(db: &Db, shape: Shape) -> u64 {
    match shape {
        Shape::HasMany => User::query()
            .preload(User::posts())
            .all(db)
            .unwrap()
            .iter()
            .fold(0, |sum, u| {
                u.posts()
                    .iter()
                    .fold(mix(sum, u.id), |sum, p| mix(sum, p.id))
            }),
        Shape::BelongsTo => Post::query()
            .preload(Post::author())
            .all(db)
            .unwrap()
            .iter()
            .fold(0, |sum, p| mix(mix(sum, p.id), p.author().id)),
        Shape::Nested => User::query()
            .preload(User::posts().preload(Post::comments()))
            .all(db)
            .unwrap()
            .iter()
            .fold(0, |sum, u| {
                u.posts().iter().fold(mix(sum, u.id), |sum, p| {
                    p.comments()
                        .iter()
                        .fold(mix(sum, p.id), |sum, c| mix(sum, c.id))
                })
            }),
        Shape::ManyToMany => Post::query()
            .preload(Post::tags())
            .all(db)
            .unwrap()
            .iter()
            .fold(0, |sum, p| {
                p.tags()
                    .iter()
                    .fold(mix(sum, p.id), |sum, t| mix(sum, t.id))
            }),
    }
}

fn lazy(db: &Db, shape: Shape) -> u64 {
    let mut sum = 0;
    match shape {
        Shape::HasMany | Shape::Nested => {
            for u in User::all(db).unwrap() {
                sum = mix(sum, u.id);
                for p in u.load_posts(db).unwrap() {
                    sum = mix(sum, p.id);
                    if shape == Shape::Nested {
                        for c in p.load_comments(db).unwrap() {
                            sum = mix(sum, c.id);
                        }
                    }
                }
            }
        }
        Shape::BelongsTo => {
            for p in Post::all(db).unwrap() {
                sum = mix(mix(sum, p.id), p.load_author(db).unwrap().id);
            }
        }
        Shape::ManyToMany => {
            for p in Post::all(db).unwrap() {
                sum = mix(sum, p.id);
                for t in p.load_tags(db).unwrap() {
                    sum = mix(sum, t.id);
                }
            }
        }
    }
    sum
}

/// The preload with a `tracing` subscriber listening at `DEBUG`, writing
/// to nowhere: the cost of the instrumentation when it is on.
fn preload_traced(db: &Db, shape: Shape) -> u64 {
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(std::io::sink)
        .finish();
    tracing::subscriber::with_default(subscriber, || preload(db, shape))
}

// -------------------------------------------------------------- Diesel

fn diesel_peer() -> Option<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/diesel-peer/Cargo.toml");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(&manifest)
        .status()
        .ok()?;
    let binary = manifest.with_file_name("target/release/diesel-peer");
    (status.success() && binary.exists()).then_some(binary)
}

enum Outcome {
    Ran {
        elapsed: Duration,
        sum: u64,
        peak_kb: u64,
    },
    Failed(String),
}

fn run_diesel(binary: &Path, shape: Shape, db: &Path) -> Outcome {
    let output = match Command::new(binary).arg(shape.name()).arg(db).output() {
        Ok(output) => output,
        Err(error) => return Outcome::Failed(error.to_string()),
    };
    let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if let Some(message) = text.strip_prefix("error ") {
        return Outcome::Failed(message.to_owned());
    }
    let fields: Vec<u64> = text
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    match fields.as_slice() {
        [nanos, sum, peak_kb] => Outcome::Ran {
            elapsed: Duration::from_nanos(*nanos),
            sum: *sum,
            peak_kb: *peak_kb,
        },
        _ => Outcome::Failed(format!("unexpected output {text:?}")),
    }
}

// -------------------------------------------------------------- memory

fn peak_memory_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .and_then(|line| line.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Child mode: `--memory <variant> <shape> <db>` runs one variant once in a
/// fresh process and prints its peak resident memory.
fn memory_child(variant: &str, shape: &str, path: &str) {
    let shape = [
        Shape::HasMany,
        Shape::BelongsTo,
        Shape::Nested,
        Shape::ManyToMany,
    ]
    .into_iter()
    .find(|s| s.name() == shape)
    .unwrap();
    let sum = match variant {
        "floor" => {
            let conn = Connection::open(path).unwrap();
            rusqlite::vtab::array::load_module(&conn).unwrap();
            floor(&conn, shape)
        }
        "best floor" => best_floor_has_many(&Connection::open(path).unwrap()),
        _ => preload(&Db::open(path).unwrap(), shape),
    };
    println!("{} {sum}", peak_memory_kb());
}

fn child_memory(variant: &str, shape: Shape, path: &Path) -> u64 {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--memory", variant, shape.name()])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()
        .and_then(|kb| kb.parse().ok())
        .unwrap_or(0)
}

// ---------------------------------------------------------- PostgreSQL

/// The server the PostgreSQL rows run against: `LOADER_BENCH_POSTGRES`, or
/// the test suite's `LOADER_TEST_POSTGRES`; no rows without either.
fn postgres_url() -> Option<String> {
    std::env::var("LOADER_BENCH_POSTGRES")
        .or_else(|_| std::env::var("LOADER_TEST_POSTGRES"))
        .ok()
}

/// The same data as [`fill`] in schema `loader_bench`, with 64-bit keys.
fn fill_postgres(client: &mut pg::Client, shape: Shape, parents: i64) {
    let users = match shape {
        Shape::BelongsTo => (parents / 10).max(1),
        _ => parents,
    };
    client
        .batch_execute(
            "SET client_min_messages = warning;
             DROP SCHEMA IF EXISTS loader_bench CASCADE;
             CREATE SCHEMA loader_bench;
             SET search_path TO loader_bench;
             CREATE TABLE users (id BIGINT PRIMARY KEY, username TEXT NOT NULL);
             CREATE TABLE posts (id BIGINT PRIMARY KEY, author_id BIGINT NOT NULL, title TEXT NOT NULL);",
        )
        .unwrap();
    client
        .execute(
            "INSERT INTO users SELECT i, 'user number ' || i FROM generate_series(1, $1::int8) AS i",
            &[&users],
        )
        .unwrap();
    client
        .execute(
            "INSERT INTO posts SELECT i + 1, (i % $1::int8) + 1, 'post title number ' || (i + 1)
             FROM generate_series(0, $1::int8 * 10 - 1) AS i",
            &[&users],
        )
        .unwrap();
    client
        .batch_execute("CREATE INDEX posts_author_id ON posts(author_id)")
        .unwrap();
    // Vacuumed now, so that autovacuum does not wake up on the fresh tables
    // in the middle of the runs (VACUUM cannot share a batch).
    client.batch_execute("VACUUM ANALYZE users").unwrap();
    client.batch_execute("VACUUM ANALYZE posts").unwrap();
}

fn pg_user(r: &pg::Row) -> User {
    User {
        id: r.get(0),
        username: r.get(1),
    }
}

fn pg_post(r: &pg::Row) -> Post {
    Post {
        id: r.get(0),
        author_id: r.get(1),
        title: r.get(2),
    }
}

/// The best hand-written `postgres`-crate code: prepared statements (kept
/// across runs, as a hand-written loader would), no key set when the
/// parents are the whole table, else one `int8[]` parameter.
struct PostgresFloor {
    client: pg::Client,
    statements: HashMap<&'static str, pg::Statement>,
}

impl PostgresFloor {
    fn query(
        &mut self,
        sql: &'static str,
        params: &[&(dyn pg::types::ToSql + Sync)],
    ) -> Vec<pg::Row> {
        let statement = match self.statements.get(sql) {
            Some(statement) => statement.clone(),
            None => {
                let statement = self.client.prepare(sql).unwrap();
                self.statements.insert(sql, statement.clone());
                statement
            }
        };
        self.client.query(&statement, params).unwrap()
    }

    /// Users and posts, each read and decoded in primary-key order.
    fn users_and_posts(&mut self) -> (Vec<User>, Vec<Post>) {
        let users: Vec<User> = self
            .query("SELECT id, username FROM users ORDER BY id", &[])
            .iter()
            .map(pg_user)
            .collect();
        let posts: Vec<Post> = self
            .query("SELECT id, author_id, title FROM posts ORDER BY id", &[])
            .iter()
            .map(pg_post)
            .collect();
        (users, posts)
    }

    /// Users × posts by the fastest code found (see `best_floor_has_many`).
    fn best_has_many(&mut self) -> u64 {
        let (users, posts) = self.users_and_posts();
        counting_sort_graph(users, posts)
    }

    /// Both tables read and decoded, no grouping.
    fn decode_only_has_many(&mut self) -> u64 {
        let (users, posts) = self.users_and_posts();
        decoded_checksum(&users, &posts)
    }

    fn run(&mut self, shape: Shape) -> u64 {
        match shape {
            Shape::BelongsTo => {
                let posts: Vec<Post> = self
                    .query("SELECT id, author_id, title FROM posts ORDER BY id", &[])
                    .iter()
                    .map(pg_post)
                    .collect();
                let mut ids: Vec<i64> = posts.iter().map(|p| p.author_id).collect();
                ids.sort_unstable();
                ids.dedup();
                // Prepared afresh each time, like the library's key-set
                // statements: a kept one may get a generic plan.
                let statement = self
                    .client
                    .prepare("SELECT id, username FROM users WHERE id = ANY($1)")
                    .unwrap();
                let users = self.client.query(&statement, &[&ids]).unwrap();
                posts_with_authors(posts, users.iter().map(pg_user))
            }
            _ => {
                let users: Vec<User> = self
                    .query("SELECT id, username FROM users ORDER BY id", &[])
                    .iter()
                    .map(pg_user)
                    .collect();
                let posts: Vec<Post> = self
                    .query(
                        "SELECT id, author_id, title FROM posts ORDER BY author_id, id",
                        &[],
                    )
                    .iter()
                    .map(pg_post)
                    .collect();
                users_with_posts(users, posts)
            }
        }
    }
}

/// floor, preload and (up to 10,000 parents) lazy on PostgreSQL over
/// loopback, interleaved, each checked against the floor's checksum.
fn measure_postgres(url: &str, shape: Shape, parents: i64, runs: usize) -> Vec<Row> {
    let mut client = pg::Client::connect(url, pg::NoTls).unwrap();
    fill_postgres(&mut client, shape, parents);
    let floor = std::cell::RefCell::new(PostgresFloor {
        client,
        statements: HashMap::new(),
    });
    let db = Db::connect(url).unwrap();
    db.execute_batch("SET search_path TO loader_bench").unwrap();
    type Variant<'a> = (&'static str, Box<dyn Fn() -> u64 + 'a>);
    let mut variants: Vec<Variant<'_>> = vec![
        ("floor", Box::new(|| floor.borrow_mut().run(shape))),
        ("preload", Box::new(|| preload(&db, shape))),
    ];
    if shape == Shape::HasMany {
        variants.push((
            "best floor",
            Box::new(|| floor.borrow_mut().best_has_many()),
        ));
        variants.push((
            "decode only",
            Box::new(|| floor.borrow_mut().decode_only_has_many()),
        ));
    }
    if parents <= 10_000 {
        variants.push(("lazy", Box::new(|| lazy(&db, shape))));
    }
    let expected = floor.borrow_mut().run(shape);
    db.reset_query_log();
    assert_eq!(
        preload(&db, shape),
        expected,
        "preload disagrees with floor"
    );
    let statements = db.query_count();
    let mut times = vec![Vec::new(); variants.len()];
    for _ in 0..runs {
        for (index, (name, run)) in variants.iter().enumerate() {
            let start = Instant::now();
            let sum = black_box(run());
            times[index].push(start.elapsed());
            if *name == "decode only" {
                continue;
            }
            assert_eq!(sum, expected, "{name} disagrees with floor on PostgreSQL");
        }
    }
    variants
        .iter()
        .zip(times)
        .map(|((name, _), times)| Row {
            shape,
            parents,
            storage: "postgres",
            variant: (*name).to_owned(),
            median: Some(median(times)),
            note: String::new(),
            statements: match *name {
                "floor" | "best floor" | "decode only" => Some(shape.statements()),
                "lazy" => None,
                _ => Some(statements),
            },
        })
        .collect()
}

// --------------------------------------------------------------- runner

struct Row {
    shape: Shape,
    parents: i64,
    storage: &'static str,
    variant: String,
    median: Option<Duration>,
    note: String,
    statements: Option<usize>,
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn measure(
    shape: Shape,
    parents: i64,
    storage: &'static str,
    path: &Path,
    in_memory: bool,
    runs: usize,
    diesel: Option<&Path>,
) -> Vec<Row> {
    let (conn, db) = if in_memory {
        let conn = Connection::open_in_memory().unwrap();
        fill(&conn, shape, parents);
        let db = Db::from_connection({
            let copy = Connection::open_in_memory().unwrap();
            fill(&copy, shape, parents);
            copy
        })
        .unwrap();
        (conn, db)
    } else {
        (Connection::open(path).unwrap(), Db::open(path).unwrap())
    };
    rusqlite::vtab::array::load_module(&conn).unwrap();
    type Variant<'a> = (&'static str, Box<dyn Fn() -> u64 + 'a>);
    let mut variants: Vec<Variant<'_>> = vec![
        ("floor", Box::new(|| floor(&conn, shape))),
        ("preload", Box::new(|| preload(&db, shape))),
    ];
    if shape == Shape::HasMany {
        variants.push(("best floor", Box::new(|| best_floor_has_many(&conn))));
        variants.push(("decode only", Box::new(|| decode_only_has_many(&conn))));
    }
    if shape == Shape::Nested {
        variants.push(("best floor", Box::new(|| best_floor_nested(&conn))));
    }
    if shape == Shape::ManyToMany {
        variants.push(("best floor", Box::new(|| best_floor_many_to_many(&conn))));
    }
    if parents <= 10_000 {
        variants.push(("lazy", Box::new(|| lazy(&db, shape))));
    }
    if shape == Shape::HasMany && parents == 10_000 {
        variants.push((
            "preload, tracing on",
            Box::new(|| preload_traced(&db, shape)),
        ));
    }
    let expected = floor(&conn, shape);
    db.reset_query_log();
    preload(&db, shape);
    let statements = db.query_count();

    let use_diesel = diesel.filter(|_| !in_memory);
    let mut times = vec![Vec::new(); variants.len()];
    let mut diesel_times = Vec::new();
    let mut diesel_note = String::new();
    for _ in 0..runs {
        for (index, (name, run)) in variants.iter().enumerate() {
            let start = Instant::now();
            let sum = black_box(run());
            times[index].push(start.elapsed());
            if *name == "decode only" {
                continue;
            }
            assert_eq!(
                sum,
                expected,
                "{name} disagrees with floor on {}",
                shape.name()
            );
        }
        if let Some(binary) = use_diesel
            && diesel_note.is_empty()
        {
            match run_diesel(binary, shape, path) {
                Outcome::Ran { elapsed, sum, .. } => {
                    assert_eq!(
                        sum,
                        expected,
                        "diesel disagrees with floor on {}",
                        shape.name()
                    );
                    diesel_times.push(elapsed);
                }
                Outcome::Failed(message) => diesel_note = format!("fails: {message}"),
            }
        }
    }
    let mut rows: Vec<Row> = variants
        .iter()
        .zip(times)
        .map(|((name, _), times)| Row {
            shape,
            parents,
            storage,
            variant: (*name).to_owned(),
            median: Some(median(times)),
            note: String::new(),
            statements: match *name {
                "best floor" if shape == Shape::ManyToMany => Some(3),
                "floor" | "best floor" | "decode only" => Some(shape.statements()),
                "lazy" => None,
                _ => Some(statements),
            },
        })
        .collect();
    if use_diesel.is_some() {
        rows.push(Row {
            shape,
            parents,
            storage,
            variant: "diesel".into(),
            median: (!diesel_times.is_empty()).then(|| median(diesel_times)),
            note: diesel_note,
            statements: Some(shape.statements()),
        });
    }
    rows
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, variant, shape, path] = args.as_slice()
        && flag == "--memory"
    {
        memory_child(variant, shape, path);
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    // `--shape belongs_to` runs one shape (at the sizes of a full run).
    let only: Option<&str> = args
        .iter()
        .position(|a| a == "--shape")
        .and_then(|i| args.get(i + 1))
        .map(String::as_str);
    let wanted = |shape: Shape| only.is_none_or(|name| name == shape.name());
    let write_docs = args.iter().any(|a| a == "--write-docs");
    // `--postgres-only` skips the SQLite and Diesel rows.
    let postgres_only = args.iter().any(|a| a == "--postgres-only");
    let on_sqlite = |shape: Shape| !postgres_only && wanted(shape);
    let sizes: Vec<i64> = if quick {
        vec![100, 1_000, 10_000]
    } else {
        vec![100, 1_000, 10_000, 100_000]
    };
    let runs = |parents: i64| match (quick, parents) {
        (true, _) => 5,
        (false, p) if p >= 100_000 => 7,
        _ => 15,
    };
    let dir = std::env::temp_dir().join(format!("loader-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let diesel = if postgres_only {
        None
    } else {
        eprintln!("building the Diesel peer...");
        let diesel = diesel_peer();
        if diesel.is_none() {
            eprintln!("the Diesel peer did not build; its column is left out");
        }
        diesel
    };

    let mut rows = Vec::new();
    let mut memory = Vec::new();
    for &parents in sizes.iter().filter(|_| on_sqlite(Shape::HasMany)) {
        eprintln!("has_many, {parents} parents");
        let path = database(&dir, Shape::HasMany, parents);
        rows.extend(measure(
            Shape::HasMany,
            parents,
            "file",
            &path,
            false,
            runs(parents),
            diesel.as_deref(),
        ));
        if parents >= 10_000 {
            let floor = child_memory("best floor", Shape::HasMany, &path);
            let ours = child_memory("preload", Shape::HasMany, &path);
            let theirs = diesel.as_deref().and_then(|binary| {
                match run_diesel(binary, Shape::HasMany, &path) {
                    Outcome::Ran { peak_kb, .. } => Some(peak_kb),
                    Outcome::Failed(_) => None,
                }
            });
            memory.push((parents, floor, ours, theirs));
        }
        let _ = std::fs::remove_file(&path);
    }
    if on_sqlite(Shape::HasMany) {
        eprintln!("has_many in memory, 10000 parents");
        rows.extend(measure(
            Shape::HasMany,
            10_000,
            "memory",
            &dir,
            true,
            runs(10_000),
            None,
        ));
    }
    for (shape, parents) in [
        (Shape::BelongsTo, 100_000),
        (Shape::Nested, 10_000),
        (Shape::ManyToMany, 10_000),
    ] {
        if !on_sqlite(shape) {
            continue;
        }
        let parents = if quick { parents / 10 } else { parents };
        eprintln!("{}, {parents}", shape.name());
        let path = database(&dir, shape, parents);
        rows.extend(measure(
            shape,
            parents,
            "file",
            &path,
            false,
            runs(parents),
            diesel.as_deref(),
        ));
        let _ = std::fs::remove_file(&path);
    }
    let _ = std::fs::remove_dir_all(&dir);

    match postgres_url() {
        Some(url) => {
            for (shape, parents) in [
                (Shape::HasMany, 1_000),
                (Shape::HasMany, 10_000),
                (Shape::BelongsTo, 100_000),
            ] {
                if !wanted(shape) {
                    continue;
                }
                let parents = if quick && parents > 10_000 {
                    parents / 10
                } else {
                    parents
                };
                eprintln!("{} on PostgreSQL, {parents}", shape.name());
                // More runs than on SQLite: the server shares the machine's
                // two cores with the client, and single runs vary more.
                let runs = if quick { 5 } else { runs(parents) * 2 + 1 };
                rows.extend(measure_postgres(&url, shape, parents, runs));
            }
        }
        None => eprintln!(
            "no PostgreSQL rows: set LOADER_BENCH_POSTGRES (or LOADER_TEST_POSTGRES) to a connection URL"
        ),
    }

    let table = markdown(&rows, &memory);
    println!("{table}");
    if write_docs {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::write(docs.join("benchmarks.md"), document(&table)).unwrap();
        plot(&rows, &docs.join("benchmarks.svg"));
        eprintln!("wrote docs/benchmarks.md and docs/benchmarks.svg");
    }
}

fn markdown(rows: &[Row], memory: &[(i64, u64, u64, Option<u64>)]) -> String {
    let mut out = String::from(
        "| shape | storage | variant | median | × floor | statements | preload speed-up vs lazy |\n|---|---|---|---:|---:|---:|---:|\n",
    );
    for row in rows {
        let same =
            |r: &&Row| r.shape == row.shape && r.parents == row.parents && r.storage == row.storage;
        // Ratios to the best floor where one was written.
        let floor = rows
            .iter()
            .filter(same)
            .find(|r| r.variant == "best floor")
            .or_else(|| rows.iter().filter(same).find(|r| r.variant == "floor"))
            .and_then(|r| r.median);
        let lazy = rows
            .iter()
            .filter(same)
            .find(|r| r.variant == "lazy")
            .and_then(|r| r.median);
        let (time, ratio) = match (row.median, floor) {
            (Some(m), Some(f)) => (
                format!("{:.2} ms", m.as_secs_f64() * 1e3),
                format!("{:.2}", m.as_secs_f64() / f.as_secs_f64()),
            ),
            _ => ("—".into(), row.note.clone()),
        };
        let speedup = match (row.variant.as_str(), row.median, lazy) {
            ("preload", Some(m), Some(l)) => format!("{:.1}×", l.as_secs_f64() / m.as_secs_f64()),
            _ => String::new(),
        };
        let statements = row.statements.map_or("1 + N".into(), |s| s.to_string());
        out.push_str(&format!(
            "| {} | {} | {} | {time} | {ratio} | {statements} | {speedup} |\n",
            row.shape.describe(row.parents),
            row.storage,
            row.variant,
        ));
    }
    out.push_str(
        "\nPeak resident memory (VmHWM) of a process that runs one load of users × 10 posts:\n\n",
    );
    out.push_str(
        "| parents | best floor | preload | × best floor | diesel |\n|---:|---:|---:|---:|---:|\n",
    );
    for (parents, floor, ours, theirs) in memory {
        out.push_str(&format!(
            "| {parents} | {:.1} MB | {:.1} MB | {:.2} | {} |\n",
            *floor as f64 / 1024.0,
            *ours as f64 / 1024.0,
            *ours as f64 / (*floor).max(1) as f64,
            theirs.map_or("fails".into(), |kb| format!("{:.1} MB", kb as f64 / 1024.0)),
        ));
    }
    out
}

fn document(table: &str) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "# Benchmarks\n\n\
         Regenerate with `cargo bench --bench loaders -- --write-docs` (about ten minutes; `--quick` for a\n\
         smaller run). Each variant runs interleaved with the others in one process (Diesel in its own\n\
         process, timed inside it, after a warm-up run) on the same SQLite file (WAL) or in-memory\n\
         database; the table gives medians. Every variant checksums its graph and must agree with `floor`\n\
         (but `decode only`). `× floor` is the ratio to `best floor` where the shape has one, else to `floor`.\n\n\
         - `best floor` (users × posts): the fastest hand-written code found for the same graph: both tables read\n\
           in primary-key order (a rowid table's own order: no index walk, no sort), each child's parent found\n\
           with one hash lookup, children grouped by a counting sort into one buffer (a slice per parent, in key\n\
           order).\n\
         - `decode only` (users × posts): both tables read and decoded, nothing grouped: the physical limit.\n\
         - `floor`: the former floor, the library's earlier strategy written by hand: prepared statements, no\n\
           key set when the parents are the whole table (else one `rarray` parameter), children read in\n\
           foreign-key order and grouped with a HashMap.\n\
         - `preload`: `User::query().preload(User::posts())` and the like.\n\
         - `lazy`: the lazy accessor in a loop (the N+1 path), up to 10,000 parents.\n\
         - `diesel`: Diesel 2.3 `belonging_to(&parents)` + `grouped_by` (`benches/diesel-peer`).\n\
         - `preload, tracing on`: the preload with a `tracing` subscriber listening at DEBUG.\n\
         - storage `postgres`: PostgreSQL over TCP loopback (64-bit keys, `posts(author_id)` indexed); its `floor`\n\
           is hand-written `postgres`-crate code (kept prepared statements, a fresh one for the key array).\n\n\
         Machine: {cpu}, {cores} cores (shared, so ratios are more telling than absolute times).\n\n\
         ![time per parent](benchmarks.svg)\n\n{table}"
    )
}

fn plot(rows: &[Row], path: &Path) {
    use plotters::prelude::*;
    let root = SVGBackend::new(path, (720, 440)).into_drawing_area();
    root.fill(&WHITE).unwrap();
    let series: Vec<(&str, RGBColor)> = vec![
        ("floor", BLACK),
        ("preload", BLUE),
        ("lazy", RED),
        ("diesel", GREEN),
    ];
    let points = |variant: &str| -> Vec<(f64, f64)> {
        rows.iter()
            .filter(|r| r.shape == Shape::HasMany && r.storage == "file" && r.variant == variant)
            .filter_map(|r| {
                r.median
                    .map(|m| (r.parents as f64, m.as_secs_f64() * 1e6 / r.parents as f64))
            })
            .collect()
    };
    let all: Vec<(f64, f64)> = series.iter().flat_map(|(name, _)| points(name)).collect();
    let (y_min, y_max) = all.iter().fold((f64::MAX, f64::MIN), |(lo, hi), (_, y)| {
        (lo.min(*y), hi.max(*y))
    });
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "users × 10 posts (SQLite file): time per parent",
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(
            (80.0f64..130_000.0).log_scale(),
            ((y_min * 0.7)..(y_max * 1.4)).log_scale(),
        )
        .unwrap();
    chart
        .configure_mesh()
        .x_desc("parents")
        .y_desc("µs per parent")
        .draw()
        .unwrap();
    for (name, color) in series {
        let data = points(name);
        if data.is_empty() {
            continue;
        }
        chart
            .draw_series(LineSeries::new(data.clone(), color.stroke_width(2)))
            .unwrap()
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
        chart
            .draw_series(data.into_iter().map(|p| Circle::new(p, 3, color.filled())))
            .unwrap();
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()
        .unwrap();
    root.present().unwrap();
}
