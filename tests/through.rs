//! `has_many` through other relations: through a has_many to a has_many
//! (a user's comments, through posts), to a belongs_to (the categories of
//! a user's posts, each once), to a many_to_many (their tags), through a
//! many_to_many (the members of a user's groups), and chained three deep
//! on one table (an employee's reports' reports' reports). Each preload is
//! one statement that decodes no middle row (or, through a has_many to a
//! has_many, the middle rows' two keys and the targets; see
//! `tests/through_middles.rs`), checked against hand-written
//! SQL on both databases and both APIs, with NULL and dangling keys, and
//! scoped, counted, nested, lazily loaded and used in relation filters.

#![allow(clippy::duplicated_attributes)]

mod common;

use std::collections::BTreeMap;

use common::backend::{integer_rows, name};
use common::conn::conns;
use common::filters::{FilterCase, check_filter, explain};
use loader_runtime::{Db, Entity, Keyed};

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "users")]
#[has_many(Post, fk = "author_id")]
#[has_many(Comment, through = "posts")]
#[has_many(Category, through = "posts", source = "category")]
#[has_many(Tag, through = "posts")]
#[many_to_many(Group, through = "memberships", fk = "user_id", target_fk = "group_id")]
#[has_many(User, through = "groups", source = "members", name = "peers")]
struct User {
    id: i64,
    name: String,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "posts")]
#[belongs_to(User, fk = "author_id", name = "author")]
#[belongs_to(Category, fk = "category_id")]
#[has_many(Comment, fk = "post_id")]
#[many_to_many(Tag, through = "post_tags", fk = "post_id", target_fk = "tag_id")]
struct Post {
    id: i64,
    author_id: i64,
    category_id: Option<i64>,
    title: String,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "comments")]
#[belongs_to(Post, fk = "post_id")]
struct Comment {
    id: i64,
    post_id: i64,
    score: Option<i64>,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "categories")]
#[has_many(Post, fk = "category_id")]
#[has_many(Comment, through = "posts")]
struct Category {
    id: i64,
    name: String,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "tags")]
struct Tag {
    id: i64,
    label: String,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "groups")]
#[many_to_many(
    User,
    through = "memberships",
    fk = "group_id",
    target_fk = "user_id",
    name = "members"
)]
#[has_many(Comment, through = "members", source = "comments")]
struct Group {
    id: i64,
    name: String,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "employees")]
#[has_many(Employee, fk = "reports_to", name = "reports")]
#[has_many(
    Employee,
    through = "reports",
    source = "reports",
    name = "second_line"
)]
#[has_many(
    Employee,
    through = "reports",
    source = "second_line",
    name = "third_line"
)]
struct Employee {
    id: i64,
    name: String,
    reports_to: Option<i64>,
}

