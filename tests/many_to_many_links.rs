//! A `many_to_many` preload of more than a page of owners reads the join
//! table alone, then each linked target once: the statements, the graph
//! (against the JOIN written by hand and against lazy loading), dangling
//! and NULL keys, nested preloads under it, both forms, every backend and
//! API, and one snapshot for all the statements on PostgreSQL.

mod common;

use std::collections::BTreeMap;

use common::conn::{Conn, conns};
use loader_runtime::{Db, Entity, Form};

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "posts")]
#[many_to_many(Tag, through = "post_tags", fk = "post_id", target_fk = "tag_id")]
struct Post {
    id: i64,
    title: String,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "tags")]
#[has_many(Note, fk = "tag_id")]
struct Tag {
    id: i64,
    name: String,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "notes")]
struct Note {
    id: i64,
    tag_id: i64,
    body: String,
}

const POSTS: i64 = 1_500;

/// 1,500 posts, 40 tags (one of them linked by no post), each post linked
/// to two or three tags; plus a link to a tag that does not exist (post 5),
/// a NULL tag (post 6), the same link twice (post 7) and a link from a post
/// that does not exist. No foreign key constraints: the join table holds
/// what real ones sometimes do.
fn fill(db: &Db) {
    db.execute_batch(&format!(
        "CREATE TABLE posts (id BIGINT PRIMARY KEY, title TEXT NOT NULL);
         CREATE TABLE tags (id BIGINT PRIMARY KEY, name TEXT NOT NULL);
         CREATE TABLE notes (id BIGINT PRIMARY KEY, tag_id BIGINT NOT NULL, body TEXT NOT NULL);
         CREATE TABLE post_tags (post_id BIGINT NOT NULL, tag_id BIGINT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {POSTS})
         INSERT INTO posts SELECT i, 'post ' || i FROM n;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)
         INSERT INTO tags SELECT i, 'tag ' || i FROM n;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60)
         INSERT INTO notes SELECT i, 1 + (i * 7) % 39, 'note ' || i FROM n;
         INSERT INTO post_tags SELECT id, 1 + id % 39 FROM posts;
         INSERT INTO post_tags SELECT id, 1 + (id * 5 + 3) % 39 FROM posts WHERE (id * 5 + 3) % 39 <> id % 39;
         INSERT INTO post_tags SELECT id, 1 + id % 13 FROM posts WHERE id % 4 = 0 AND id % 13 <> id % 39;
         INSERT INTO post_tags VALUES (5, 999), (6, NULL), (7, 8), (99999, 1);
         CREATE INDEX post_tags_post_id ON post_tags (post_id, tag_id);
         CREATE INDEX post_tags_tag_id ON post_tags (tag_id);"
    ))
    .unwrap();
}

/// Each post's tag ids as the JOIN written by hand gives them: in tag key
/// order, a duplicate link twice, dangling and NULL keys matching nothing.
fn joined_by_hand(db: &Db, posts: i64) -> BTreeMap<i64, Vec<i64>> {
    let mut expected: BTreeMap<i64, Vec<i64>> = (1..=posts).map(|id| (id, Vec::new())).collect();
    let rows = common::backend::integer_rows(
        db,
        &format!(
            "SELECT pt.post_id, t.id FROM post_tags pt JOIN tags t ON t.id = pt.tag_id
             WHERE pt.post_id <= {posts} ORDER BY pt.post_id, t.id"
        ),
    );
    for row in rows {
        let (post, tag) = (row[0].unwrap(), row[1].unwrap());
        expected.get_mut(&post).unwrap().push(tag);
    }
    expected
}

/// Each tag's note ids, in key order.
fn notes_by_hand(db: &Db) -> BTreeMap<i64, Vec<i64>> {
    let mut notes: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for row in common::backend::integer_rows(db, "SELECT tag_id, id FROM notes ORDER BY id") {
        notes
            .entry(row[0].unwrap())
            .or_default()
            .push(row[1].unwrap());
    }
    notes
}

type Graph = BTreeMap<i64, Vec<(i64, Vec<i64>)>>;

/// Posts (every one, or those with `id <= posts`) with their tags and the
/// tags' notes, in `form`; the graph and the statements run.
fn preload(
    conn: &Conn,
    posts: Option<i64>,
    form: Form,
) -> (Graph, Vec<loader_runtime::QueryRecord>) {
    on!(conn, wait, |db| {
        db.reset_query_log();
        let query = Post::query()
            .preload(Post::tags().preload(Tag::notes()))
            .form(form);
        let loaded = match posts {
            None => wait!(query.all(db)),
            Some(n) => wait!(query.filter(|p| p.id.le(n)).all(db)),
        }
        .unwrap();
        let log = db.query_log();
        let graph = loaded
            .iter()
            .map(|post| {
                let tags = post
                    .tags()
                    .iter()
                    .map(|tag| (tag.id, tag.notes().iter().map(|n| n.id).collect()))
                    .collect();
                (post.id, tags)
            })
            .collect();
        (graph, log)
    })
}

