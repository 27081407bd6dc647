//! Filters, orderings, limits, per-parent limits and related counts, each
//! checked against a hand-written SQL query on the same data, with the
//! number of statements.

#![allow(clippy::duplicated_attributes)]

mod common;

use loader_runtime::{Backend, Db, Entity};

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "users")]
#[has_many(Post, fk = "author_id")]
#[many_to_many(Tag, through = "user_tags", fk = "user_id", target_fk = "tag_id")]
struct User {
    id: i64,
    username: String,
    active: bool,
    karma: Option<i64>,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "posts")]
#[belongs_to(User, fk = "author_id", name = "author")]
#[has_many(Comment, fk = "post_id")]
#[has_one(Comment, fk = "post_id", name = "top_comment")]
struct Post {
    id: i64,
    author_id: i64,
    published: bool,
    created_at: i64,
    title: String,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "comments")]
struct Comment {
    id: i64,
    post_id: i64,
    approved: bool,
    score: i64,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "tags")]
struct Tag {
    id: i64,
    name: String,
}

/// 30 users; user `u` has `u % 7` posts (so some have none); post times
/// repeat so that orderings have ties; comments vary in count and approval.
fn dbs() -> Vec<Db> {
    let dbs = common::backend::databases();
    for db in &dbs {
        // The same data on both: only auto-numbered keys and zero-padding
        // are written differently.
        let (serial, username) = match db.backend() {
            Backend::Postgres => (
                "SERIAL PRIMARY KEY",
                "'user' || lpad((31 - i)::text, 2, '0')",
            ),
            _ => ("INTEGER PRIMARY KEY", "printf('user%02d', 31 - i)"),
        };
        db.execute_batch(&format!(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL, active BOOLEAN NOT NULL,
                                 karma INTEGER);
             CREATE TABLE posts (id {serial}, author_id INTEGER NOT NULL, published BOOLEAN NOT NULL,
                                 created_at INTEGER NOT NULL, title TEXT NOT NULL);
             CREATE TABLE comments (id {serial}, post_id INTEGER NOT NULL, approved BOOLEAN NOT NULL,
                                    score INTEGER NOT NULL);
             CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
             CREATE TABLE user_tags (user_id INTEGER NOT NULL, tag_id INTEGER NOT NULL);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30)
             INSERT INTO users SELECT i, {username}, i % 3 <> 0,
                                      CASE WHEN i % 4 = 0 THEN NULL ELSE i * 10 END FROM n;
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30),
                            k(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM k WHERE j < 6)
             INSERT INTO posts (author_id, published, created_at, title)
             SELECT i, (i + j) % 3 <> 0, (j * 7) % 4, 'post ' || i || '.' || j FROM n, k WHERE j <= i % 7 ORDER BY i, j;
             WITH RECURSIVE k(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM k WHERE j < 5)
             INSERT INTO comments (post_id, approved, score)
             SELECT p.id, (p.id + j) % 2 = 0, (p.id * j) % 11 FROM posts p, k WHERE j <= p.id % 5 ORDER BY p.id, j;
             INSERT INTO tags VALUES (1, 'rust'), (2, 'sql'), (3, 'go'), (4, 'zig');
             INSERT INTO user_tags SELECT id, 1 + id % 4 FROM users;
             INSERT INTO user_tags SELECT id, 1 + (id + 1) % 4 FROM users WHERE id % 2 = 0;",
        ))
        .unwrap();
    }
    dbs
}

/// The ids a hand-written query returns, in its order.
fn ids(db: &Db, sql: &str) -> Vec<i64> {
    common::backend::integer_rows(db, sql)
        .into_iter()
        .map(|row| row[0].unwrap())
        .collect()
}

/// `owner id → ids` from a hand-written query of `(owner, id)` rows.
fn grouped(db: &Db, sql: &str) -> std::collections::BTreeMap<i64, Vec<i64>> {
    let mut map = std::collections::BTreeMap::<i64, Vec<i64>>::new();
    for row in common::backend::integer_rows(db, sql) {
        map.entry(row[0].unwrap())
            .or_default()
            .push(row[1].unwrap());
    }
    map
}