/// Users 1–5 (5 has no posts, 4 only a post without category or
/// comments); posts with a NULL and a dangling (99) category, two posts of
/// one user in one category; comments with NULL scores; tags shared by
/// posts of one user and a dangling tag link; groups sharing members; a
/// four-level hierarchy of employees and one reporting to nobody who exists.
fn fill(db: &Db) {
    db.execute_batch(
        "CREATE TABLE users (id BIGINT PRIMARY KEY, name TEXT NOT NULL);
         CREATE TABLE categories (id BIGINT PRIMARY KEY, name TEXT NOT NULL);
         CREATE TABLE posts (id BIGINT PRIMARY KEY, author_id BIGINT NOT NULL, category_id BIGINT,
                             title TEXT NOT NULL);
         CREATE TABLE comments (id BIGINT PRIMARY KEY, post_id BIGINT NOT NULL, score BIGINT);
         CREATE TABLE tags (id BIGINT PRIMARY KEY, label TEXT NOT NULL);
         CREATE TABLE post_tags (post_id BIGINT NOT NULL, tag_id BIGINT NOT NULL);
         CREATE TABLE groups (id BIGINT PRIMARY KEY, name TEXT NOT NULL);
         CREATE TABLE memberships (user_id BIGINT NOT NULL, group_id BIGINT NOT NULL);
         CREATE TABLE employees (id BIGINT PRIMARY KEY, name TEXT NOT NULL, reports_to BIGINT);
         INSERT INTO users VALUES (1, 'ada'), (2, 'grace'), (3, 'edsger'), (4, 'barbara'), (5, 'ken');
         INSERT INTO categories VALUES (1, 'essays'), (2, 'notes'), (3, 'unused');
         INSERT INTO posts VALUES (10, 1, 2, 'a'), (11, 2, 1, 'b'), (12, 1, 2, 'c'), (13, 3, NULL, 'd'),
                                  (14, 1, 1, 'e'), (15, 3, 99, 'f'), (16, 2, 1, 'g'), (17, 4, NULL, 'h');
         INSERT INTO comments VALUES (100, 12, 7), (101, 10, NULL), (102, 11, 2), (103, 14, 9),
                                     (104, 12, 8), (105, 13, NULL), (106, 16, 1), (107, 10, 3);
         INSERT INTO tags VALUES (1, 'rust'), (2, 'sql'), (3, 'unused');
         INSERT INTO post_tags VALUES (10, 1), (10, 2), (12, 1), (14, 2), (11, 1), (15, 42), (13, 2);
         INSERT INTO groups VALUES (1, 'compilers'), (2, 'databases'), (3, 'empty');
         INSERT INTO memberships VALUES (1, 1), (2, 1), (1, 2), (3, 2), (4, 2), (2, 2);
         INSERT INTO employees VALUES (1, 'andrew', NULL), (2, 'nancy', 1), (3, 'jane', 2),
                                      (4, 'margaret', 2), (5, 'steven', 1), (6, 'michael', 5),
                                      (7, 'robert', 3), (8, 'laura', 4), (9, 'anne', 99);",
    )
    .unwrap();
}

/// `owner → [target]` from hand-written SQL selecting `(owner, target)`
/// pairs; each owner in `owners` present, empty lists included.
fn grouped(db: &Db, owners: &[i64], sql: &str) -> BTreeMap<i64, Vec<i64>> {
    let mut map: BTreeMap<i64, Vec<i64>> = owners.iter().map(|&o| (o, Vec::new())).collect();
    for row in integer_rows(db, sql) {
        map.entry(row[0].unwrap())
            .or_default()
            .push(row[1].unwrap());
    }
    map
}

fn keys<E: Keyed<Key = i64>>(
    rows: impl IntoIterator<Item = impl std::ops::Deref<Target = E>>,
) -> Vec<i64> {
    rows.into_iter().map(|row| *row.key()).collect()
}

const USERS: &[i64] = &[1, 2, 3, 4, 5];

#[test]
fn each_chain_preloads_equal_to_hand_written_sql() {
    for conn in conns(fill) {
        let place = format!("{} {}", name(conn.sync()), conn.name());
        let db = conn.sync();
        let want_comments = grouped(
            db,
            USERS,
            "SELECT p.author_id, c.id FROM comments c JOIN posts p ON p.id = c.post_id ORDER BY 1, 2",
        );
        let want_categories = grouped(
            db,
            USERS,
            "SELECT DISTINCT p.author_id, c.id FROM categories c JOIN posts p ON p.category_id = c.id ORDER BY 1, 2",
        );
        let want_tags = grouped(
            db,
            USERS,
            "SELECT DISTINCT p.author_id, t.id FROM tags t JOIN post_tags pt ON pt.tag_id = t.id
             JOIN posts p ON p.id = pt.post_id ORDER BY 1, 2",
        );
        let want_peers = grouped(
            db,
            USERS,
            "SELECT DISTINCT mine.user_id, theirs.user_id FROM memberships mine
             JOIN memberships theirs ON theirs.group_id = mine.group_id
             JOIN users u ON u.id = theirs.user_id ORDER BY 1, 2",
        );
        let (statements, comments, categories, tags, peers) = on!(&conn, wait, |db| {
            db.reset_query_log();
            let users = wait!(
                User::query()
                    .preload(User::comments())
                    .preload(User::categories())
                    .preload(User::tags())
                    .preload(User::peers())
                    .all(db)
            )
            .unwrap();
            let by_user = |f: &dyn Fn(&loader_runtime::Loaded<User, _>) -> Vec<i64>| {
                users
                    .iter()
                    .map(|u| (u.id, f(u)))
                    .collect::<BTreeMap<_, _>>()
            };
            (
                db.query_log()
                    .iter()
                    .map(|q| q.sql.to_string())
                    .collect::<Vec<_>>(),
                by_user(&|u| u.comments().iter().map(|c| c.id).collect()),
                by_user(&|u| u.categories().iter().map(|c| c.id).collect()),
                by_user(&|u| u.tags().iter().map(|t| t.id).collect()),
                by_user(&|u| u.peers().iter().map(|p| p.id).collect()),
            )
        });
        assert_eq!(
            statements.len(),
            7,
            "{place}: the root; the posts' keys and the comments; the posts' (author, category) pairs \
             and the categories; tags and peers: {statements:#?}"
        );
        // The middle rows are joined or their keys read, never decoded.
        for sql in &statements[1..] {
            let selected = &sql[..sql.find(" FROM ").unwrap()];
            assert!(!selected.contains("\"posts\".\"title\""), "{place}: {sql}");
        }
        assert_eq!(comments, want_comments, "{place}: comments through posts");
        assert_eq!(
            categories, want_categories,
            "{place}: categories through posts, each once"
        );
        assert_eq!(tags, want_tags, "{place}: tags through posts, each once");
        assert_eq!(
            peers, want_peers,
            "{place}: members of a user's groups, each once"
        );
        // Not trivially empty or equal.
        assert_eq!(comments[&1], [100, 101, 103, 104, 107], "{place}");
        assert_eq!(categories[&1], [1, 2], "{place}");
        assert_eq!(
            categories[&3],
            Vec::<i64>::new(),
            "{place}: NULL and dangling categories"
        );
        assert_eq!(peers[&5], Vec::<i64>::new(), "{place}");
    }
}