/// What the graph must be: the hand-written JOIN's tags, each with its notes.
fn expected(db: &Db, posts: i64) -> Graph {
    let notes = notes_by_hand(db);
    joined_by_hand(db, posts)
        .into_iter()
        .map(|(post, tags)| {
            let tags = tags
                .into_iter()
                .map(|tag| (tag, notes.get(&tag).cloned().unwrap_or_default()))
                .collect();
            (post, tags)
        })
        .collect()
}

#[test]
fn every_post_reads_the_join_table_then_each_tag_once() {
    for conn in conns(fill) {
        let place = conn.name();
        let expected = expected(conn.sync(), POSTS);
        for form in [Form::Keys, Form::Subquery] {
            let (graph, log) = preload(&conn, None, form);
            assert_eq!(graph, expected, "{place} {form:?}");
            let sql: Vec<&str> = log.iter().map(|q| &*q.sql).collect();
            // Posts, the join table, its tags, their notes.
            assert_eq!(log.len(), 4, "{place} {form:?}: {sql:#?}");
            assert!(
                sql[1].starts_with("SELECT \"post_tags\".\"post_id\", \"post_tags\".\"tag_id\" FROM \"post_tags\" ORDER BY"),
                "{place} {form:?}: {sql:#?}"
            );
            let links: i64 =
                common::backend::integer_rows(conn.sync(), "SELECT COUNT(*) FROM post_tags")[0][0]
                    .unwrap();
            assert_eq!(
                log[1].rows as i64, links,
                "{place} {form:?}: every link read"
            );
            assert_eq!(
                log[2].rows, 39,
                "{place} {form:?}: each linked tag once, tag 999 is none"
            );
            assert!(
                !sql.iter().any(|s| s.contains(" JOIN ")),
                "{place} {form:?}: {sql:#?}"
            );
        }
        let (graph, _) = preload(&conn, None, Form::Keys);
        assert_eq!(
            graph[&5].len(),
            expected[&5].len(),
            "{place}: the dangling link is dropped"
        );
        assert!(graph[&5].iter().all(|(tag, _)| *tag != 999));
        let sevens: Vec<i64> = graph[&7].iter().map(|(tag, _)| *tag).collect();
        assert_eq!(
            sevens.iter().filter(|&&tag| tag == 8).count(),
            2,
            "{place}: a duplicate link twice: {sevens:?}"
        );
    }
}

#[test]
fn more_than_a_page_of_posts_by_key_reads_the_join_table_by_key() {
    for conn in conns(fill) {
        let place = conn.name();
        let expected = expected(conn.sync(), 1_200);
        let (graph, log) = preload(&conn, Some(1_200), Form::Keys);
        assert_eq!(graph, expected, "{place}");
        let sql: Vec<&str> = log.iter().map(|q| &*q.sql).collect();
        assert_eq!(log.len(), 4, "{place}: {sql:#?}");
        let key_set = common::backend::key_set(conn.sync());
        assert!(
            sql[1].contains("FROM \"post_tags\" WHERE") && sql[1].contains(key_set),
            "{place}: {sql:#?}"
        );
        assert_eq!(log[1].bound_values, 1_200, "{place}: the posts' keys");
        assert!(
            sql[2].starts_with("SELECT \"tags\"") && sql[2].contains(key_set),
            "{place}: {sql:#?}"
        );
        assert_eq!(
            log[2].bound_values, 40,
            "{place}: each tag named once, 999 too"
        );
        assert_eq!(log[2].rows, 39, "{place}");
        assert_eq!(
            log[3].bound_values, 39,
            "{place}: the notes of the tags read"
        );
    }
}

#[test]
fn a_page_of_posts_keeps_one_join() {
    for conn in conns(fill) {
        let place = conn.name();
        let expected = expected(conn.sync(), 20);
        for form in [Form::Keys, Form::Subquery] {
            let (graph, log) = preload(&conn, Some(20), form);
            assert_eq!(graph, expected, "{place} {form:?}");
            let sql: Vec<&str> = log.iter().map(|q| &*q.sql).collect();
            assert_eq!(log.len(), 3, "{place} {form:?}: {sql:#?}");
            assert!(
                sql[1].contains(" JOIN \"post_tags\""),
                "{place} {form:?}: {sql:#?}"
            );
        }
    }
}