#[test]
fn root_filter_order_limit_offset() {
    for db in dbs() {
        let users = User::query()
            .filter(|u| u.active.eq(true))
            .order_by(|u| u.username.asc())
            .limit(5)
            .offset(3)
            .all(&db)
            .unwrap();
        let got: Vec<i64> = users.iter().map(|u| u.id).collect();
        assert_eq!(
            got,
            ids(
                &db,
                "SELECT id FROM users WHERE active ORDER BY username, id LIMIT 5 OFFSET 3"
            )
        );
        assert_eq!(db.query_count(), 1);
        let offset_only = User::query().offset(28).all(&db).unwrap();
        assert_eq!(
            offset_only.iter().map(|u| u.id).collect::<Vec<_>>(),
            [29, 30]
        );
    }
}

/// Page sizes come as `usize` in most programs: `limit`, `offset` and
/// `limit_per_parent` take any unsigned integer; a negative count is 0.
#[test]
fn counts_of_any_integer_type() {
    for db in dbs() {
        let (page_size, page): (usize, u32) = (4, 2);
        let paged = User::query()
            .limit(page_size)
            .offset(page * 4)
            .preload(User::posts().limit_per_parent(page_size))
            .all(&db)
            .unwrap();
        assert_eq!(
            paged.iter().map(|u| u.id).collect::<Vec<_>>(),
            ids(&db, "SELECT id FROM users ORDER BY id LIMIT 4 OFFSET 8")
        );
        assert!(paged.iter().all(|u| u.posts().len() <= 4));
        let none = User::query().limit(-3).all(&db).unwrap();
        assert!(none.is_empty());
        let all = User::query()
            .offset(-1i64)
            .limit(u64::MAX)
            .all(&db)
            .unwrap();
        assert_eq!(all.len(), 30);
    }
}

#[test]
fn every_predicate_matches_its_sql() {
    for db in dbs() {
        type Filter = fn(&<User as Entity>::Columns) -> loader_runtime::Expr<User>;
        let cases: Vec<(Filter, &str)> = vec![
            (|u| u.id.eq(7), "id = 7"),
            (|u| u.id.ne(7), "id <> 7"),
            (|u| u.id.lt(7), "id < 7"),
            (|u| u.id.le(7), "id <= 7"),
            (|u| u.id.gt(27), "id > 27"),
            (|u| u.id.ge(27), "id >= 27"),
            (|u| u.id.is_in([3, 5, 99]), "id IN (3, 5, 99)"),
            (|u| u.username.eq("user05"), "username = 'user05'"),
            (|u| u.username.like("user1%"), "username LIKE 'user1%'"),
            (|u| u.karma.is_null(), "karma IS NULL"),
            (|u| u.karma.is_not_null(), "karma IS NOT NULL"),
            (|u| u.karma.gt(150), "karma > 150"),
            (|u| u.karma.eq(Some(50)), "karma = 50"),
            (|u| u.active.eq(true).and(u.id.lt(10)), "active AND id < 10"),
            (|u| u.id.lt(3).or(u.id.gt(28)), "id < 3 OR id > 28"),
            (|u| !u.active.eq(true), "NOT active"),
            (|u| u.karma.gt(100).not(), "NOT (karma > 100)"),
            (
                |u| u.id.lt(5).or(u.id.gt(25)).and(u.active.eq(false)),
                "(id < 5 OR id > 25) AND NOT active",
            ),
        ];
        for (filter, sql) in cases {
            let got: Vec<i64> = User::query()
                .filter(filter)
                .all(&db)
                .unwrap()
                .iter()
                .map(|u| u.id)
                .collect();
            let expected = ids(
                &db,
                &format!("SELECT id FROM users WHERE {sql} ORDER BY id"),
            );
            assert!(!expected.is_empty(), "{sql} selects something");
            assert_eq!(got, expected, "{sql}");
        }
    }
}