#[test]
fn chains_through_a_chain_and_through_one_table_several_times() {
    for conn in conns(fill) {
        let place = format!("{} {}", name(conn.sync()), conn.name());
        let db = conn.sync();
        let employees: Vec<i64> = (1..=9).collect();
        let want_second = grouped(
            db,
            &employees,
            "SELECT a.id, c.id FROM employees a JOIN employees b ON b.reports_to = a.id
             JOIN employees c ON c.reports_to = b.id ORDER BY 1, 2",
        );
        let want_third = grouped(
            db,
            &employees,
            "SELECT a.id, d.id FROM employees a JOIN employees b ON b.reports_to = a.id
             JOIN employees c ON c.reports_to = b.id JOIN employees d ON d.reports_to = c.id ORDER BY 1, 2",
        );
        let want_group_comments = grouped(
            db,
            &[1, 2, 3],
            "SELECT DISTINCT m.group_id, c.id FROM comments c JOIN posts p ON p.id = c.post_id
             JOIN memberships m ON m.user_id = p.author_id ORDER BY 1, 2",
        );
        let (statements, second, third, group_comments) = on!(&conn, wait, |db| {
            db.reset_query_log();
            let employees = wait!(
                Employee::query()
                    .preload(Employee::second_line())
                    .preload(Employee::third_line())
                    .all(db)
            )
            .unwrap();
            let groups = wait!(Group::query().preload(Group::comments()).all(db)).unwrap();
            (
                db.query_count(),
                employees
                    .iter()
                    .map(|e| {
                        (
                            e.id,
                            e.second_line().iter().map(|r| r.id).collect::<Vec<_>>(),
                        )
                    })
                    .collect::<BTreeMap<_, _>>(),
                employees
                    .iter()
                    .map(|e| {
                        (
                            e.id,
                            e.third_line().iter().map(|r| r.id).collect::<Vec<_>>(),
                        )
                    })
                    .collect::<BTreeMap<_, _>>(),
                groups
                    .iter()
                    .map(|g| (g.id, g.comments().iter().map(|c| c.id).collect::<Vec<_>>()))
                    .collect::<BTreeMap<_, _>>(),
            )
        });
        assert_eq!(
            statements, 6,
            "{place}: two roots, the reports' keys and theirs, two joins"
        );
        assert_eq!(second, want_second, "{place}: reports of reports");
        assert_eq!(third, want_third, "{place}: three deep on one table");
        assert_eq!(second[&1], [3, 4, 6], "{place}");
        assert_eq!(third[&1], [7, 8], "{place}");
        assert_eq!(
            group_comments, want_group_comments,
            "{place}: through a many_to_many, then a chain"
        );
    }
}

