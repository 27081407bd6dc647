//! The preload against hand-written code for the same graph, measured
//! side by side with interleaved runs: `decode only` (the rows read and
//! decoded, nothing grouped: the physical limit), every `best floor, ...`
//! candidate for the fastest code, `floor` (the library's former strategy
//! by hand), the N+1 loop (`lazy`) and Diesel's idiomatic `belonging_to` +
//! `grouped_by` (`diesel`, a separate process: see `benches/diesel-peer`);
//! prints medians and paired ratios as markdown. Five cases (users × posts, the
//! same for half the users, posts → author, three levels, posts × tags) at
//! 1,000, 10,000 and 100,000 roots, on a SQLite file and, with
//! `LOADER_BENCH_POSTGRES` (or `LOADER_TEST_POSTGRES`) set to a connection
//! URL, on PostgreSQL against hand-written `postgres`-crate code.
//!
//! ```text
//! cargo bench --bench loaders                 # every case and size (about 10 minutes)
//! cargo bench --bench loaders -- --quick      # 5 runs, no 100,000
//! cargo bench --bench loaders -- --write-docs # also docs/benchmarks.{md,svg}
//! cargo bench --bench loaders -- --postgres-only
//! cargo bench --bench loaders -- --shape has_many_half
//! # for a sampling profiler: only the preload, repeated
//! target/release/deps/loaders-... --profile has_many 100000 40 [--floor | --postgres [--async]]
//! ```

#[path = "common/malloc.rs"]
mod malloc;
#[path = "common/pin.rs"]
mod pin;
#[path = "common/plot.rs"]
mod plot;
#[path = "../tests/common/proxy.rs"]
#[allow(dead_code)]
mod proxy;

use std::collections::HashMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use loader_runtime::AsyncDb;
use loader_runtime::rusqlite::types::Value;
use loader_runtime::rusqlite::{self, Connection};
use loader_runtime::{Db, Entity};
use postgres as pg;

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
    /// The same tables, half the users as roots (`id <= parents / 2`): the
    /// keyed statements of filtered roots.
    HasManyHalf,
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
            Shape::HasManyHalf => "has_many_half",
            Shape::BelongsTo => "belongs_to",
            Shape::Nested => "nested",
            Shape::ManyToMany => "many_to_many",
        }
    }

    fn describe(self, parents: i64) -> String {
        match self {
            Shape::HasMany => format!("{parents} users × 10 posts"),
            Shape::HasManyHalf => format!("{} of {parents} users × 10 posts", parents / 2),
            Shape::BelongsTo => format!("{parents} posts → {} users", parents / 10),
            Shape::Nested => format!("{parents} users × 10 posts × 3 comments"),
            Shape::ManyToMany => format!("{parents} posts × 3 of 50 tags"),
        }
    }

    /// The case without its size, for the plot's panels.
    fn title(self) -> &'static str {
        match self {
            Shape::HasMany => "users × 10 posts (has_many)",
            Shape::HasManyHalf => "half the users × 10 posts (filtered roots)",
            Shape::BelongsTo => "posts → their author (belongs_to)",
            Shape::Nested => "users → posts → comments (3 levels)",
            Shape::ManyToMany => "posts × 3 of 50 tags (many_to_many)",
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
        Shape::HasMany | Shape::HasManyHalf | Shape::Nested => parents,
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

/// Each parent with its children taken from `by_parent`.
fn attach<P, C>(
    parents: Vec<P>,
    key: fn(&P) -> i64,
    mut by_parent: HashMap<i64, Vec<C>>,
) -> Vec<(P, Vec<C>)> {
    parents
        .into_iter()
        .map(|parent| {
            let children = by_parent.remove(&key(&parent)).unwrap_or_default();
            (parent, children)
        })
        .collect()
}

/// Users with their posts, grouped by hand with a HashMap; the checksum of
/// the graph.
fn users_with_posts(users: Vec<User>, posts: Vec<Post>) -> u64 {
    let graph = attach(users, |u| u.id, group(posts, |p| p.author_id));
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
    let tags = all(conn, "SELECT id, name FROM tags ORDER BY id", tag_of);
    let links = all(
        conn,
        "SELECT post_id, tag_id FROM post_tags ORDER BY post_id, tag_id",
        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
    );
    posts_with_tags(&posts, tags, links)
}

/// Posts with their tags from (post, tag) links: the tags shared, the
/// links grouped by a counting sort; the checksum of the graph.
fn posts_with_tags(posts: &[Post], tags: Vec<Tag>, links: Vec<(i64, i64)>) -> u64 {
    let tags: HashMap<i64, Arc<Tag>> = tags.into_iter().map(|t| (t.id, Arc::new(t))).collect();
    let links: Vec<(i64, Arc<Tag>)> = links
        .into_iter()
        .filter_map(|(post, tag)| tags.get(&tag).map(|tag| (post, Arc::clone(tag))))
        .collect();
    shared_links_graph(posts, links)
}

/// Posts with (post, shared tag) links grouped by a counting sort.
fn shared_links_graph(posts: &[Post], links: Vec<(i64, Arc<Tag>)>) -> u64 {
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
    nested_graph(users, posts, comments)
}

/// Users → posts → comments (each in key order) by two counting sorts; the
/// checksum of the graph.
fn nested_graph(users: Vec<User>, posts: Vec<Post>, comments: Vec<Comment>) -> u64 {
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

/// The former floor's grouping of users → posts → comments (children in
/// foreign-key order, HashMaps); the checksum of the graph.
fn nested_by_hash(users: Vec<User>, posts: Vec<Post>, comments: Vec<Comment>) -> u64 {
    let mut by_post = group(comments, |c| c.post_id);
    let mut by_user: HashMap<i64, Vec<(Post, Vec<Comment>)>> = HashMap::new();
    for post in posts {
        let comments = by_post.remove(&post.id).unwrap_or_default();
        by_user
            .entry(post.author_id)
            .or_default()
            .push((post, comments));
    }
    let graph = attach(users, |u| u.id, by_user);
    graph.iter().fold(0, |sum, (u, posts)| {
        posts.iter().fold(mix(sum, u.id), |sum, (p, comments)| {
            comments
                .iter()
                .fold(mix(sum, p.id), |sum, c| mix(sum, c.id))
        })
    })
}

/// The former floor's grouping of posts with their (post, shared tag)
/// links: a HashMap of vectors; the checksum of the graph.
fn tags_by_hash(posts: Vec<Post>, links: Vec<(i64, Arc<Tag>)>) -> u64 {
    let mut by_post: HashMap<i64, Vec<Arc<Tag>>> = HashMap::new();
    for (post, tag) in links {
        by_post.entry(post).or_default().push(tag);
    }
    let graph = attach(posts, |p| p.id, by_post);
    graph.iter().fold(0, |sum, (p, tags)| {
        tags.iter().fold(mix(sum, p.id), |sum, t| mix(sum, t.id))
    })
}

/// The (post, tag) pairs of the join in post order, each tag decoded once
/// and shared, as the loader does.
fn joined_tags(conn: &Connection) -> Vec<(i64, Arc<Tag>)> {
    let mut statement = conn
        .prepare_cached(
            "SELECT pt.post_id, t.id, t.name FROM tags t JOIN post_tags pt ON pt.tag_id = t.id
             ORDER BY pt.post_id, t.id",
        )
        .unwrap();
    let mut tags: HashMap<i64, Arc<Tag>> = HashMap::new();
    let mut links: Vec<(i64, Arc<Tag>)> = Vec::new();
    let mut rows = statement.query([]).unwrap();
    while let Some(row) = rows.next().unwrap() {
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
        links.push((row.get(0).unwrap(), tag));
    }
    links
}

/// The rows of `sql` with one parameter.
fn all_with<T, P: rusqlite::ToSql>(
    conn: &Connection,
    sql: &str,
    param: P,
    read: fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Vec<T> {
    let mut statement = conn.prepare_cached(sql).unwrap();
    statement
        .query_map([param], read)
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn tag_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<Tag> {
    Ok(Tag {
        id: r.get(0)?,
        name: r.get(1)?,
    })
}

/// Posts with shared authors found by hash; the checksum of the graph.
fn posts_with_shared_authors(posts: &[Post], users: Vec<User>) -> u64 {
    let users: HashMap<i64, Arc<User>> = users.into_iter().map(|u| (u.id, Arc::new(u))).collect();
    let graph: Vec<(&Post, Arc<User>)> = posts
        .iter()
        .map(|p| (p, Arc::clone(&users[&p.author_id])))
        .collect();
    graph
        .iter()
        .fold(0, |sum, (p, u)| mix(mix(sum, p.id), u.id))
}

type Variant<'a> = (&'static str, Box<dyn Fn() -> u64 + 'a>);

/// The hand-written variants of a shape on SQLite: `floor` (the library's
/// former strategy), each candidate for the fastest code (`best floor,
/// ...`; the table compares with the fastest of them and `floor`), and
/// `decode only` (the same rows read and decoded, nothing grouped).
fn sqlite_hand_written(conn: &Connection, shape: Shape, parents: i64) -> Vec<Variant<'_>> {
    let half = parents / 2;
    let mut variants: Vec<Variant<'_>> =
        vec![("floor", Box::new(move || floor(conn, shape, parents)))];
    match shape {
        Shape::HasMany => {
            variants.push(("best floor", Box::new(|| best_floor_has_many(conn))));
            variants.push(("decode only", Box::new(|| decode_only_has_many(conn))));
        }
        Shape::HasManyHalf => {
            let users = move || {
                all_with(
                    conn,
                    "SELECT id, username FROM users WHERE id <= ?1 ORDER BY id",
                    half,
                    user_of,
                )
            };
            // The keys bound as one array, the posts in key order.
            let keyed = move || {
                let users = users();
                let keys = Rc::new(
                    users
                        .iter()
                        .map(|u| Value::Integer(u.id))
                        .collect::<Vec<_>>(),
                );
                let posts = all_with(
                    conn,
                    "SELECT id, author_id, title FROM posts WHERE author_id IN rarray(?1) ORDER BY id",
                    keys,
                    post_of,
                );
                (users, posts)
            };
            // The roots' condition repeated in a subquery: no keys sent.
            let subquery = move || {
                let users = users();
                let posts = all_with(
                    conn,
                    "SELECT id, author_id, title FROM posts
                     WHERE author_id IN (SELECT id FROM users WHERE id <= ?1) ORDER BY id",
                    half,
                    post_of,
                );
                (users, posts)
            };
            variants.push((
                "best floor, keys",
                Box::new(move || {
                    let (users, posts) = keyed();
                    counting_sort_graph(users, posts)
                }),
            ));
            variants.push((
                "best floor, subquery",
                Box::new(move || {
                    let (users, posts) = subquery();
                    counting_sort_graph(users, posts)
                }),
            ));
            variants.push((
                "decode only",
                Box::new(move || {
                    let (users, posts) = subquery();
                    decoded_checksum(&users, &posts)
                }),
            ));
        }
        Shape::BelongsTo => {
            let read = move || {
                let posts = all(
                    conn,
                    "SELECT id, author_id, title FROM posts ORDER BY id",
                    post_of,
                );
                let users = all(
                    conn,
                    "SELECT id, username FROM users WHERE id IN (SELECT author_id FROM posts) ORDER BY id",
                    user_of,
                );
                (posts, users)
            };
            variants.push((
                "best floor, subquery",
                Box::new(move || {
                    let (posts, users) = read();
                    posts_with_shared_authors(&posts, users)
                }),
            ));
            variants.push((
                "decode only",
                Box::new(move || {
                    let (posts, users) = read();
                    let sum = posts.iter().fold(0, |sum, p| mix(sum, p.id));
                    users.iter().fold(sum, |sum, u| mix(sum, u.id))
                }),
            ));
        }
        Shape::Nested => {
            variants.push(("best floor", Box::new(|| best_floor_nested(conn))));
            variants.push((
                "decode only",
                Box::new(|| {
                    let (users, posts) = users_and_posts(conn);
                    let comments = all(
                        conn,
                        "SELECT id, post_id, body FROM comments ORDER BY id",
                        comment_of,
                    );
                    comments
                        .iter()
                        .fold(decoded_checksum(&users, &posts), |sum, c| mix(sum, c.id))
                }),
            ));
        }
        Shape::ManyToMany => {
            let posts = move || {
                all(
                    conn,
                    "SELECT id, author_id, title FROM posts ORDER BY id",
                    post_of,
                )
            };
            let links = move || {
                all(
                    conn,
                    "SELECT post_id, tag_id FROM post_tags ORDER BY post_id, tag_id",
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
                )
            };
            variants.push((
                "best floor, 3 statements",
                Box::new(|| best_floor_many_to_many(conn)),
            ));
            variants.push((
                "best floor, join",
                Box::new(move || {
                    let posts = posts();
                    // Each tag decoded once: its key read first.
                    let links = joined_tags(conn);
                    shared_links_graph(&posts, links)
                }),
            ));
            variants.push((
                "decode only",
                Box::new(move || {
                    let posts = posts();
                    let links = links();
                    let tags = all(conn, "SELECT id, name FROM tags ORDER BY id", tag_of);
                    let sum = posts.iter().fold(0, |sum, p| mix(sum, p.id));
                    let sum = links.iter().fold(sum, |sum, l| mix(sum, l.1));
                    tags.iter().fold(sum, |sum, t| mix(sum, t.id))
                }),
            ));
        }
    }
    with_snapshot(conn, shape, variants)
}

/// `variants` and `hand-written, one snapshot`: the case's usual fastest
/// of them inside `BEGIN` ... `COMMIT` (cached statements, as the
/// library's), so that its statements read one snapshot as the library's
/// do. Not a floor candidate: it shows what that guarantee costs.
fn with_snapshot<'c>(
    conn: &'c Connection,
    shape: Shape,
    mut variants: Vec<Variant<'c>>,
) -> Vec<Variant<'c>> {
    let fastest = match shape {
        Shape::HasMany | Shape::Nested => "best floor",
        Shape::HasManyHalf | Shape::BelongsTo => "floor",
        Shape::ManyToMany => "best floor, 3 statements",
    };
    let Some(index) = variants.iter().position(|(name, _)| *name == fastest) else {
        return variants;
    };
    let run = std::rc::Rc::new(variants.remove(index).1);
    let again = std::rc::Rc::clone(&run);
    variants.insert(index, (fastest, Box::new(move || again())));
    variants.push((
        SNAPSHOT,
        Box::new(move || {
            conn.prepare_cached("BEGIN").unwrap().execute([]).unwrap();
            let sum = run();
            conn.prepare_cached("COMMIT").unwrap().execute([]).unwrap();
            sum
        }),
    ));
    variants
}

/// The old floor: the library's former strategy written by hand (children
/// `ORDER BY` foreign key, grouped with a HashMap), kept as `floor` to
/// compare with earlier runs; `best floor` is the fastest hand-written
/// code where one was written.
fn floor(conn: &Connection, shape: Shape, parents: i64) -> u64 {
    match shape {
        Shape::HasManyHalf => {
            let mut statement = conn
                .prepare_cached("SELECT id, username FROM users WHERE id <= ?1 ORDER BY id")
                .unwrap();
            let users: Vec<User> = statement
                .query_map([parents / 2], user_of)
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let keys = Rc::new(
                users
                    .iter()
                    .map(|u| Value::Integer(u.id))
                    .collect::<Vec<_>>(),
            );
            let mut statement = conn
                .prepare_cached(
                    "SELECT id, author_id, title FROM posts WHERE author_id IN rarray(?1)
                     ORDER BY author_id, id",
                )
                .unwrap();
            let posts: Vec<Post> = statement
                .query_map([keys], post_of)
                .unwrap()
                .map(Result::unwrap)
                .collect();
            users_with_posts(users, posts)
        }
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
            nested_by_hash(users, posts, comments)
        }
        Shape::ManyToMany => {
            let posts = all(
                conn,
                "SELECT id, author_id, title FROM posts ORDER BY id",
                post_of,
            );
            let links = joined_tags(conn);
            tags_by_hash(posts, links)
        }
    }
}

