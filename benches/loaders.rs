//! Preload against hand-written rusqlite code and the N+1 loop, measured
//! side by side in one process with interleaved runs; prints medians and
//! ratios as a markdown table.
//!
//! `cargo bench --bench loaders` (all sizes), or
//! `cargo bench --bench loaders -- 10000` for chosen parent counts.

use std::collections::HashMap;
use std::hint::black_box;
use std::rc::Rc;
use std::time::{Duration, Instant};

use loader_runtime::rusqlite::types::Value;
use loader_runtime::rusqlite::{self, Connection};
use loader_runtime::{Db, Entity};

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "users")]
#[has_many(Post, fk = "author_id")]
struct User {
    id: i64,
    username: String,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "posts")]
struct Post {
    id: i64,
    author_id: i64,
    title: String,
}

const CHILDREN: i64 = 10;

fn setup(path: &std::path::Path, parents: i64) -> Connection {
    let _ = std::fs::remove_file(path);
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL);
         CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL, title TEXT NOT NULL);",
    )
    .unwrap();
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO users SELECT i, 'user ' || i FROM n",
        [parents],
    )
    .unwrap();
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1 * ?2)
         INSERT INTO posts SELECT i + 1, (i % ?1) + 1, 'post title number ' || (i + 1) FROM n",
        [parents, CHILDREN],
    )
    .unwrap();
    conn.execute_batch("CREATE INDEX posts_author_id ON posts(author_id); ANALYZE;")
        .unwrap();
    conn
}

type Graph = Vec<(User, Vec<Post>)>;

fn checksum(graph: &[(i64, usize, i64)]) -> i64 {
    graph
        .iter()
        .map(|(id, n, last)| id.wrapping_mul(31) ^ (*n as i64) ^ last)
        .fold(0, i64::wrapping_add)
}

fn summary(graph: &Graph) -> i64 {
    let rows: Vec<(i64, usize, i64)> = graph
        .iter()
        .map(|(u, ps)| (u.id, ps.len(), ps.last().map_or(0, |p| p.id)))
        .collect();
    checksum(&rows)
}

fn read_users(conn: &Connection) -> Vec<User> {
    let mut stmt = conn
        .prepare_cached("SELECT id, username FROM users ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| {
        Ok(User {
            id: r.get(0)?,
            username: r.get(1)?,
        })
    })
    .unwrap()
    .collect::<rusqlite::Result<_>>()
    .unwrap()
}

fn post_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<Post> {
    Ok(Post {
        id: r.get(0)?,
        author_id: r.get(1)?,
        title: r.get(2)?,
    })
}

fn group(users: Vec<User>, posts: impl Iterator<Item = Post>) -> Graph {
    let mut by_user: HashMap<i64, Vec<Post>> = HashMap::with_capacity(users.len());
    for post in posts {
        by_user.entry(post.author_id).or_default().push(post);
    }
    users
        .into_iter()
        .map(|u| {
            let posts = by_user.remove(&u.id).unwrap_or_default();
            (u, posts)
        })
        .collect()
}

/// Hand-written: the whole child table in (fk, pk) order, no key set.
fn floor_whole(conn: &Connection) -> i64 {
    let users = read_users(conn);
    let mut stmt = conn
        .prepare_cached("SELECT id, author_id, title FROM posts ORDER BY author_id, id")
        .unwrap();
    let posts: Vec<Post> = stmt
        .query_map([], post_of)
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    summary(&group(users, posts.into_iter()))
}

/// Hand-written: the parents' keys as one `rarray` parameter.
fn floor_rarray(conn: &Connection) -> i64 {
    let users = read_users(conn);
    let keys: Rc<Vec<Value>> = Rc::new(users.iter().map(|u| Value::Integer(u.id)).collect());
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, author_id, title FROM posts WHERE author_id IN rarray(?1) ORDER BY author_id, id",
        )
        .unwrap();
    let posts: Vec<Post> = stmt
        .query_map([keys], post_of)
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    summary(&group(users, posts.into_iter()))
}