#[test]
fn lazy_loads_equal_the_preload() {
    for conn in conns(fill) {
        let place = format!("{} {}", name(conn.sync()), conn.name());
        on!(&conn, wait, |db| {
            let users = wait!(
                User::query()
                    .preload(User::comments())
                    .preload(User::categories())
                    .preload(User::peers())
                    .all(db)
            )
            .unwrap();
            for user in &users {
                db.reset_query_log();
                let comments = wait!(user.load_comments(db)).unwrap();
                let categories = wait!(user.load_categories(db)).unwrap();
                let peers = wait!(user.load_peers(db)).unwrap();
                assert_eq!(db.query_count(), 3, "{place}: one statement each");
                assert_eq!(
                    keys(comments.iter()),
                    user.comments().iter().map(|c| c.id).collect::<Vec<_>>(),
                    "{place}: user {}",
                    user.id
                );
                assert_eq!(
                    keys(categories.iter()),
                    user.categories().iter().map(|c| c.id).collect::<Vec<_>>(),
                    "{place}: user {}",
                    user.id
                );
                assert_eq!(
                    keys(peers.iter()),
                    user.peers().iter().map(|p| p.id).collect::<Vec<_>>(),
                    "{place}: user {}",
                    user.id
                );
            }
        });
    }
}

#[test]
fn scoped_counted_and_nested() {
    for conn in conns(fill) {
        let place = format!("{} {}", name(conn.sync()), conn.name());
        let db = conn.sync();
        // Each user's two latest comments by id.
        let want_best = grouped(
            db,
            USERS,
            "SELECT author_id, id FROM (
               SELECT p.author_id, c.id, ROW_NUMBER() OVER (PARTITION BY p.author_id
                 ORDER BY c.id DESC) AS n
               FROM comments c JOIN posts p ON p.id = c.post_id) AS ranked
             WHERE n <= 2 ORDER BY author_id, n",
        );
        // The first category by name of each user's distinct categories.
        let want_first_category = grouped(
            db,
            USERS,
            "SELECT author_id, id FROM (
               SELECT author_id, id, ROW_NUMBER() OVER (PARTITION BY author_id ORDER BY name, id) AS n
               FROM (SELECT DISTINCT p.author_id, c.id, c.name FROM categories c
                     JOIN posts p ON p.category_id = c.id) AS d) AS ranked
             WHERE n <= 1 ORDER BY author_id",
        );
        let count = |sql: &str| -> BTreeMap<i64, usize> {
            grouped(db, USERS, sql)
                .into_iter()
                .map(|(user, rows)| (user, rows.first().copied().unwrap_or(0) as usize))
                .collect()
        };
        let want_tag_counts = count(
            "SELECT p.author_id, COUNT(DISTINCT pt.tag_id) FROM post_tags pt JOIN tags t ON t.id = pt.tag_id
             JOIN posts p ON p.id = pt.post_id GROUP BY p.author_id",
        );
        let want_scored_counts = count(
            "SELECT p.author_id, COUNT(*) FROM comments c JOIN posts p ON p.id = c.post_id
             WHERE c.score > 2 GROUP BY p.author_id",
        );
        let (statements, best, first_category, tag_counts, scored_counts, comment_posts) =
            on!(&conn, wait, |db| {
                db.reset_query_log();
                let users = wait!(
                    User::query()
                        .preload(
                            User::comments()
                                .order_by(|c| c.id.desc())
                                .limit_per_parent(2)
                                .preload(Comment::post().preload(Post::author())),
                        )
                        .preload(
                            User::categories()
                                .order_by(|c| c.name.asc())
                                .limit_per_parent(1)
                        )
                        .preload(User::tags().count())
                        .preload(User::comments().filter(|c| c.score.gt(2)).count())
                        .all(db)
                )
                .unwrap();
                (
                    db.query_count(),
                    users
                        .iter()
                        .map(|u| (u.id, u.comments().iter().map(|c| c.id).collect::<Vec<_>>()))
                        .collect::<BTreeMap<_, _>>(),
                    users
                        .iter()
                        .map(|u| {
                            (
                                u.id,
                                u.categories().iter().map(|c| c.id).collect::<Vec<_>>(),
                            )
                        })
                        .collect::<BTreeMap<_, _>>(),
                    users
                        .iter()
                        .map(|u| (u.id, u.tags_count()))
                        .collect::<BTreeMap<_, _>>(),
                    users
                        .iter()
                        .map(|u| (u.id, u.comments_count()))
                        .collect::<BTreeMap<_, _>>(),
                    users
                        .iter()
                        .flat_map(|u| {
                            u.comments()
                                .iter()
                                .map(move |c| (c.id, c.post().author().id == u.id))
                        })
                        .collect::<Vec<_>>(),
                )
            });
        assert_eq!(
            statements, 7,
            "{place}: root, 2 scoped reads, 2 nested, 2 counts"
        );
        assert_eq!(best, want_best, "{place}: per-parent limit over a chain");
        assert_eq!(
            first_category, want_first_category,
            "{place}: limit counts distinct targets"
        );
        assert_eq!(tag_counts, want_tag_counts, "{place}: counts distinct tags");
        assert_eq!(
            scored_counts, want_scored_counts,
            "{place}: a filtered count"
        );
        assert!(!comment_posts.is_empty(), "{place}");
        assert!(
            comment_posts.iter().all(|(_, own)| *own),
            "{place}: nested under a chain: {comment_posts:?}"
        );
    }
}