#[test]
fn a_value_with_quotes_is_bound() {
    for db in dbs() {
        db.execute_batch("INSERT INTO users VALUES (99, 'o''reilly'' OR 1=1 --', TRUE, NULL)")
            .unwrap();
        let users = User::query()
            .filter(|u| u.username.eq("o'reilly' OR 1=1 --"))
            .all(&db)
            .unwrap();
        assert_eq!(users.len(), 1);
        let sql = db.query_log()[0].sql.to_string();
        assert!(sql.contains("?1") || sql.contains("$1"), "{sql}");
    }
}

#[test]
fn filtered_roots_bind_their_keys_for_children() {
    for db in dbs() {
        let users = User::query()
            .filter(|u| u.id.is_in([5, 6, 13]))
            .preload(User::posts())
            .all(&db)
            .unwrap();
        assert_eq!(db.query_count(), 2);
        let log = db.query_log();
        assert!(
            log[1].sql.contains(common::backend::key_set(&db)),
            "{}",
            log[1].sql
        );
        assert_eq!(log[1].bound_values, 3);
        let counts: Vec<usize> = users.iter().map(|u| u.posts().len()).collect();
        assert_eq!(counts, [5, 6, 6]);
    }
}

#[test]
fn scoped_preload_filter_and_order_at_depth() {
    for db in dbs() {
        let users = User::query()
            .preload(
                User::posts()
                    .filter(|p| p.published.eq(true))
                    .order_by(|p| p.created_at.desc())
                    .preload(
                        Post::comments()
                            .filter(|c| c.approved.eq(true))
                            .order_by(|c| c.score.desc()),
                    ),
            )
            .all(&db)
            .unwrap();
        assert_eq!(db.query_count(), 3);
        let posts = grouped(
            &db,
            "SELECT author_id, id FROM posts WHERE published ORDER BY author_id, created_at DESC, id",
        );
        let comments = grouped(
            &db,
            "SELECT c.post_id, c.id FROM comments c JOIN posts p ON p.id = c.post_id
         WHERE p.published AND c.approved ORDER BY c.post_id, c.score DESC, c.id",
        );
        for user in &users {
            let got: Vec<i64> = user.posts().iter().map(|p| p.id).collect();
            assert_eq!(
                got,
                posts.get(&user.id).cloned().unwrap_or_default(),
                "user {}",
                user.id
            );
            for post in user.posts() {
                let got: Vec<i64> = post.comments().iter().map(|c| c.id).collect();
                assert_eq!(got, comments.get(&post.id).cloned().unwrap_or_default());
            }
        }
    }
}

#[test]
fn per_parent_limit_with_ties_fewer_and_zero() {
    for db in dbs() {
        for limit in [0u64, 1, 3, 10] {
            db.reset_query_log();
            let users = User::query()
                .preload(
                    User::posts()
                        .order_by(|p| p.created_at.desc())
                        .limit_per_parent(limit),
                )
                .all(&db)
                .unwrap();
            assert_eq!(db.query_count(), 2);
            assert!(
                db.query_log()[1]
                    .sql
                    .contains("ROW_NUMBER() OVER (PARTITION BY")
            );
            // created_at repeats within a user's posts: ties break by id.
            let expected = grouped(
            &db,
            &format!(
                "SELECT author_id, id FROM (
                   SELECT author_id, id, created_at,
                          ROW_NUMBER() OVER (PARTITION BY author_id ORDER BY created_at DESC, id) AS n
                   FROM posts) AS ranked WHERE n <= {limit} ORDER BY author_id, created_at DESC, id"
            ),
        );
            for user in &users {
                let got: Vec<i64> = user.posts().iter().map(|p| p.id).collect();
                let want = expected.get(&user.id).cloned().unwrap_or_default();
                assert_eq!(got, want, "limit {limit}, user {}", user.id);
                let all = (user.id % 7) as usize;
                assert_eq!(
                    got.len(),
                    all.min(limit as usize),
                    "fewer than the limit keep all"
                );
            }
        }
    }
}