/// Hand-written: IN lists of 500 bound parameters.
fn floor_chunks(conn: &Connection) -> i64 {
    const CHUNK: usize = 500;
    let users = read_users(conn);
    let placeholders = vec!["?"; CHUNK].join(", ");
    let full_sql = format!(
        "SELECT id, author_id, title FROM posts WHERE author_id IN ({placeholders}) ORDER BY author_id, id"
    );
    let mut posts = Vec::new();
    for chunk in users.chunks(CHUNK) {
        let sql;
        let sql = if chunk.len() == CHUNK {
            &full_sql
        } else {
            sql = format!(
                "SELECT id, author_id, title FROM posts WHERE author_id IN ({}) ORDER BY author_id, id",
                vec!["?"; chunk.len()].join(", ")
            );
            &sql
        };
        let mut stmt = conn.prepare_cached(sql).unwrap();
        let ids: Vec<i64> = chunk.iter().map(|u| u.id).collect();
        let rows = stmt
            .query_map(rusqlite::params_from_iter(ids), post_of)
            .unwrap();
        for row in rows {
            posts.push(row.unwrap());
        }
    }
    summary(&group(users, posts.into_iter()))
}

fn preload(db: &Db) -> i64 {
    let users = User::query().preload(User::posts()).all(db).unwrap();
    let rows: Vec<(i64, usize, i64)> = users
        .iter()
        .map(|u| (u.id, u.posts().len(), u.posts().last().map_or(0, |p| p.id)))
        .collect();
    checksum(&rows)
}

fn lazy(db: &Db) -> i64 {
    let rows: Vec<(i64, usize, i64)> = User::all(db)
        .unwrap()
        .iter()
        .map(|u| {
            let posts = u.load_posts(db).unwrap();
            (u.id, posts.len(), posts.last().map_or(0, |p| p.id))
        })
        .collect();
    checksum(&rows)
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let sizes: Vec<i64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![100, 1_000, 10_000, 100_000]
    } else {
        sizes
    };
    let dir = std::env::temp_dir().join(format!("loader-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    println!("| parents | variant | median | ratio to floor_whole |");
    println!("|---:|---|---:|---:|");
    for parents in sizes {
        let path = dir.join(format!("bench-{parents}.db"));
        let conn = setup(&path, parents);
        rusqlite::vtab::array::load_module(&conn).unwrap();
        let db = Db::open(&path).unwrap();
        let runs = if parents >= 100_000 { 11 } else { 21 };
        type Variant<'a> = (&'a str, Box<dyn Fn() -> i64 + 'a>);
        let mut variants: Vec<Variant<'_>> = vec![
            ("floor_whole", Box::new(|| floor_whole(&conn))),
            ("floor_rarray", Box::new(|| floor_rarray(&conn))),
            ("floor_chunks", Box::new(|| floor_chunks(&conn))),
            ("preload", Box::new(|| preload(&db))),
        ];
        if parents <= 10_000 {
            variants.push(("lazy", Box::new(|| lazy(&db))));
        }
        let expected = variants[0].1();
        let mut times = vec![Vec::new(); variants.len()];
        for _ in 0..runs {
            for (index, (name, run)) in variants.iter().enumerate() {
                let start = Instant::now();
                let sum = black_box(run());
                times[index].push(start.elapsed());
                assert_eq!(sum, expected, "{name} disagrees");
            }
        }
        let medians: Vec<Duration> = times.iter_mut().map(|t| median(t)).collect();
        for ((name, _), m) in variants.iter().zip(&medians) {
            println!(
                "| {parents} | {name} | {:.2} ms | {:.2} |",
                m.as_secs_f64() * 1e3,
                m.as_secs_f64() / medians[0].as_secs_f64()
            );
        }
        drop(variants);
        let _ = std::fs::remove_file(&path);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