#[test]
fn relation_filters_over_chains_match_hand_written_sql() {
    type Case = (
        &'static str,
        fn() -> loader_runtime::Expr<User>,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            "a comment scoring over 5",
            || User::columns().comments().any(|c| c.score.gt(5)),
            "SELECT id FROM users u WHERE EXISTS (SELECT 1 FROM posts p JOIN comments c ON c.post_id = p.id WHERE p.author_id = u.id AND c.score > 5) ORDER BY id",
        ),
        (
            "no comment at all",
            || User::columns().comments().is_empty(),
            "SELECT id FROM users u WHERE NOT EXISTS (SELECT 1 FROM posts p JOIN comments c ON c.post_id = p.id WHERE p.author_id = u.id) ORDER BY id",
        ),
        (
            "every comment scores over 2 (a NULL score does not)",
            || User::columns().comments().every(|c| c.score.gt(2)),
            "SELECT id FROM users u WHERE NOT EXISTS (SELECT 1 FROM posts p JOIN comments c ON c.post_id = p.id WHERE p.author_id = u.id AND (c.score > 2) IS NOT TRUE) ORDER BY id",
        ),
        (
            "no post in the category notes (through a belongs_to, NULL and dangling keys)",
            || User::columns().categories().none(|c| c.name.eq("notes")),
            "SELECT id FROM users u WHERE NOT EXISTS (SELECT 1 FROM posts p JOIN categories c ON c.id = p.category_id WHERE p.author_id = u.id AND c.name = 'notes') ORDER BY id",
        ),
        (
            "a peer in a group who has a comment over 8, combined with or",
            || {
                let u = User::columns();
                u.peers()
                    .any(|p| p.comments().any(|c| c.score.gt(8)))
                    .and(u.id.ne(1))
                    .or(u.name.eq("ken"))
            },
            "SELECT id FROM users u WHERE (u.id <> 1 AND EXISTS (SELECT 1 FROM memberships m JOIN memberships t ON t.group_id = m.group_id JOIN users o ON o.id = t.user_id WHERE m.user_id = u.id AND EXISTS (SELECT 1 FROM posts p JOIN comments c ON c.post_id = p.id WHERE p.author_id = o.id AND c.score > 8))) OR u.name = 'ken' ORDER BY id",
        ),
    ];
    for conn in conns(fill) {
        let place = format!("{} {}", name(conn.sync()), conn.name());
        for &(what, filter, sql) in &cases {
            check_filter(&conn, &place, &FilterCase { what, filter, sql });
        }
        // Employees with someone three levels below who is named laura: a
        // chain of one table, each level aliased apart.
        let want: Vec<i64> = integer_rows(
            conn.sync(),
            "SELECT a.id FROM employees a WHERE EXISTS (SELECT 1 FROM employees b JOIN employees c ON c.reports_to = b.id
             JOIN employees d ON d.reports_to = c.id WHERE b.reports_to = a.id AND d.name = 'laura') ORDER BY a.id",
        )
        .into_iter()
        .map(|row| row[0].unwrap())
        .collect();
        let got = on!(&conn, wait, |db| {
            wait!(
                Employee::query()
                    .filter(|e| e.third_line().any(|d| d.name.eq("laura")))
                    .all(db)
            )
            .unwrap()
            .iter()
            .map(|e| e.id)
            .collect::<Vec<_>>()
        });
        assert_eq!(got, want, "{place}: three deep");
        assert_eq!(got, [1], "{place}");
        // Inside a preload scope: each category's comments from users
        // with a peer.
        let counts = on!(&conn, wait, |db| {
            db.reset_query_log();
            let categories = wait!(
                Category::query()
                    .preload(Category::comments().filter(|c| c.score.is_not_null()))
                    .all(db)
            )
            .unwrap();
            assert_eq!(db.query_count(), 2, "{place}");
            categories
                .iter()
                .map(|c| (c.id, c.comments().len()))
                .collect::<Vec<_>>()
        });
        let want: Vec<(i64, usize)> = integer_rows(
            conn.sync(),
            "SELECT g.id, (SELECT COUNT(*) FROM comments c JOIN posts p ON p.id = c.post_id
                           WHERE p.category_id = g.id AND c.score IS NOT NULL) FROM categories g ORDER BY g.id",
        )
        .into_iter()
        .map(|row| (row[0].unwrap(), row[1].unwrap() as usize))
        .collect();
        assert_eq!(counts, want, "{place}");
    }
}