// --------------------------------------------------------------- ours

/// The preload of each shape, its query run by `$run` (sync or async),
/// checksummed.
macro_rules! preload_shape {
    ($shape:expr, $parents:expr, |$query:ident| $run:expr) => {
        match $shape {
            Shape::HasMany | Shape::HasManyHalf => {
                let mut roots = User::query();
                if $shape == Shape::HasManyHalf {
                    roots = roots.filter(|u| u.id.le($parents / 2));
                }
                let $query = roots.preload(User::posts());
                $run.iter().fold(0, |sum, u| {
                    u.posts()
                        .iter()
                        .fold(mix(sum, u.id), |sum, p| mix(sum, p.id))
                })
            }
            Shape::BelongsTo => {
                let $query = Post::query().preload(Post::author());
                $run.iter()
                    .fold(0, |sum, p| mix(mix(sum, p.id), p.author().id))
            }
            Shape::Nested => {
                let $query = User::query().preload(User::posts().preload(Post::comments()));
                $run.iter().fold(0, |sum, u| {
                    u.posts().iter().fold(mix(sum, u.id), |sum, p| {
                        p.comments()
                            .iter()
                            .fold(mix(sum, p.id), |sum, c| mix(sum, c.id))
                    })
                })
            }
            Shape::ManyToMany => {
                let $query = Post::query().preload(Post::tags());
                $run.iter().fold(0, |sum, p| {
                    p.tags()
                        .iter()
                        .fold(mix(sum, p.id), |sum, t| mix(sum, t.id))
                })
            }
        }
    };
}

fn preload(db: &Db, shape: Shape, parents: i64) -> u64 {
    preload_shape!(shape, parents, |query| query.all(db).unwrap())
}