/// Page `k` of every user's posts in one statement: rows `offset + 1` to
/// `offset + limit` of each user, in the preload's order; an offset alone
/// skips that many of each.
#[test]
fn per_parent_pages_by_offset() {
    for db in dbs() {
        for (limit, offset) in [
            (Some(2u64), 0u64),
            (Some(2), 2),
            (Some(3), 5),
            (None, 1),
            (Some(4), 100),
        ] {
            db.reset_query_log();
            let mut posts = User::posts()
                .order_by(|p| p.created_at.desc())
                .offset_per_parent(offset);
            if let Some(limit) = limit {
                posts = posts.limit_per_parent(limit);
            }
            let users = User::query().preload(posts).all(&db).unwrap();
            assert_eq!(db.query_count(), 2);
            let last = limit.map_or(i64::MAX, |limit| (offset + limit) as i64);
            let expected = grouped(
                &db,
                &format!(
                    "SELECT author_id, id FROM (
                       SELECT author_id, id, created_at,
                              ROW_NUMBER() OVER (PARTITION BY author_id ORDER BY created_at DESC, id) AS n
                       FROM posts) AS ranked WHERE n > {offset} AND n <= {last}
                     ORDER BY author_id, created_at DESC, id"
                ),
            );
            for user in &users {
                let got: Vec<i64> = user.posts().iter().map(|p| p.id).collect();
                let want = expected.get(&user.id).cloned().unwrap_or_default();
                assert_eq!(
                    got, want,
                    "limit {limit:?}, offset {offset}, user {}",
                    user.id
                );
            }
            assert!(
                offset >= 100 || users.iter().any(|u| !u.posts().is_empty()),
                "limit {limit:?}, offset {offset}: some page is not empty"
            );
        }
    }
}

/// A page of each user's posts and each user's total, without loading
/// every post: the page and a count of the same filter at one level, one
/// statement each.
#[test]
fn per_parent_page_with_its_total() {
    for db in dbs() {
        db.reset_query_log();
        let users = User::query()
            .preload(
                User::posts()
                    .filter(|p| p.published.eq(true))
                    .order_by(|p| p.created_at.desc())
                    .limit_per_parent(2)
                    .offset_per_parent(1),
            )
            .preload(User::posts().filter(|p| p.published.eq(true)).count())
            .all(&db)
            .unwrap();
        assert_eq!(db.query_count(), 3);
        let totals = grouped(
            &db,
            "SELECT author_id, id FROM posts WHERE published ORDER BY author_id, id",
        );
        for user in &users {
            let total = totals.get(&user.id).map_or(0, Vec::len);
            assert_eq!(user.posts_count(), total, "user {}", user.id);
            assert_eq!(
                user.posts().len(),
                total.saturating_sub(1).min(2),
                "user {}",
                user.id
            );
        }
        assert!(users.iter().any(|u| u.posts_count() > 3));
    }
}

#[test]
fn per_parent_limit_through_bound_keys_and_many_to_many() {
    for db in dbs() {
        let posts = Post::query()
            .filter(|p| p.author_id.le(8))
            .preload(
                Post::author()
                    .preload(User::tags().order_by(|t| t.name.desc()).limit_per_parent(1)),
            )
            .preload(
                Post::top_comment()
                    .filter(|c| c.approved.eq(true))
                    .order_by(|c| c.score.desc()),
            )
            .all(&db)
            .unwrap();
        assert_eq!(db.query_count(), 4);
        let top_tags = grouped(
            &db,
            "SELECT user_id, id FROM (SELECT ut.user_id, t.id, t.name,
                ROW_NUMBER() OVER (PARTITION BY ut.user_id ORDER BY t.name DESC, t.id) AS n
                FROM tags t JOIN user_tags ut ON ut.tag_id = t.id) AS ranked WHERE n <= 1",
        );
        let top_comments = grouped(
            &db,
            "SELECT post_id, id FROM comments WHERE approved ORDER BY post_id, score DESC, id",
        );
        for post in &posts {
            let tags: Vec<i64> = post.author().tags().iter().map(|t| t.id).collect();
            assert_eq!(tags, top_tags[&post.author_id]);
            let top = post.top_comment().map(|c| c.id);
            assert_eq!(top, top_comments.get(&post.id).map(|c| c[0]));
        }
    }
}