/// On PostgreSQL at 10,000 users, 100,000 posts and 100,000 comments: a
/// filter through posts to their comments is planned as semi-joins (each
/// user at most once), without sorting either child table, and returns
/// what the hand-written query returns.
#[test]
fn a_filter_through_a_chain_plans_as_semi_joins_on_postgres() {
    let Some(db) = common::backend::postgres() else {
        return;
    };
    db.execute_batch(
        "CREATE TABLE users (id BIGINT PRIMARY KEY, name TEXT NOT NULL);
         CREATE TABLE categories (id BIGINT PRIMARY KEY, name TEXT NOT NULL);
         CREATE TABLE posts (id BIGINT PRIMARY KEY, author_id BIGINT NOT NULL, category_id BIGINT,
                             title TEXT NOT NULL);
         CREATE INDEX posts_author_id ON posts (author_id);
         CREATE TABLE comments (id BIGINT PRIMARY KEY, post_id BIGINT NOT NULL, score BIGINT);
         CREATE INDEX comments_post_id ON comments (post_id);
         INSERT INTO users SELECT i, 'user ' || i FROM generate_series(1, 10000) AS i;
         INSERT INTO posts SELECT i, (i * 7919) % 10000 + 1, NULL, 'post ' || i FROM generate_series(1, 100000) AS i;
         INSERT INTO comments SELECT i, (i * 104729) % 100000 + 1, i % 1000 FROM generate_series(1::int8, 100000::int8) AS i;
         ANALYZE users; ANALYZE posts; ANALYZE comments;",
    )
    .unwrap();
    db.reset_query_log();
    let users = User::query()
        .filter(|u| u.comments().any(|c| c.score.ge(950)))
        .all(&db)
        .unwrap();
    let sql = db.query_log()[0].sql.to_string();
    let expected: Vec<i64> = integer_rows(
        &db,
        "SELECT id FROM users u WHERE EXISTS (SELECT 1 FROM posts p JOIN comments c ON c.post_id = p.id
         WHERE p.author_id = u.id AND c.score >= 950) ORDER BY id",
    )
    .into_iter()
    .map(|row| row[0].unwrap())
    .collect();
    let got: Vec<i64> = users.iter().map(|u| u.id).collect();
    assert_eq!(got, expected);
    assert!(expected.len() > 100, "{}", expected.len());
    let plan = explain(&db, &sql, &[&950i64]);
    assert!(
        plan.contains("Semi Join") || plan.contains("HashAggregate") || plan.contains("Unique"),
        "EXISTS planned as a semi-join:\n{plan}"
    );
    let sorts_children = plan.lines().zip(plan.lines().skip(1)).any(|(line, next)| {
        line.contains("Sort") && (next.contains("on posts") || next.contains("on comments"))
    });
    assert!(!sorts_children, "no sort of a child table:\n{plan}");
}