/// The same on the async API, on a runtime of the bench's.
fn preload_async(
    db: &AsyncDb,
    runtime: &tokio::runtime::Runtime,
    shape: Shape,
    parents: i64,
) -> u64 {
    preload_shape!(shape, parents, |query| runtime
        .block_on(query.all(db))
        .unwrap())
}

fn lazy(db: &Db, shape: Shape, parents: i64) -> u64 {
    let mut sum = 0;
    match shape {
        Shape::HasManyHalf => {
            for u in User::query()
                .filter(|u| u.id.le(parents / 2))
                .all(db)
                .unwrap()
            {
                sum = mix(sum, u.id);
                for p in u.load_posts(db).unwrap() {
                    sum = mix(sum, p.id);
                }
            }
        }
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
fn preload_traced(db: &Db, shape: Shape, parents: i64) -> u64 {
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(std::io::sink)
        .finish();
    tracing::subscriber::with_default(subscriber, || preload(db, shape, parents))
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
fn shape_named(name: &str) -> Shape {
    [
        Shape::HasMany,
        Shape::HasManyHalf,
        Shape::BelongsTo,
        Shape::Nested,
        Shape::ManyToMany,
    ]
    .into_iter()
    .find(|s| s.name() == name)
    .unwrap_or_else(|| panic!("no shape named {name}"))
}

fn memory_child(variant: &str, shape: &str, path: &str) {
    let shape = shape_named(shape);
    let sum = match variant {
        "floor" => {
            let conn = Connection::open(path).unwrap();
            rusqlite::vtab::array::load_module(&conn).unwrap();
            floor(&conn, shape, 0)
        }
        "best floor" => best_floor_has_many(&Connection::open(path).unwrap()),
        _ => preload(&Db::open(path).unwrap(), shape, 0),
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
        Shape::BelongsTo | Shape::ManyToMany => (parents / 10).max(1),
        _ => parents,
    };
    client
        .batch_execute(
            "SET client_min_messages = warning;
             DROP SCHEMA IF EXISTS loader_bench CASCADE;
             CREATE SCHEMA loader_bench;
             SET search_path TO loader_bench;
             CREATE TABLE users (id BIGINT PRIMARY KEY, username TEXT NOT NULL);
             CREATE TABLE posts (id BIGINT PRIMARY KEY, author_id BIGINT NOT NULL, title TEXT NOT NULL);
             CREATE TABLE comments (id BIGINT PRIMARY KEY, post_id BIGINT NOT NULL, body TEXT NOT NULL);
             CREATE TABLE tags (id BIGINT PRIMARY KEY, name TEXT NOT NULL);
             CREATE TABLE post_tags (post_id BIGINT NOT NULL, tag_id BIGINT NOT NULL, PRIMARY KEY (post_id, tag_id));",
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
    if shape == Shape::Nested {
        client
            .batch_execute(
                "INSERT INTO comments SELECT (p.id - 1) * 3 + k, p.id, 'comment body ' || k
                 FROM posts p, generate_series(1, 3) AS k",
            )
            .unwrap();
    }
    if shape == Shape::ManyToMany {
        client
            .batch_execute(
                "INSERT INTO tags SELECT i, 'tag ' || i FROM generate_series(1, 50) AS i;
                 INSERT INTO post_tags SELECT p.id, 1 + (p.id * k * 7) % 50 FROM posts p,
                     generate_series(1, 3) AS k ON CONFLICT DO NOTHING;",
            )
            .unwrap();
    }
    client
        .batch_execute(
            "CREATE INDEX posts_author_id ON posts(author_id);
             CREATE INDEX comments_post_id ON comments(post_id);
             CREATE INDEX post_tags_tag_id ON post_tags(tag_id);",
        )
        .unwrap();
    // Vacuumed now, so that autovacuum does not wake up on the fresh tables
    // in the middle of the runs (VACUUM cannot share a batch).
    for table in ["users", "posts", "comments", "tags", "post_tags"] {
        client
            .batch_execute(&format!("VACUUM ANALYZE {table}"))
            .unwrap();
    }
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

fn pg_comment(r: &pg::Row) -> Comment {
    Comment {
        id: r.get(0),
        post_id: r.get(1),
        body: r.get(2),
    }
}

fn pg_tag(r: &pg::Row) -> Tag {
    Tag {
        id: r.get(0),
        name: r.get(1),
    }
}

/// Hand-written `postgres`-crate code: prepared statements kept across runs
/// (as a hand-written loader would), except those binding a key array,
/// prepared afresh each time like the library's (a kept one may get a
/// generic plan; see ../shared/PERFORMANCE.md).
/// The hand-written variant that reads one snapshot.
const SNAPSHOT: &str = "hand-written, one snapshot";

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

    fn keyed(&mut self, sql: &str, keys: &Vec<i64>) -> Vec<pg::Row> {
        let statement = self.client.prepare(sql).unwrap();
        self.client.query(&statement, &[keys]).unwrap()
    }

    fn users(&mut self) -> Vec<User> {
        let rows = self.query("SELECT id, username FROM users ORDER BY id", &[]);
        rows.iter().map(pg_user).collect()
    }

    fn posts(&mut self, sql: &'static str) -> Vec<Post> {
        self.query(sql, &[]).iter().map(pg_post).collect()
    }

    fn half_users(&mut self, half: i64) -> Vec<User> {
        let rows = self.query(
            "SELECT id, username FROM users WHERE id <= $1 ORDER BY id",
            &[&half],
        );
        rows.iter().map(pg_user).collect()
    }

    fn comments(&mut self, sql: &'static str) -> Vec<Comment> {
        self.query(sql, &[]).iter().map(pg_comment).collect()
    }

    /// The hand-written variants of a shape, as for SQLite
    /// ([`sqlite_hand_written`]).
    fn names(shape: Shape) -> &'static [&'static str] {
        match shape {
            Shape::HasMany => &["floor", "best floor"],
            Shape::HasManyHalf => &["floor", "best floor, keys", "best floor, subquery"],
            Shape::BelongsTo => &["floor", "best floor, subquery"],
            Shape::Nested => &["floor", "best floor"],
            Shape::ManyToMany => &["floor", "best floor, 3 statements", "best floor, join"],
        }
    }

    /// The usual fastest hand-written strategy of `shape`, inside a
    /// `REPEATABLE READ, READ ONLY` transaction: every statement reads one
    /// snapshot, as the library's do, for two more round trips.
    fn in_snapshot(&mut self, shape: Shape, parents: i64) -> u64 {
        let variant = match shape {
            Shape::HasMany | Shape::Nested => "best floor",
            Shape::HasManyHalf => "best floor, keys",
            Shape::BelongsTo => "best floor, subquery",
            Shape::ManyToMany => "best floor, 3 statements",
        };
        self.client
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .unwrap();
        let sum = self.run(shape, parents, variant);
        self.client.batch_execute("COMMIT").unwrap();
        sum
    }

    fn run(&mut self, shape: Shape, parents: i64, variant: &str) -> u64 {
        if variant == SNAPSHOT {
            return self.in_snapshot(shape, parents);
        }
        const POSTS: &str = "SELECT id, author_id, title FROM posts ORDER BY id";
        const POSTS_BY_AUTHOR: &str =
            "SELECT id, author_id, title FROM posts ORDER BY author_id, id";
        let half = parents / 2;
        match (shape, variant) {
            (Shape::HasMany, "floor") => {
                let users = self.users();
                let posts = self.posts(POSTS_BY_AUTHOR);
                users_with_posts(users, posts)
            }
            (Shape::HasMany, _) => {
                let users = self.users();
                let posts = self.posts(POSTS);
                counting_sort_graph(users, posts)
            }
            (Shape::HasManyHalf, "floor" | "best floor, keys") => {
                let users = self.half_users(half);
                let keys: Vec<i64> = users.iter().map(|u| u.id).collect();
                if variant == "floor" {
                    let rows = self.keyed(
                        "SELECT id, author_id, title FROM posts WHERE author_id = ANY($1)
                         ORDER BY author_id, id",
                        &keys,
                    );
                    users_with_posts(users, rows.iter().map(pg_post).collect())
                } else {
                    let rows = self.keyed(
                        "SELECT id, author_id, title FROM posts WHERE author_id = ANY($1) ORDER BY id",
                        &keys,
                    );
                    counting_sort_graph(users, rows.iter().map(pg_post).collect())
                }
            }
            (Shape::HasManyHalf, _) => {
                let users = self.half_users(half);
                let rows = self.query(
                    "SELECT id, author_id, title FROM posts
                     WHERE author_id IN (SELECT id FROM users WHERE id <= $1) ORDER BY id",
                    &[&half],
                );
                counting_sort_graph(users, rows.iter().map(pg_post).collect())
            }
            (Shape::BelongsTo, "floor") => {
                let posts = self.posts(POSTS);
                let mut ids: Vec<i64> = posts.iter().map(|p| p.author_id).collect();
                ids.sort_unstable();
                ids.dedup();
                let users = self.keyed("SELECT id, username FROM users WHERE id = ANY($1)", &ids);
                posts_with_authors(posts, users.iter().map(pg_user))
            }
            (Shape::BelongsTo, _) => {
                let posts = self.posts(POSTS);
                let rows = self.query(
                    "SELECT id, username FROM users WHERE id IN (SELECT author_id FROM posts) ORDER BY id",
                    &[],
                );
                posts_with_shared_authors(&posts, rows.iter().map(pg_user).collect())
            }
            (Shape::Nested, "floor") => {
                let users = self.users();
                let posts = self.posts(POSTS_BY_AUTHOR);
                let comments =
                    self.comments("SELECT id, post_id, body FROM comments ORDER BY post_id, id");
                nested_by_hash(users, posts, comments)
            }
            (Shape::Nested, _) => {
                let users = self.users();
                let posts = self.posts(POSTS);
                let comments = self.comments("SELECT id, post_id, body FROM comments ORDER BY id");
                nested_graph(users, posts, comments)
            }
            (Shape::ManyToMany, "floor" | "best floor, join") => {
                let posts = self.posts(POSTS);
                let rows = self.query(
                    "SELECT pt.post_id, t.id, t.name FROM tags t JOIN post_tags pt ON pt.tag_id = t.id
                     ORDER BY pt.post_id, t.id",
                    &[],
                );
                let mut tags: HashMap<i64, Arc<Tag>> = HashMap::new();
                let links: Vec<(i64, Arc<Tag>)> = rows
                    .iter()
                    .map(|row| {
                        let id: i64 = row.get(1);
                        let tag = tags
                            .entry(id)
                            .or_insert_with(|| {
                                Arc::new(Tag {
                                    id,
                                    name: row.get(2),
                                })
                            })
                            .clone();
                        (row.get::<_, i64>(0), tag)
                    })
                    .collect();
                if variant == "floor" {
                    tags_by_hash(posts, links)
                } else {
                    shared_links_graph(&posts, links)
                }
            }
            (Shape::ManyToMany, _) => {
                let posts = self.posts(POSTS);
                let tags: Vec<Tag> = self
                    .query("SELECT id, name FROM tags ORDER BY id", &[])
                    .iter()
                    .map(pg_tag)
                    .collect();
                let links: Vec<(i64, i64)> = self
                    .query(
                        "SELECT post_id, tag_id FROM post_tags ORDER BY post_id, tag_id",
                        &[],
                    )
                    .iter()
                    .map(|r| (r.get(0), r.get(1)))
                    .collect();
                posts_with_tags(&posts, tags, links)
            }
        }
    }
}

/// The hand-written variant on tokio-postgres (PostgreSQL only).
const PIPELINED: &str = "best floor, pipelined";
/// The same client's keyed variant (filtered roots, posts → author): the
/// keys of the rows read first bound as one array, rows decoded as they
/// arrive.
const STREAMED_KEYS: &str = "best floor, keys, streamed";

/// The best floor's statements written by hand on tokio-postgres, every
/// statement of a load sent before any reply is read (they are
/// independent: whole tables, or the roots' condition repeated in a
/// subquery), so a load is one round trip, and each row decoded as it
/// arrives: the fastest hand-written code an async service could run, and
/// the strictest reference for the library's pipelined loads.
struct PipelinedFloor {
    client: loader_runtime::tokio_postgres::Client,
    statements: HashMap<&'static str, loader_runtime::tokio_postgres::Statement>,
}

type PgParams<'a> = &'a [&'a (dyn pg::types::ToSql + Sync)];

impl PipelinedFloor {
    /// Connects on `runtime` (whose thread drives the connection while the
    /// bench waits).
    fn connect(runtime: &tokio::runtime::Runtime, url: &str) -> Self {
        runtime.block_on(async {
            let (client, connection) =
                loader_runtime::tokio_postgres::connect(url, loader_runtime::tokio_postgres::NoTls)
                    .await
                    .unwrap();
            tokio::spawn(connection);
            client
                .batch_execute("SET search_path TO loader_bench")
                .await
                .unwrap();
            PipelinedFloor {
                client,
                statements: HashMap::new(),
            }
        })
    }

    /// Prepares each of `sqls` once and keeps it.
    async fn prepare(&mut self, sqls: &[&'static str]) {
        for sql in sqls {
            if !self.statements.contains_key(sql) {
                let statement = self.client.prepare(sql).await.unwrap();
                self.statements.insert(sql, statement);
            }
        }
    }

    /// Runs the kept statement `sql` and decodes each row with `decode` as
    /// it arrives (the rows of a pipelined load are decoded while the
    /// server still sends the rest).
    async fn streamed<T>(
        &self,
        sql: &'static str,
        params: PgParams<'_>,
        decode: impl Fn(&pg::Row) -> T,
    ) -> Vec<T> {
        let stream = self
            .client
            .query_raw(&self.statements[sql], params.iter().copied())
            .await
            .unwrap();
        decode_stream(stream, decode).await
    }

    /// One load of `shape`: the graph's checksum, or with `decode_only`
    /// the checksum of the rows decoded, nothing grouped or linked.
    /// Runs `sql` unnamed with `keys` bound as one `BIGINT[]` (planned for
    /// these keys, as the library plans a large key set), decoding each
    /// row as it arrives.
    async fn streamed_keyed<T>(
        &self,
        sql: &'static str,
        keys: &[i64],
        decode: impl Fn(&pg::Row) -> T,
    ) -> Vec<T> {
        use loader_runtime::tokio_postgres::types::Type;
        let params: [(&(dyn pg::types::ToSql + Sync), Type); 1] = [(&keys, Type::INT8_ARRAY)];
        let stream = self.client.query_typed_raw(sql, params).await.unwrap();
        decode_stream(stream, decode).await
    }

    /// One load of a shape whose second statement binds the keys the
    /// first read (half the users' posts, posts' authors): two round trips.
    fn run_keyed(&mut self, runtime: &tokio::runtime::Runtime, shape: Shape, parents: i64) -> u64 {
        const HALF_USERS: &str = "SELECT id, username FROM users WHERE id <= $1 ORDER BY id";
        const POSTS: &str = "SELECT id, author_id, title FROM posts ORDER BY id";
        let half = parents / 2;
        runtime.block_on(async {
            self.prepare(&[HALF_USERS, POSTS]).await;
            match shape {
                Shape::HasManyHalf => {
                    let users = self.streamed(HALF_USERS, &[&half], pg_user).await;
                    let keys: Vec<i64> = users.iter().map(|u| u.id).collect();
                    let posts = self
                        .streamed_keyed(
                            "SELECT id, author_id, title FROM posts WHERE author_id = ANY($1) ORDER BY id",
                            &keys,
                            pg_post,
                        )
                        .await;
                    counting_sort_graph(users, posts)
                }
                Shape::BelongsTo => {
                    let posts = self.streamed(POSTS, &[], pg_post).await;
                    let mut keys: Vec<i64> = posts.iter().map(|p| p.author_id).collect();
                    keys.sort_unstable();
                    keys.dedup();
                    let users = self
                        .streamed_keyed(
                            "SELECT id, username FROM users WHERE id = ANY($1)",
                            &keys,
                            pg_user,
                        )
                        .await;
                    posts_with_shared_authors(&posts, users)
                }
                _ => unreachable!("no keyed variant for {shape:?}"),
            }
        })
    }

    fn run(
        &mut self,
        runtime: &tokio::runtime::Runtime,
        shape: Shape,
        parents: i64,
        decode_only: bool,
    ) -> u64 {
        const USERS: &str = "SELECT id, username FROM users ORDER BY id";
        const POSTS: &str = "SELECT id, author_id, title FROM posts ORDER BY id";
        const HALF_USERS: &str = "SELECT id, username FROM users WHERE id <= $1 ORDER BY id";
        const HALF_POSTS: &str = "SELECT id, author_id, title FROM posts
             WHERE author_id IN (SELECT id FROM users WHERE id <= $1) ORDER BY id";
        const AUTHORS: &str =
            "SELECT id, username FROM users WHERE id IN (SELECT author_id FROM posts) ORDER BY id";
        const COMMENTS: &str = "SELECT id, post_id, body FROM comments ORDER BY id";
        const TAGS: &str = "SELECT id, name FROM tags ORDER BY id";
        const LINKS: &str = "SELECT post_id, tag_id FROM post_tags ORDER BY post_id, tag_id";
        let half = parents / 2;
        runtime.block_on(async {
            self.prepare(&[
                USERS, POSTS, HALF_USERS, HALF_POSTS, AUTHORS, COMMENTS, TAGS, LINKS,
            ])
            .await;
            let this = &*self;
            match shape {
                Shape::HasMany => {
                    let (users, posts) = tokio::join!(
                        this.streamed(USERS, &[], pg_user),
                        this.streamed(POSTS, &[], pg_post)
                    );
                    match decode_only {
                        true => decoded_checksum(&users, &posts),
                        false => counting_sort_graph(users, posts),
                    }
                }
                Shape::HasManyHalf => {
                    let half: PgParams<'_> = &[&half];
                    let (users, posts) = tokio::join!(
                        this.streamed(HALF_USERS, half, pg_user),
                        this.streamed(HALF_POSTS, half, pg_post)
                    );
                    match decode_only {
                        true => decoded_checksum(&users, &posts),
                        false => counting_sort_graph(users, posts),
                    }
                }
                Shape::BelongsTo => {
                    let (posts, users) = tokio::join!(
                        this.streamed(POSTS, &[], pg_post),
                        this.streamed(AUTHORS, &[], pg_user)
                    );
                    match decode_only {
                        true => decoded_checksum(&users, &posts),
                        false => posts_with_shared_authors(&posts, users),
                    }
                }
                Shape::Nested => {
                    let (users, posts, comments) = tokio::join!(
                        this.streamed(USERS, &[], pg_user),
                        this.streamed(POSTS, &[], pg_post),
                        this.streamed(COMMENTS, &[], pg_comment)
                    );
                    match decode_only {
                        true => comments
                            .iter()
                            .fold(decoded_checksum(&users, &posts), |sum, c| mix(sum, c.id)),
                        false => nested_graph(users, posts, comments),
                    }
                }
                Shape::ManyToMany => {
                    let (posts, tags, links) = tokio::join!(
                        this.streamed(POSTS, &[], pg_post),
                        this.streamed(TAGS, &[], pg_tag),
                        this.streamed(LINKS, &[], |r| (r.get(0), r.get(1)))
                    );
                    if decode_only {
                        let sum = posts.iter().fold(0, |sum, p| mix(sum, p.id));
                        let sum = links.iter().fold(sum, |sum, l: &(i64, i64)| mix(sum, l.1));
                        return tags.iter().fold(sum, |sum, t| mix(sum, t.id));
                    }
                    posts_with_tags(&posts, tags, links)
                }
            }
        })
    }
}

/// Each row of `stream` decoded with `decode` as it arrives.
async fn decode_stream<T>(
    stream: loader_runtime::tokio_postgres::RowStream,
    decode: impl Fn(&pg::Row) -> T,
) -> Vec<T> {
    use futures_util::TryStreamExt;
    let mut stream = std::pin::pin!(stream);
    let mut rows = Vec::new();
    while let Some(row) = stream.try_next().await.unwrap() {
        rows.push(decode(&row));
    }
    rows
}

/// The hand-written variants, preload and (while the N+1 loop stays under
/// about 10,000 statements) lazy on PostgreSQL over loopback, interleaved,
/// each checked against the floor's checksum.
fn measure_postgres(
    url: &str,
    shape: Shape,
    parents: i64,
    runs: usize,
    pinning: Option<&pin::Pinning>,
) -> Vec<Row> {
    let mut client = pg::Client::connect(url, pg::NoTls).unwrap();
    fill_postgres(&mut client, shape, parents);
    let floor = std::cell::RefCell::new(PostgresFloor {
        client,
        statements: HashMap::new(),
    });
    let db = Db::connect(url).unwrap();
    db.execute_batch("SET search_path TO loader_bench").unwrap();
    let runtime = bench_runtime();
    let async_db = async_db(url);
    // The N+1 loop on a connection of its own: sharing the preload's, its
    // thousands of round trips kept that server process awake for the
    // preload that followed it.
    let lazy_db = Db::connect(url).unwrap();
    lazy_db
        .execute_batch("SET search_path TO loader_bench")
        .unwrap();
    let pipelined = std::cell::RefCell::new(PipelinedFloor::connect(&runtime, url));
    let decode_only = std::cell::RefCell::new(PipelinedFloor::connect(&runtime, url));
    let streamed_keys = std::cell::RefCell::new(PipelinedFloor::connect(&runtime, url));
    // Each hand-written variant on a connection of its own, as each of the
    // library's has: variants sharing one would find its server process
    // awake and its caches warm from the one before.
    let floors: Vec<std::cell::RefCell<PostgresFloor>> = PostgresFloor::names(shape)
        .iter()
        .chain([&SNAPSHOT])
        .map(|_| {
            let mut client = pg::Client::connect(url, pg::NoTls).unwrap();
            client
                .batch_execute("SET search_path TO loader_bench")
                .unwrap();
            std::cell::RefCell::new(PostgresFloor {
                client,
                statements: HashMap::new(),
            })
        })
        .collect();
    let mut variants: Vec<Variant<'_>> = PostgresFloor::names(shape)
        .iter()
        .chain([&SNAPSHOT])
        .zip(&floors)
        .map(|(&name, floor)| -> Variant<'_> {
            (
                name,
                Box::new(move || floor.borrow_mut().run(shape, parents, name)),
            )
        })
        .collect();
    // Decode-only reads what the pipelined floor reads, as fast as it can
    // be read: pipelined, each row decoded as it arrives.
    variants.push((
        "decode only",
        Box::new(|| decode_only.borrow_mut().run(&runtime, shape, parents, true)),
    ));
    variants.push((
        PIPELINED,
        Box::new(|| pipelined.borrow_mut().run(&runtime, shape, parents, false)),
    ));
    if matches!(shape, Shape::HasManyHalf | Shape::BelongsTo) {
        variants.push((
            STREAMED_KEYS,
            Box::new(|| {
                streamed_keys
                    .borrow_mut()
                    .run_keyed(&runtime, shape, parents)
            }),
        ));
    }
    variants.push(("preload", Box::new(|| preload(&db, shape, parents))));
    variants.push((
        "preload, async",
        Box::new(|| preload_async(&async_db, &runtime, shape, parents)),
    ));
    let lazy_statements = match shape {
        Shape::Nested => parents * 11,
        _ => parents,
    };
    if lazy_statements <= 10_000 {
        variants.push(("lazy", Box::new(|| lazy(&lazy_db, shape, parents))));
    }
    let expected = floor.borrow_mut().run(shape, parents, "floor");
    db.reset_query_log();
    assert_eq!(
        preload(&db, shape, parents),
        expected,
        "preload disagrees with floor"
    );
    let statements = db.query_count();
    let mut times = vec![Vec::new(); variants.len()];
    let check = Check {
        expected,
        place: "PostgreSQL",
    };
    // A warm round, which opens every connection (the async pool's too),
    // then the server's processes for them off the bench's CPU.
    let mut warm = vec![Vec::new(); variants.len()];
    run_variants(&variants, interleaved(&variants, runs), &mut warm, &check);
    if let Some(pinning) = pinning {
        let pids: Vec<i32> = floor
            .borrow_mut()
            .client
            .query(pin::SERVER_PIDS, &[])
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect();
        pinning.pin_server(&pids);
    }
    for round in 0..runs {
        run_variants(&variants, interleaved(&variants, round), &mut times, &check);
        eprint!(".");
    }
    run_variants(&variants, alone_rounds(&variants, runs), &mut times, &check);
    let names: Vec<&str> = variants.iter().map(|(name, _)| *name).collect();
    let round_trips = count_round_trips(url, shape, parents, &names);
    variants
        .iter()
        .zip(times)
        .zip(round_trips)
        .map(|(((name, _), times), round_trips)| Row {
            shape,
            parents,
            storage: "postgres",
            variant: (*name).to_owned(),
            median: Some(median(times.clone())),
            rounds: times,
            note: String::new(),
            statements: hand_written_statements(name, shape, statements),
            round_trips: Some(round_trips),
        })
        .collect()
}

/// A runtime for the async variant: one thread, which the connection's
/// task shares with the load, as in a single-threaded server.
fn bench_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// An async handle on the bench's schema at `url`.
fn async_db(url: &str) -> AsyncDb {
    let mut config: loader_runtime::tokio_postgres::Config = url.parse().unwrap();
    config.options("-c search_path=loader_bench");
    AsyncDb::from_postgres_config(config).unwrap()
}

/// The round trips of one warm run of each variant (statements already
/// prepared, as in the timed runs), on connections through a proxy that
/// counts them: the client speaking after the server answered. Not timed:
/// the proxy would add its own latency.
fn count_round_trips(url: &str, shape: Shape, parents: i64, names: &[&str]) -> Vec<usize> {
    let parsed: loader_runtime::tokio_postgres::Config = url.parse().unwrap();
    let port = parsed.get_ports().first().copied().unwrap_or(5432);
    let proxy = proxy::Proxy::start(&format!("127.0.0.1:{port}"), Duration::ZERO);
    let proxied = format!(
        "postgres://{}@127.0.0.1:{}/{}",
        parsed.get_user().unwrap_or("postgres"),
        proxy.port,
        parsed.get_dbname().unwrap_or("postgres")
    );
    let mut client = pg::Client::connect(&proxied, pg::NoTls).unwrap();
    client
        .batch_execute("SET search_path TO loader_bench")
        .unwrap();
    let mut floor = PostgresFloor {
        client,
        statements: HashMap::new(),
    };
    let db = Db::connect(&proxied).unwrap();
    db.execute_batch("SET search_path TO loader_bench").unwrap();
    let runtime = bench_runtime();
    let async_db = async_db(&proxied);
    let mut pipelined = PipelinedFloor::connect(&runtime, &proxied);
    let mut run = |name: &str| match name {
        PIPELINED => pipelined.run(&runtime, shape, parents, false),
        STREAMED_KEYS => pipelined.run_keyed(&runtime, shape, parents),
        "decode only" => pipelined.run(&runtime, shape, parents, true),
        "preload" => preload(&db, shape, parents),
        "preload, async" => preload_async(&async_db, &runtime, shape, parents),
        "lazy" => lazy(&db, shape, parents),
        _ => floor.run(shape, parents, name),
    };
    names
        .iter()
        .map(|name| {
            // Warm: connected, statements described, and the preload has
            // learned its roots' table size (a second run may prepare the
            // statements of the form that size chose).
            let warm = if *name == "lazy" { 1 } else { 2 };
            for _ in 0..warm {
                black_box(run(name));
            }
            proxy.take_round_trips();
            black_box(run(name));
            proxy.take_round_trips()
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
    /// Each round's time, in order (every variant runs once per round,
    /// interleaved); empty where the runs were not interleaved (Diesel).
    rounds: Vec<Duration>,
    note: String,
    statements: Option<usize>,
    /// On PostgreSQL, as the counting proxy saw them.
    round_trips: Option<usize>,
}

/// Statements per load: the hand-written variants' own, `None` for the
/// N+1 loop, the query log's count for the library's.
fn hand_written_statements(name: &str, shape: Shape, library: usize) -> Option<usize> {
    match name {
        "best floor, 3 statements" | "decode only" | SNAPSHOT | PIPELINED
            if shape == Shape::ManyToMany =>
        {
            Some(3)
        }
        SNAPSHOT => Some(shape.statements()),
        "lazy" => None,
        _ if name == "floor" || name.starts_with("best floor") || name == "decode only" => {
            Some(shape.statements())
        }
        _ => Some(library),
    }
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
    // One connection for every variant (the hand-written code on the
    // `Db`'s own): each has its own page cache, and variants that shared
    // one found it warm in the CPU's caches from the variant before, which
    // the preload on a connection of its own did not (1.17 against 1.06
    // of the hand-written code in a tight loop, 10,000 posts → author).
    let db = if in_memory {
        let conn = Connection::open_in_memory().unwrap();
        fill(&conn, shape, parents);
        Db::from_connection(conn).unwrap()
    } else {
        Db::open(path).unwrap()
    };
    let conn = db.sqlite().unwrap();
    let mut variants = sqlite_hand_written(conn, shape, parents);
    variants.push(("preload", Box::new(|| preload(&db, shape, parents))));
    if parents <= 10_000 {
        variants.push(("lazy", Box::new(|| lazy(&db, shape, parents))));
    }
    if shape == Shape::HasMany && parents == 10_000 {
        variants.push((
            "preload, tracing on",
            Box::new(|| preload_traced(&db, shape, parents)),
        ));
    }
    let expected = floor(conn, shape, parents);
    db.reset_query_log();
    preload(&db, shape, parents);
    let statements = db.query_count();

    let use_diesel = diesel.filter(|_| !in_memory && shape != Shape::HasManyHalf);
    let mut times = vec![Vec::new(); variants.len()];
    let mut diesel_times = Vec::new();
    let mut diesel_note = String::new();
    let check = Check {
        expected,
        place: shape.name(),
    };
    for round in 0..runs {
        run_variants(&variants, interleaved(&variants, round), &mut times, &check);
        eprint!(".");
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
    run_variants(&variants, alone_rounds(&variants, runs), &mut times, &check);
    let mut rows: Vec<Row> = variants
        .iter()
        .zip(times)
        .map(|((name, _), times)| Row {
            shape,
            parents,
            storage,
            variant: (*name).to_owned(),
            median: Some(median(times.clone())),
            rounds: times,
            note: String::new(),
            statements: hand_written_statements(name, shape, statements),
            round_trips: None,
        })
        .collect();
    if use_diesel.is_some() {
        rows.push(Row {
            shape,
            parents,
            storage,
            variant: "diesel".into(),
            median: (!diesel_times.is_empty()).then(|| median(diesel_times)),
            // In its own process, not interleaved with the others.
            rounds: Vec::new(),
            note: diesel_note,
            statements: Some(shape.statements()),
            round_trips: None,
        });
    }
    rows
}

fn main() {
    if let Some(code) = malloc::run_with_fixed_thresholds() {
        std::process::exit(code);
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, variant, shape, path] = args.as_slice()
        && flag == "--memory"
    {
        memory_child(variant, shape, path);
        return;
    }
    // `--profile <shape> <parents> <runs>`: only the preload, repeated, on
    // a SQLite file, for a sampling profiler (`perf record -g`).
    // With `--postgres` after them, on the server of `LOADER_BENCH_POSTGRES`;
    // with `--postgres --async`, on `AsyncDb` there; with `--floor` (SQLite),
    // the hand-written `floor` instead of the preload; with `--cold`, the
    // caches flushed before each load (a 32 MB buffer written over, not
    // timed), as other code would leave them between a service's loads.
    if let [flag, shape, parents, runs, rest @ ..] = args.as_slice()
        && flag == "--profile"
    {
        let shape = shape_named(shape);
        let parents: i64 = parents.parse().unwrap();
        let dir = std::env::temp_dir().join(format!("loader-profile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = if rest.iter().any(|a| a == "--postgres") {
            let url = postgres_url().expect("LOADER_BENCH_POSTGRES");
            fill_postgres(
                &mut pg::Client::connect(&url, pg::NoTls).unwrap(),
                shape,
                parents,
            );
            let db = Db::connect(&url).unwrap();
            db.execute_batch("SET search_path TO loader_bench").unwrap();
            db
        } else {
            Db::open(database(&dir, shape, parents)).unwrap()
        };
        let runs: usize = runs.parse().unwrap();
        let mut flush = if rest.iter().any(|a| a == "--cold") {
            vec![0u8; 32 << 20]
        } else {
            Vec::new()
        };
        let mut loading = Duration::ZERO;
        let mut timed = |load: &mut dyn FnMut() -> u64| {
            for byte in flush.iter_mut().step_by(64) {
                *byte = byte.wrapping_add(1);
            }
            let start = Instant::now();
            black_box(load());
            loading += start.elapsed();
        };
        if rest.iter().any(|a| a == "--floor") {
            let conn = db.sqlite().expect("`--floor` profiles the SQLite floor");
            for _ in 0..runs {
                timed(&mut || floor(conn, shape, parents));
            }
        } else if rest.iter().any(|a| a == "--async") {
            let url = postgres_url().expect("LOADER_BENCH_POSTGRES");
            let (runtime, async_db) = (bench_runtime(), async_db(&url));
            for _ in 0..runs {
                timed(&mut || preload_async(&async_db, &runtime, shape, parents));
            }
        } else {
            for _ in 0..runs {
                timed(&mut || preload(&db, shape, parents));
            }
        }
        eprintln!("{loading:?} loading");
        let _ = std::fs::remove_dir_all(&dir);
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
        vec![1_000, 10_000]
    } else {
        vec![1_000, 10_000, 100_000]
    };
    let runs = |parents: i64| match (quick, parents) {
        (true, _) => 5,
        (false, p) if p >= 100_000 => 7,
        _ => 21,
    };
    let shapes = [
        Shape::HasMany,
        Shape::HasManyHalf,
        Shape::BelongsTo,
        Shape::Nested,
        Shape::ManyToMany,
    ];
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
    for shape in shapes.into_iter().filter(|&shape| on_sqlite(shape)) {
        for &parents in &sizes {
            eprint!("{} on SQLite, {parents} ", shape.name());
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
            eprintln!();
            if shape == Shape::HasMany && parents >= 10_000 {
                let floor = child_memory("best floor", shape, &path);
                let ours = child_memory("preload", shape, &path);
                let theirs =
                    diesel
                        .as_deref()
                        .and_then(|binary| match run_diesel(binary, shape, &path) {
                            Outcome::Ran { peak_kb, .. } => Some(peak_kb),
                            Outcome::Failed(_) => None,
                        });
                memory.push((parents, floor, ours, theirs));
            }
            let _ = std::fs::remove_file(&path);
        }
    }
    if on_sqlite(Shape::HasMany) {
        eprint!("has_many in memory, 10000 parents ");
        rows.extend(measure(
            Shape::HasMany,
            10_000,
            "memory",
            &dir,
            true,
            runs(10_000),
            None,
        ));
        eprintln!();
    }
    let _ = std::fs::remove_dir_all(&dir);

    match postgres_url() {
        Some(url) => {
            // Pinned for PostgreSQL only: it keeps the bench and the server
            // apart, and SQLite has no server.
            let pinning = pin::local(&url).then(pin::pin_bench).flatten();
            for shape in shapes.into_iter().filter(|&shape| wanted(shape)) {
                for &parents in &sizes {
                    eprint!("{} on PostgreSQL, {parents} ", shape.name());
                    rows.extend(measure_postgres(
                        &url,
                        shape,
                        parents,
                        runs(parents),
                        pinning.as_ref(),
                    ));
                    eprintln!();
                }
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

/// The fastest hand-written time of a row's case: the least of `floor` and
/// every `best floor, ...` candidate.
/// The fastest hand-written variant of `row`'s case, by median.
fn best_floor_row<'a>(rows: &'a [Row], row: &Row) -> Option<&'a Row> {
    rows.iter()
        .filter(|r| r.shape == row.shape && r.parents == row.parents && r.storage == row.storage)
        .filter(|r| r.variant == "floor" || r.variant.starts_with("best floor"))
        .filter(|r| r.median.is_some())
        .min_by_key(|r| r.median)
}

fn best_floor(rows: &[Row], row: &Row) -> Option<Duration> {
    best_floor_row(rows, row).and_then(|r| r.median)
}

fn variant_row<'a>(rows: &'a [Row], row: &Row, variant: &str) -> Option<&'a Row> {
    rows.iter().find(|r| {
        r.shape == row.shape
            && r.parents == row.parents
            && r.storage == row.storage
            && r.variant == variant
    })
}

/// `row`'s time over `of`'s: the median of the ratios of the rounds they
/// ran side by side, so that a slow spell of the shared machine, which
/// slows every variant of its round, cancels out; the ratio of the medians
/// where the runs were not interleaved.
fn paired(row: &Row, of: &Row) -> Option<f64> {
    match round_ratios(row, of) {
        Some(ratios) => Some(ratios[ratios.len() / 2]),
        None => Some(row.median?.as_secs_f64() / of.median?.as_secs_f64()),
    }
}

/// The ratios of `row`'s rounds to `of`'s, sorted; `None` where the two
/// did not run side by side.
fn round_ratios(row: &Row, of: &Row) -> Option<Vec<f64>> {
    if row.rounds.is_empty() || row.rounds.len() != of.rounds.len() {
        return None;
    }
    let mut ratios: Vec<f64> = row
        .rounds
        .iter()
        .zip(&of.rounds)
        .map(|(a, b)| a.as_secs_f64() / b.as_secs_f64())
        .collect();
    ratios.sort_by(f64::total_cmp);
    Some(ratios)
}

/// The paired ratio with the middle half of the rounds' ratios (first to
/// third quartile), e.g. `1.02 (0.97–1.08)`: how far one round may stray
/// from the median on this machine.
fn ratio_with_spread(row: &Row, of: &Row) -> String {
    match round_ratios(row, of) {
        Some(ratios) => {
            let at = |q: usize| ratios[(ratios.len() - 1) * q / 4];
            format!("{:.2} ({:.2}–{:.2})", at(2), at(1), at(3))
        }
        None => paired(row, of).map_or(String::new(), |r| format!("{r:.2}")),
    }
}

/// Whether a variant runs apart from the interleaved rounds, after them:
/// the N+1 loop, 30-200 times slower than the rest, whose thousands of
/// statements left the machine and the server in a state of their own for
/// whichever variant followed it (PostgreSQL, 1,000 posts' tags, 5 rounds:
/// sync preload 0.73 and async 1.34 of the fastest code with it
/// interleaved, 1.03 and 1.09 without).
fn alone(name: &str) -> bool {
    name == "lazy"
}

/// Round `round`'s order of the variants not kept [`alone`].
fn interleaved(variants: &[Variant<'_>], round: usize) -> Vec<usize> {
    round_order(variants.len(), round)
        .filter(|&index| !alone(variants[index].0))
        .collect()
}

/// What every variant's checksum must be, and where it runs (for the
/// message when one disagrees).
struct Check<'a> {
    expected: u64,
    place: &'a str,
}

/// Runs the variants at `order`, each timed into its `times`, and checks
/// each checksum (but `decode only`'s, which builds no graph).
fn run_variants(
    variants: &[Variant<'_>],
    order: Vec<usize>,
    times: &mut [Vec<Duration>],
    check: &Check<'_>,
) {
    for index in order {
        let (name, run) = &variants[index];
        let start = Instant::now();
        let sum = black_box(run());
        times[index].push(start.elapsed());
        if *name != "decode only" {
            assert_eq!(
                sum, check.expected,
                "{name} disagrees with floor on {}",
                check.place
            );
        }
    }
}

/// The runs of the variants kept [`alone`]: `runs` of each, in a row.
fn alone_rounds(variants: &[Variant<'_>], runs: usize) -> Vec<usize> {
    variants
        .iter()
        .enumerate()
        .filter(|(_, (name, _))| alone(name))
        .flat_map(|(index, _)| std::iter::repeat_n(index, runs))
        .collect()
}

/// The order of the variants in round `round`: a shuffle of its own
/// (Fisher-Yates, seeded by the round, so runs repeat), so that no variant
/// always runs first (after the previous round's slowest) or always after
/// the same one (rotating kept the cycle: the preload always followed
/// `decode only`, and `floor` the N+1 loop).
fn round_order(variants: usize, round: usize) -> impl Iterator<Item = usize> {
    let mut order: Vec<usize> = (0..variants).collect();
    let mut state = (round as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for last in (1..variants).rev() {
        // xorshift64*: enough to mix a small array.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let pick = (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % (last + 1);
        order.swap(last, pick);
    }
    order.into_iter()
}

fn variant_time(rows: &[Row], row: &Row, variant: &str) -> Option<Duration> {
    rows.iter()
        .find(|r| {
            r.shape == row.shape
                && r.parents == row.parents
                && r.storage == row.storage
                && r.variant == variant
        })
        .and_then(|r| r.median)
}

fn markdown(rows: &[Row], memory: &[(i64, u64, u64, Option<u64>)]) -> String {
    let mut out = String::from(
        "| case | storage | variant | median | × best floor | × decode only | statements | round trips | preload speed-up vs lazy |\n\
         |---|---|---|---:|---:|---:|---:|---:|---:|\n",
    );
    let ratio = |row: &Row, of: Option<&Row>| {
        of.and_then(|of| paired(row, of))
            .map_or(String::new(), |r| format!("{r:.2}"))
    };
    for row in rows {
        let best = best_floor_row(rows, row);
        let decode = variant_row(rows, row, "decode only");
        let lazy = variant_time(rows, row, "lazy");
        let time = row.median.map_or_else(
            || format!("— {}", row.note),
            |m| format!("{:.2} ms", m.as_secs_f64() * 1e3),
        );
        let speedup = match (row.variant.as_str(), row.median, lazy) {
            ("preload", Some(m), Some(l)) => format!("{:.1}×", l.as_secs_f64() / m.as_secs_f64()),
            _ => String::new(),
        };
        let statements = row.statements.map_or("1 + N".into(), |s| s.to_string());
        let variant = if row.variant == "preload" {
            "**preload**".to_owned()
        } else {
            row.variant.clone()
        };
        let round_trips = row.round_trips.map_or(String::new(), |n| n.to_string());
        out.push_str(&format!(
            "| {} | {} | {variant} | {time} | {} | {} | {statements} | {round_trips} | {speedup} |\n",
            row.shape.describe(row.parents),
            row.storage,
            ratio(row, best),
            ratio(row, decode),
        ));
    }
    out.push_str("\nPreload against the fastest hand-written code, per case (the targets: 1.10 with every row a root, 1.05 with filtered roots); in brackets the middle half of the rounds' own ratios, first to third quartile, which shows how far this shared machine moves a cell:\n\n");
    out.push_str("| case | SQLite | PostgreSQL | PostgreSQL, async |\n|---|---:|---:|---:|\n");
    let mut cases: Vec<(Shape, i64)> = Vec::new();
    for row in rows {
        if !cases.contains(&(row.shape, row.parents)) {
            cases.push((row.shape, row.parents));
        }
    }
    for (shape, parents) in cases {
        let cell = |storage: &str, variant: &str| {
            rows.iter()
                .find(|r| {
                    r.shape == shape
                        && r.parents == parents
                        && r.storage == storage
                        && r.variant == variant
                })
                .map_or(String::new(), |row| {
                    best_floor_row(rows, row).map_or(String::new(), |of| ratio_with_spread(row, of))
                })
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            shape.describe(parents),
            cell("file", "preload"),
            cell("postgres", "preload"),
            cell("postgres", "preload, async")
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
         Regenerate with `LOADER_BENCH_POSTGRES=postgres://... cargo bench --bench loaders -- --write-docs`\n\
         (every case at 1,000, 10,000 and 100,000 roots, 21 rounds, 7 at 100,000; about fifteen minutes)\n\
         or `-- --quick --write-docs` (1,000 and 10,000, 5 rounds). Each round runs every variant once,\n\
         interleaved (the order shuffled afresh each round), in one process (Diesel in its own process, timed inside it, after a warm-up run) on\n\
         the same SQLite file (WAL; every variant on one connection, so on one page cache) or PostgreSQL\n\
         database (loopback TCP, 64-bit keys). The table gives\n\
         each variant's median time; a ratio is the median of the ratios of the rounds (a variant's time\n\
         over the other's in the same round), so that a slow spell of the shared machine, which slows a\n\
         whole round, cancels out (Diesel's, not interleaved, is the ratio of medians). Every variant\n\
         checksums the graph it built and must agree with `floor` (but `decode only`, which builds none).\n\
         Every process runs with glibc's heap-trim and mmap thresholds fixed (`MALLOC_TRIM_THRESHOLD_`,\n\
         `MALLOC_MMAP_THRESHOLD_`): with its moving defaults, whether a loop of loads hands the top of its\n\
         heap back to the kernel, and faults it in again on the next load, depends on which allocation\n\
         sits highest, and it moved one cell by 12% between two builds with no change on that path\n\
         (`LOADER_BENCH_MALLOC=dynamic` keeps the defaults). For PostgreSQL the bench runs on CPU 0 and\n\
         the server's processes for its connections on the other CPUs, as a database on a host of its own\n\
         would (SQLite, which has no server, runs unpinned): unpinned, where the scheduler put each connection's server process decided a small cell\n\
         for a whole run (1,000 posts → their authors, sync, five runs: 0.96 to 1.17 of the fastest\n\
         hand-written code; pinned, 0.93 to 0.97; `benches/common/pin.rs`, `LOADER_BENCH_PIN=off`).\n\n\
         The cases: users with their posts (`has_many`), the same for half the users (`id <= n/2`: the\n\
         keyed statements of filtered roots), posts with their author (`belongs_to`), users → posts →\n\
         comments (three levels) and posts with 3 of 50 tags through a join table (`many_to_many`). Posts\n\
         interleave their authors, as real data does. `× best floor` is the ratio to the fastest\n\
         hand-written variant of the case (`floor` or a `best floor, ...`).\n\n\
         - `decode only`: the rows of the result read and decoded into the same structs, nothing grouped\n\
           or linked: the physical limit (on PostgreSQL read as `best floor, pipelined` reads them).\n\
         - `best floor`: the fastest hand-written code found for the same graph. Every table read in\n\
           primary-key order (on SQLite a rowid table's own order: no index walk, no sort), each child's\n\
           parent found with one hash lookup, children grouped by a counting sort into one buffer (each\n\
           parent's children a slice in key order); for three levels, two counting sorts.\n\
         - `best floor, keys` / `best floor, subquery` (half the users): the posts of the chosen users\n\
           in key order, either by their keys bound as one array (`IN rarray(?1)`, `= ANY($1)`) or by\n\
           repeating the roots' condition in a subquery (`author_id IN (SELECT id FROM users WHERE ...)`).\n\
         - `best floor, subquery` (posts → author): the authors `WHERE id IN (SELECT author_id FROM posts)`,\n\
           no keys sent; `floor` binds the distinct keys instead.\n\
         - `best floor, 3 statements` (tags): posts, the join table alone (a covering index, in its key\n\
           order) and the 50 tags once each, linked by hash and grouped by a counting sort; as many\n\
           statements as the library, which reads the join table alone too for every row or more than\n\
           1,000 owners. `best floor, join`: one JOIN (the library's way for a page of owners), by hand,\n\
           each tag decoded once, grouped by a counting sort.\n\
         - `best floor, pipelined` (PostgreSQL): the best floor's statements (for half the users, the\n\
           subquery form) on tokio-postgres, every statement of a load sent before any reply is read\n\
           (one round trip per load) and each row decoded as it arrives, while the server still sends\n\
           the rest: the fastest code an async service could write by hand. `best floor, keys, streamed`\n\
           (half the users, posts → author): the same client binding the keys of the rows read first as\n\
           one array (two round trips), rows decoded as they arrive.\n\
         - `floor`: the library's earlier strategy written by hand, kept to compare with earlier runs:\n\
           children read in foreign-key order and grouped with a HashMap, keys bound as one array.\n\
         - `preload`: `User::query().preload(User::posts())` and the like (`.filter(|u| u.id.le(n / 2))`\n\
           for half the users).\n\
         - `hand-written, one snapshot`: the usual fastest hand-written code of the case inside\n\
           `BEGIN` ... `COMMIT` (on PostgreSQL `BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY`, two\n\
           round trips more), so that every statement reads one snapshot as the library's do: not a\n\
           floor candidate, it shows what that guarantee costs.\n\
         - `preload, async`: the same on `AsyncDb` (PostgreSQL only), on a one-thread tokio runtime.\n\
         - `lazy`: the lazy accessor in a loop (the N+1 path), while that stays under about 10,000 statements;\n\
           its runs come after the interleaved rounds, not among them (its thousands of statements left the\n\
           machine and the server in a state of their own for the variant after it).\n\
         - `diesel`: Diesel 2.3 `belonging_to(&parents)` + `grouped_by` (`benches/diesel-peer`), SQLite only.\n\
         - `preload, tracing on`: the preload with a `tracing` subscriber listening at DEBUG.\n\
         - On PostgreSQL the hand-written code is `postgres`-crate code (but `best floor, pipelined`) with prepared statements kept\n\
           across runs, except those binding a key array, prepared afresh each time as the library does.\n\
           Each variant has a connection of its own.\n\
           `round trips` is one run of each variant, after two warm ones (one for `lazy`), through a proxy\n\
           that counts the client speaking after the server answered (not timed). The library's loads (`Db` and `AsyncDb` alike) send\n\
           each wave pipelined, with their read transaction (`BEGIN ... REPEATABLE READ, READ ONLY` and\n\
           `COMMIT`, for one snapshot across levels) travelling with the first and last wave.\n\n\
         Machine: {cpu}, {cores} cores (shared, so ratios are more telling than absolute times).\n\n\
         ![time per root, one panel per case and database](benchmarks.svg)\n\n{table}"
    )
}

/// One panel per case and database: time per root against roots, on log
/// axes, for decode only, the best floor, the former floor, preload, lazy
/// and Diesel.
fn plot(rows: &[Row], path: &Path) {
    use plotters::prelude::*;
    let shapes: Vec<Shape> = {
        let mut shapes = Vec::new();
        for row in rows {
            if !shapes.contains(&row.shape) {
                shapes.push(row.shape);
            }
        }
        shapes
    };
    let storages = ["file", "postgres"];
    let root = SVGBackend::new(path, (1000, 330 * shapes.len() as u32)).into_drawing_area();
    root.fill(&WHITE).unwrap();
    let panels = root.split_evenly((shapes.len(), storages.len()));
    let series: [(&str, RGBColor); 7] = [
        ("decode only", RGBColor(150, 150, 150)),
        ("best floor", BLACK),
        ("floor", RGBColor(200, 140, 0)),
        ("preload", BLUE),
        ("preload, async", RGBColor(140, 60, 200)),
        ("lazy", RED),
        ("diesel", GREEN),
    ];
    let label = |x: &f64| match *x as i64 {
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    };
    for (index, panel) in panels.iter().enumerate() {
        let shape = shapes[index / storages.len()];
        let storage = storages[index % storages.len()];
        let points = |variant: &str| -> Vec<(f64, f64)> {
            let mut sizes: Vec<i64> = rows
                .iter()
                .filter(|r| r.shape == shape && r.storage == storage)
                .map(|r| r.parents)
                .collect();
            sizes.sort_unstable();
            sizes.dedup();
            sizes
                .into_iter()
                .filter_map(|parents| {
                    let case = rows.iter().find(|r| {
                        r.shape == shape && r.storage == storage && r.parents == parents
                    })?;
                    let time = match variant {
                        "best floor" => best_floor(rows, case),
                        _ => variant_time(rows, case, variant),
                    }?;
                    Some((parents as f64, time.as_secs_f64() * 1e6 / parents as f64))
                })
                .collect()
        };
        let all: Vec<(f64, f64)> = series.iter().flat_map(|(name, _)| points(name)).collect();
        if all.is_empty() {
            continue;
        }
        let (y_min, y_max) = all.iter().fold((f64::MAX, f64::MIN), |(lo, hi), (_, y)| {
            (lo.min(*y), hi.max(*y))
        });
        let database = if storage == "file" {
            "SQLite"
        } else {
            "PostgreSQL"
        };
        let mut chart = ChartBuilder::on(panel)
            .caption(format!("{}, {database}", shape.title()), ("sans-serif", 15))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d(
                (700.0f64..140_000.0).log_scale(),
                ((y_min * 0.7)..(y_max * 1.4)).log_scale(),
            )
            .unwrap();
        chart
            .configure_mesh()
            .x_desc("roots")
            .y_desc("µs per root")
            .x_label_formatter(&label)
            .y_label_formatter(&|y| match *y {
                y if y >= 10.0 => format!("{y:.0}"),
                y if y >= 1.0 => format!("{y:.1}"),
                y => format!("{y:.2}"),
            })
            .draw()
            .unwrap();
        for (name, color) in series {
            plot::series(&mut chart, name, color, points(name));
        }
        plot::legend(&mut chart, SeriesLabelPosition::UpperRight, 11);
    }
    root.present().unwrap();
}