#[test]
fn related_counts_without_loading_rows() {
    for db in dbs() {
        let users = User::query()
            .preload(User::posts().count())
            .preload(User::tags().count())
            .all(&db)
            .unwrap();
        assert_eq!(db.query_count(), 3);
        assert!(db.query_log()[1].sql.contains("GROUP BY"));
        let all = grouped(
            &db,
            "SELECT author_id, COUNT(*) FROM posts GROUP BY author_id",
        );
        let tags = grouped(
            &db,
            "SELECT user_id, COUNT(*) FROM user_tags GROUP BY user_id",
        );
        for user in &users {
            let expected = all.get(&user.id).map_or(0, |c| c[0]) as usize;
            assert_eq!(user.posts_count(), expected);
            assert_eq!(user.tags_count(), tags[&user.id][0] as usize);
        }
        // A filtered count honours its filter.
        let users = User::query()
            .preload(User::posts().filter(|p| p.published.eq(true)).count())
            .all(&db)
            .unwrap();
        let published = grouped(
            &db,
            "SELECT author_id, COUNT(*) FROM posts WHERE published GROUP BY author_id",
        );
        for user in &users {
            assert_eq!(
                user.posts_count(),
                published.get(&user.id).map_or(0, |c| c[0]) as usize
            );
        }
    }
}

#[test]
fn counts_nested_under_a_scoped_preload() {
    for db in dbs() {
        let users = User::query()
            .filter(|u| u.active.eq(true))
            .order_by(|u| u.username.asc())
            .limit(4)
            .preload(
                User::posts()
                    .filter(|p| p.published.eq(true))
                    .order_by(|p| p.created_at.desc())
                    .limit_per_parent(2)
                    .preload(Post::comments().count()),
            )
            .all(&db)
            .unwrap();
        assert_eq!(db.query_count(), 3);
        assert_eq!(users.len(), 4);
        let comments = grouped(
            &db,
            "SELECT post_id, COUNT(*) FROM comments GROUP BY post_id",
        );
        for user in &users {
            assert!(user.posts().len() <= 2);
            for post in user.posts() {
                assert!(post.published);
                assert_eq!(
                    post.comments_count(),
                    comments.get(&post.id).map_or(0, |c| c[0]) as usize
                );
                assert_eq!(
                    post.comments_count(),
                    post.load_comments(&db).unwrap().len()
                );
            }
        }
    }
}

#[test]
fn find_with_a_filter() {
    for db in dbs() {
        let inactive = User::query()
            .filter(|u| u.active.eq(false))
            .find(&db, &3)
            .unwrap();
        assert_eq!(inactive.map(|u| u.id), Some(3));
        let active = User::query()
            .filter(|u| u.active.eq(true))
            .find(&db, &3)
            .unwrap();
        assert!(active.is_none(), "user 3 is inactive");
        let columns = User::columns();
        let by_hand = User::query().filter(|_| columns.id.eq(4)).all(&db).unwrap();
        assert_eq!(by_hand.len(), 1);
    }
}