/// A scope on the preload (its filter and order are on the tags) keeps the
/// one JOIN for every post, and applies.
#[test]
fn a_scoped_preload_of_every_post_keeps_one_join() {
    for conn in conns(fill) {
        let place = conn.name();
        let (graph, log) = on!(&conn, wait, |db| {
            db.reset_query_log();
            let posts = wait!(
                Post::query()
                    .preload(
                        Post::tags()
                            .filter(|t| t.id.le(10))
                            .order_by(|t| t.id.desc())
                    )
                    .all(db)
            )
            .unwrap();
            let graph: BTreeMap<i64, Vec<i64>> = posts
                .iter()
                .map(|p| (p.id, p.tags().iter().map(|t| t.id).collect()))
                .collect();
            (graph, db.query_log())
        });
        assert_eq!(log.len(), 2, "{place}: {log:#?}");
        assert!(
            log[1].sql.contains(" JOIN \"post_tags\""),
            "{place}: {}",
            log[1].sql
        );
        let expected: BTreeMap<i64, Vec<i64>> = joined_by_hand(conn.sync(), POSTS)
            .into_iter()
            .map(|(post, tags)| {
                let mut tags: Vec<i64> = tags.into_iter().filter(|&t| t <= 10).collect();
                tags.reverse();
                (post, tags)
            })
            .collect();
        assert_eq!(graph, expected, "{place}");
    }
}

/// A join-table key that cannot be read as the target's key type is an
/// error naming the target and the column, not a panic or a silent drop
/// (SQLite, whose columns take any value).
#[test]
fn an_unreadable_key_in_the_join_table_is_a_decode_error() {
    let db = Db::open_in_memory().unwrap();
    fill(&db);
    db.execute_batch("INSERT INTO post_tags VALUES (8, 'not a key')")
        .unwrap();
    match Post::query().preload(Post::tags()).all(&db) {
        Err(loader_runtime::Error::Decode {
            entity,
            column,
            sql,
            ..
        }) => {
            assert_eq!((entity, column), ("Tag", "target key of the join table"));
            assert!(sql.contains("FROM \"post_tags\""), "{sql}");
        }
        other => panic!("expected a decode error, got {:?}", other.map(|p| p.len())),
    }
}

#[test]
fn preloaded_tags_equal_lazy_tags() {
    for conn in conns(fill) {
        let place = conn.name();
        let (graph, _) = preload(&conn, None, Form::Keys);
        on!(&conn, wait, |db| {
            for id in [1, 5, 6, 7, 97, 500, 1_499] {
                let post = wait!(Post::find(db, &id)).unwrap().unwrap();
                let lazy: Vec<i64> = wait!(post.load_tags(db))
                    .unwrap()
                    .iter()
                    .map(|t| t.id)
                    .collect();
                let preloaded: Vec<i64> = graph[&id].iter().map(|(tag, _)| *tag).collect();
                assert_eq!(preloaded, lazy, "{place}: post {id}");
            }
        });
    }
}

/// Every statement of a preload that reads the join table, then the tags
/// by the keys it named, sees one snapshot: the `now()` of each row, which
/// PostgreSQL fixes for a transaction, is the same in the posts and in the
/// tags read two waves later.
#[test]
fn the_tags_read_after_the_join_table_share_the_posts_snapshot() {
    #[derive(Entity, Debug, Clone)]
    #[entity(table = "posts_seen")]
    #[many_to_many(
        TagSeen,
        through = "post_tags",
        fk = "post_id",
        target_fk = "tag_id",
        name = "tags"
    )]
    struct PostSeen {
        id: i64,
        seen_at: String,
    }

    #[derive(Entity, Debug, Clone)]
    #[entity(table = "tags_seen")]
    struct TagSeen {
        id: i64,
        seen_at: String,
    }

    let schema = common::backend::current_schema();
    let Some(conn) = Conn::async_postgres(&schema) else {
        println!("skipped: LOADER_TEST_POSTGRES is not set");
        return;
    };
    fill(conn.sync());
    conn.sync()
        .execute_batch(
            "CREATE VIEW posts_seen AS SELECT id, now()::text AS seen_at FROM posts;
             CREATE VIEW tags_seen AS SELECT id, now()::text AS seen_at FROM tags;",
        )
        .unwrap();
    let sync = Conn::Sync(common::backend::postgres_session(&schema));
    for conn in [&conn, &sync] {
        let place = conn.name();
        let posts = on!(conn, wait, |db| {
            db.reset_query_log();
            wait!(
                PostSeen::query()
                    .filter(|p| p.id.le(1_200))
                    .preload(PostSeen::tags())
                    .all(db)
            )
            .unwrap()
        });
        assert_eq!(conn.query_count(), 3, "{place}: {:#?}", conn.query_log());
        let seen_at = &posts[0].seen_at;
        let tags: Vec<&TagSeen> = posts
            .iter()
            .flat_map(|p| p.tags().iter().map(|t| t.entity()))
            .collect();
        assert!(tags.len() > 2_400, "{place}");
        assert!(
            posts.iter().all(|p| &p.seen_at == seen_at)
                && tags.iter().all(|t| &t.seen_at == seen_at),
            "{place}: every statement in one transaction"
        );
    }
}