/// Keyset pagination of each user's posts: the posts after a cursor post
/// in the preload's order (created_at descending, with ties, then id), at
/// most 2 a user, one statement, equal to the hand-written comparison for
/// every cursor; and walking one user's posts page by page by the last key
/// seen reads each post once, in order.
#[test]
fn per_parent_keyset_pages() {
    for db in dbs() {
        let place = common::backend::name(&db);
        let cursors = ids(&db, "SELECT id FROM posts WHERE id % 5 = 1 ORDER BY id");
        assert!(cursors.len() > 3, "{place}");
        for cursor in cursors {
            db.reset_query_log();
            let users = User::query()
                .preload(
                    User::posts()
                        .order_by(|p| p.created_at.desc())
                        .after(&cursor)
                        .limit_per_parent(2),
                )
                .all(&db)
                .unwrap();
            assert_eq!(db.query_count(), 2, "{place}");
            let expected = grouped(
                &db,
                &format!(
                    "SELECT author_id, id FROM (
                       SELECT p.author_id, p.id, p.created_at, ROW_NUMBER() OVER (
                         PARTITION BY p.author_id ORDER BY p.created_at DESC, p.id) AS n
                       FROM posts p, posts c WHERE c.id = {cursor}
                         AND (p.created_at < c.created_at OR (p.created_at = c.created_at AND p.id > c.id))
                     ) AS ranked WHERE n <= 2 ORDER BY author_id, n"
                ),
            );
            for user in &users {
                let got: Vec<i64> = user.posts().iter().map(|p| p.id).collect();
                let want = expected.get(&user.id).cloned().unwrap_or_default();
                assert_eq!(got, want, "{place}: cursor {cursor}, user {}", user.id);
            }
            // A count after the cursor counts what the pages would read.
            let counted = User::query()
                .preload(
                    User::posts()
                        .order_by(|p| p.created_at.desc())
                        .after(&cursor)
                        .count(),
                )
                .all(&db)
                .unwrap();
            let totals = grouped(
                &db,
                &format!(
                    "SELECT p.author_id, COUNT(*) FROM posts p, posts c WHERE c.id = {cursor}
                       AND (p.created_at < c.created_at OR (p.created_at = c.created_at AND p.id > c.id))
                     GROUP BY p.author_id"
                ),
            );
            for user in &counted {
                let want = totals.get(&user.id).map_or(0, |rows| rows[0] as usize);
                assert_eq!(user.posts_count(), want, "{place}: cursor {cursor}");
            }
        }
        // Walk user 6's posts (6 of them, created_at ties) 2 at a time.
        let all: Vec<i64> = ids(
            &db,
            "SELECT id FROM posts WHERE author_id = 6 ORDER BY created_at DESC, id",
        );
        assert_eq!(all.len(), 6, "{place}");
        let mut walked = Vec::new();
        let mut cursor: Option<i64> = None;
        loop {
            let mut posts = User::posts()
                .order_by(|p| p.created_at.desc())
                .limit_per_parent(2);
            if let Some(cursor) = &cursor {
                posts = posts.after(cursor);
            }
            let users = User::query()
                .filter(|u| u.id.eq(6))
                .preload(posts)
                .all(&db)
                .unwrap();
            let page: Vec<i64> = users[0].posts().iter().map(|p| p.id).collect();
            if page.is_empty() {
                break;
            }
            assert!(page.len() <= 2 && walked.len() < 10, "{place}: {walked:?}");
            cursor = page.last().copied();
            walked.extend(page);
        }
        assert_eq!(walked, all, "{place}: every post once, in order");
        // A cursor whose row is gone keeps no row.
        let users = User::query()
            .preload(User::posts().after(&999_999).limit_per_parent(2))
            .all(&db)
            .unwrap();
        assert!(users.iter().all(|u| u.posts().is_empty()), "{place}");
    }
}

/// Keyset pagination of a root query over a nullable column, ascending and
/// descending: the pages, walked by the last key seen, are the whole
/// ordering, `NULL`s where the database puts them (first ascending on
/// SQLite, last on PostgreSQL).
#[test]
fn root_keyset_pages_over_a_nullable_column() {
    for db in dbs() {
        let place = common::backend::name(&db);
        for descending in [false, true] {
            let order = |u: &<User as Entity>::Columns| {
                if descending {
                    u.karma.desc()
                } else {
                    u.karma.asc()
                }
            };
            let all: Vec<i64> = User::query()
                .order_by(order)
                .all(&db)
                .unwrap()
                .iter()
                .map(|u| u.id)
                .collect();
            let direction = if descending { "DESC" } else { "ASC" };
            assert_eq!(
                all,
                ids(
                    &db,
                    &format!("SELECT id FROM users ORDER BY karma {direction}, id")
                ),
                "{place}"
            );
            let mut walked = Vec::new();
            let mut cursor: Option<i64> = None;
            for _ in 0..20 {
                let mut query = User::query().order_by(order).limit(4);
                if let Some(cursor) = &cursor {
                    query = query.after(cursor);
                }
                let page: Vec<i64> = query.all(&db).unwrap().iter().map(|u| u.id).collect();
                if page.is_empty() {
                    break;
                }
                cursor = page.last().copied();
                walked.extend(page);
            }
            assert_eq!(walked, all, "{place}: karma {direction}");
        }
    }
}
