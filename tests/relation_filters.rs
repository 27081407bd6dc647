//! Filtering by related rows (`any`, `none`, `every`, `exists`,
//! `is_empty` on has_many, has_one and many_to_many; `is` on belongs_to):
//! each case against the same question asked in hand-written SQL, on both
//! databases and both APIs, with NULL and dangling keys, combined with
//! `and`/`or`/`not` and the root's own filters, nested two deep, through a
//! relation of an entity to itself, and inside a preload scope.

#![allow(clippy::duplicated_attributes)]

mod common;

use common::backend::{integer_rows, name};
use common::conn::conns;
use common::filters::{FilterCase, check_filter, explain, ids_of};
use loader_runtime::{Db, Entity, Keyed, Loaded};

#[derive(Entity, Debug, Clone)]
#[entity(table = "users")]
#[has_many(Post, fk = "author_id")]
#[has_one(Profile, fk = "user_id")]
struct User {
    id: i64,
    name: String,
    active: bool,
}

#[derive(Entity, Debug, Clone)]
#[entity(table = "profiles")]
struct Profile {
    id: i64,
    user_id: i64,
    public: bool,
}

#[derive(Entity, Debug, Clone)]
#[entity(table = "posts")]
#[belongs_to(User, fk = "author_id", name = "author")]
#[belongs_to(User, fk = "editor_id", name = "editor")]
#[has_many(Comment, fk = "post_id")]
#[many_to_many(Tag, through = "post_tags", fk = "post_id", target_fk = "tag_id")]
struct Post {
    id: i64,
    author_id: i64,
    editor_id: Option<i64>,
    published: bool,
}

#[derive(Entity, Debug, Clone)]
#[entity(table = "comments")]
struct Comment {
    id: i64,
    post_id: i64,
    score: Option<i64>,
}

#[derive(Entity, Debug, Clone)]
#[entity(table = "tags")]
struct Tag {
    id: i64,
    label: String,
}

#[derive(Entity, Debug, Clone)]
#[entity(table = "employees")]
#[belongs_to(Employee, fk = "reports_to", name = "manager")]
#[has_many(Employee, fk = "reports_to", name = "reports")]
struct Employee {
    id: i64,
    name: String,
    reports_to: Option<i64>,
}

/// Users 1–5 (5 inactive); posts with published and draft, an editor that
/// is NULL, a user or dangling (99); comments with NULL scores; tags on
/// some posts, a dangling tag link; a three-level hierarchy of employees.
fn fill(db: &Db) {
    db.execute_batch(
        "CREATE TABLE users (id BIGINT PRIMARY KEY, name TEXT NOT NULL, active BOOLEAN NOT NULL);
         CREATE TABLE profiles (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, public BOOLEAN NOT NULL);
         CREATE TABLE posts (id BIGINT PRIMARY KEY, author_id BIGINT NOT NULL, editor_id BIGINT,
                             published BOOLEAN NOT NULL);
         CREATE TABLE comments (id BIGINT PRIMARY KEY, post_id BIGINT NOT NULL, score BIGINT);
         CREATE TABLE tags (id BIGINT PRIMARY KEY, label TEXT NOT NULL);
         CREATE TABLE post_tags (post_id BIGINT NOT NULL, tag_id BIGINT NOT NULL);
         CREATE TABLE employees (id BIGINT PRIMARY KEY, name TEXT NOT NULL, reports_to BIGINT);
         INSERT INTO users VALUES (1, 'ada', TRUE), (2, 'grace', TRUE), (3, 'edsger', TRUE),
                                  (4, 'barbara', TRUE), (5, 'ken', FALSE);
         INSERT INTO profiles VALUES (1, 1, TRUE), (2, 2, FALSE), (3, 5, TRUE);
         INSERT INTO posts VALUES (10, 1, NULL, TRUE), (11, 1, 2, FALSE), (12, 2, 99, FALSE),
                                  (13, 2, NULL, FALSE), (14, 4, 5, TRUE), (15, 5, 1, TRUE);
         INSERT INTO comments VALUES (100, 10, 7), (101, 10, NULL), (102, 11, 2), (103, 14, 9),
                                     (104, 14, 8), (105, 15, NULL);
         INSERT INTO tags VALUES (1, 'rust'), (2, 'sql'), (3, 'unused');
         INSERT INTO post_tags VALUES (10, 1), (10, 2), (12, 2), (14, 1), (15, 42);
         INSERT INTO employees VALUES (1, 'andrew', NULL), (2, 'nancy', 1), (3, 'jane', 2),
                                      (4, 'margaret', 2), (5, 'steven', 1), (6, 'robert', 99);",
    )
    .unwrap();
}

fn ids<E: Keyed<Key = i64>>(rows: &[Loaded<E>]) -> Vec<i64> {
    rows.iter().map(|row| *row.entity().key()).collect()
}

fn user_cases() -> Vec<FilterCase<User>> {
    vec![
        FilterCase {
            what: "any published post",
            filter: || User::columns().posts().any(|p| p.published.eq(true)),
            sql: "SELECT id FROM users u WHERE EXISTS (SELECT 1 FROM posts p WHERE p.author_id = u.id AND p.published) ORDER BY id",
        },
        FilterCase {
            what: "no published post (users without posts too)",
            filter: || User::columns().posts().none(|p| p.published.eq(true)),
            sql: "SELECT id FROM users u WHERE NOT EXISTS (SELECT 1 FROM posts p WHERE p.author_id = u.id AND p.published) ORDER BY id",
        },
        FilterCase {
            what: "every post published (users without posts too)",
            filter: || User::columns().posts().every(|p| p.published.eq(true)),
            sql: "SELECT id FROM users u WHERE NOT EXISTS (SELECT 1 FROM posts p WHERE p.author_id = u.id AND NOT p.published) ORDER BY id",
        },
        FilterCase {
            what: "has posts",
            filter: || User::columns().posts().exists(),
            sql: "SELECT id FROM users u WHERE EXISTS (SELECT 1 FROM posts p WHERE p.author_id = u.id) ORDER BY id",
        },
        FilterCase {
            what: "has no posts",
            filter: || User::columns().posts().is_empty(),
            sql: "SELECT id FROM users u WHERE NOT EXISTS (SELECT 1 FROM posts p WHERE p.author_id = u.id) ORDER BY id",
        },
        FilterCase {
            what: "a public profile (has_one)",
            filter: || User::columns().profile().any(|p| p.public.eq(true)),
            sql: "SELECT id FROM users u WHERE EXISTS (SELECT 1 FROM profiles p WHERE p.user_id = u.id AND p.public) ORDER BY id",
        },
        FilterCase {
            what: "nested: a post with a comment scoring over 5",
            filter: || {
                User::columns()
                    .posts()
                    .any(|p| p.comments().any(|c| c.score.gt(5)))
            },
            sql: "SELECT id FROM users u WHERE EXISTS (SELECT 1 FROM posts p WHERE p.author_id = u.id AND EXISTS (SELECT 1 FROM comments c WHERE c.post_id = p.id AND c.score > 5)) ORDER BY id",
        },
        FilterCase {
            what: "every comment of every post scores over 5 (a NULL score does not)",
            filter: || {
                User::columns()
                    .posts()
                    .every(|p| p.comments().every(|c| c.score.gt(5)))
            },
            sql: "SELECT id FROM users u WHERE NOT EXISTS (SELECT 1 FROM posts p WHERE p.author_id = u.id AND EXISTS (SELECT 1 FROM comments c WHERE c.post_id = p.id AND (c.score > 5) IS NOT TRUE)) ORDER BY id",
        },
        FilterCase {
            what: "combined with the root's columns, or and not",
            filter: || {
                let u = User::columns();
                u.active.eq(true).and(
                    u.posts()
                        .any(|p| p.tags().any(|t| t.label.eq("rust")))
                        .or(!u.posts().exists()),
                )
            },
            sql: "SELECT id FROM users u WHERE u.active AND (EXISTS (SELECT 1 FROM posts p JOIN post_tags pt ON pt.post_id = p.id JOIN tags t ON t.id = pt.tag_id WHERE p.author_id = u.id AND t.label = 'rust') OR NOT EXISTS (SELECT 1 FROM posts p WHERE p.author_id = u.id)) ORDER BY id",
        },
    ]
}

fn post_cases() -> Vec<FilterCase<Post>> {
    vec![
        FilterCase {
            what: "author is inactive (belongs_to)",
            filter: || Post::columns().author().is(|u| u.active.eq(false)),
            sql: "SELECT id FROM posts p WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = p.author_id AND NOT u.active) ORDER BY id",
        },
        FilterCase {
            what: "editor exists (NULL and dangling keys do not)",
            filter: || Post::columns().editor().exists(),
            sql: "SELECT id FROM posts p WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = p.editor_id) ORDER BY id",
        },
        FilterCase {
            what: "not edited by ada (NULL and dangling editors included)",
            filter: || !Post::columns().editor().is(|u| u.name.eq("ada")),
            sql: "SELECT id FROM posts p WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = p.editor_id AND u.name = 'ada') ORDER BY id",
        },
        FilterCase {
            what: "tagged sql (many_to_many)",
            filter: || Post::columns().tags().any(|t| t.label.eq("sql")),
            sql: "SELECT id FROM posts p WHERE EXISTS (SELECT 1 FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id = p.id AND t.label = 'sql') ORDER BY id",
        },
        FilterCase {
            what: "untagged (a dangling link is no tag)",
            filter: || Post::columns().tags().is_empty(),
            sql: "SELECT id FROM posts p WHERE NOT EXISTS (SELECT 1 FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id = p.id) ORDER BY id",
        },
        FilterCase {
            what: "every tag is rust",
            filter: || Post::columns().tags().every(|t| t.label.eq("rust")),
            sql: "SELECT id FROM posts p WHERE NOT EXISTS (SELECT 1 FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id = p.id AND t.label <> 'rust') ORDER BY id",
        },
        FilterCase {
            what: "the author has another published post",
            filter: || {
                Post::columns()
                    .author()
                    .is(|u| u.posts().any(|other| other.published.eq(true)))
                    .and(Post::columns().published.eq(false))
            },
            sql: "SELECT id FROM posts p WHERE NOT p.published AND EXISTS (SELECT 1 FROM users u WHERE u.id = p.author_id AND EXISTS (SELECT 1 FROM posts o WHERE o.author_id = u.id AND o.published)) ORDER BY id",
        },
    ]
}

fn employee_cases() -> Vec<FilterCase<Employee>> {
    vec![
        FilterCase {
            what: "a report named jane (self-referential)",
            filter: || Employee::columns().reports().any(|r| r.name.eq("jane")),
            sql: "SELECT id FROM employees e WHERE EXISTS (SELECT 1 FROM employees r WHERE r.reports_to = e.id AND r.name = 'jane') ORDER BY id",
        },
        FilterCase {
            what: "a manager who has a manager (self-referential, two deep)",
            filter: || Employee::columns().manager().is(|m| m.manager().exists()),
            sql: "SELECT id FROM employees e WHERE EXISTS (SELECT 1 FROM employees m WHERE m.id = e.reports_to AND EXISTS (SELECT 1 FROM employees g WHERE g.id = m.reports_to)) ORDER BY id",
        },
        FilterCase {
            what: "reports who all have reports of their own",
            filter: || {
                Employee::columns()
                    .reports()
                    .every(|r| r.reports().exists())
                    .and(Employee::columns().reports().exists())
            },
            sql: "SELECT id FROM employees e WHERE EXISTS (SELECT 1 FROM employees r WHERE r.reports_to = e.id) AND NOT EXISTS (SELECT 1 FROM employees r WHERE r.reports_to = e.id AND NOT EXISTS (SELECT 1 FROM employees s WHERE s.reports_to = r.id)) ORDER BY id",
        },
    ]
}

#[test]
fn each_relation_filter_matches_its_hand_written_sql() {
    for conn in conns(fill) {
        let place = format!("{} {}", name(conn.sync()), conn.name());
        let (users, posts, employees) = (user_cases(), post_cases(), employee_cases());
        for case in &users {
            check_filter(&conn, &format!("{place}: users"), case);
        }
        for case in &posts {
            check_filter(&conn, &format!("{place}: posts"), case);
        }
        for case in &employees {
            check_filter(&conn, &format!("{place}: employees"), case);
        }
        // The answers are not all empty or all rows.
        let counts: Vec<usize> = users
            .iter()
            .map(|c| ids_of(conn.sync(), c.sql).len())
            .collect();
        assert!(
            counts.iter().any(|&n| n > 0 && n < 5),
            "{place}: {counts:?}"
        );
    }
}

#[test]
fn relation_filters_inside_preload_scopes_and_counts() {
    for conn in conns(fill) {
        let place = format!("{} {}", name(conn.sync()), conn.name());
        let want = |sql| ids_of(conn.sync(), sql);
        let commented = want(
            "SELECT p.id FROM posts p WHERE EXISTS (SELECT 1 FROM comments c WHERE c.post_id = p.id) ORDER BY p.author_id, p.id",
        );
        let (got, counts, statements, sql) = on!(&conn, wait, |db| {
            db.reset_query_log();
            let users = wait!(
                User::query()
                    .filter(|u| u.posts().exists())
                    .preload(User::posts().filter(|p| p.comments().exists()))
                    .preload(User::posts().filter(|p| p.tags().exists()).count())
                    .all(db)
            )
            .unwrap();
            let got: Vec<i64> = users
                .iter()
                .flat_map(|u| u.posts().iter().map(|p| p.id))
                .collect();
            let counts: Vec<(i64, usize)> = users.iter().map(|u| (u.id, u.posts_count())).collect();
            let sql: Vec<String> = db.query_log().iter().map(|q| q.sql.to_string()).collect();
            (got, counts, db.query_count(), sql)
        });
        assert_eq!(got, commented, "{place}");
        assert_eq!(statements, 3, "{place}: {sql:#?}");
        assert!(
            sql.iter().all(|s| !s.contains(" JOIN \"comments\"")),
            "{place}: EXISTS, not a join: {sql:#?}"
        );
        let tagged = |user: i64| {
            integer_rows(
                conn.sync(),
                &format!("SELECT COUNT(*) FROM posts p WHERE p.author_id = {user} AND EXISTS (SELECT 1 FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id = p.id)"),
            )[0][0]
            .unwrap() as usize
        };
        for (user, count) in counts {
            assert_eq!(count, tagged(user), "{place}: user {user}");
        }
    }
}

/// On PostgreSQL at 10,000 users × 10 posts (100,000 rows): the filter
/// is planned as a semi-join (each user at most once) without sorting the
/// child table, and returns each matching user once.
#[test]
fn exists_plans_on_postgres_at_a_hundred_thousand_rows() {
    let Some(db) = common::backend::postgres() else {
        return;
    };
    db.execute_batch(
        "CREATE TABLE users (id BIGINT PRIMARY KEY, name TEXT NOT NULL, active BOOLEAN NOT NULL);
         CREATE TABLE posts (id BIGINT PRIMARY KEY, author_id BIGINT NOT NULL, editor_id BIGINT,
                             published BOOLEAN NOT NULL);
         CREATE INDEX posts_author_id ON posts (author_id);
         INSERT INTO users SELECT i, 'user ' || i, i % 3 <> 0 FROM generate_series(1, 10000) AS i;
         INSERT INTO posts SELECT i, (i * 7919) % 10000 + 1, NULL, i % 97 = 0
           FROM generate_series(1, 100000) AS i;
         ANALYZE users; ANALYZE posts;",
    )
    .unwrap();
    db.reset_query_log();
    let users = User::query()
        .filter(|u| {
            u.active
                .eq(true)
                .and(u.posts().any(|p| p.published.eq(true)))
        })
        .all(&db)
        .unwrap();
    let sql = db.query_log()[0].sql.to_string();
    let expected = ids_of(
        &db,
        "SELECT id FROM users u WHERE u.active AND EXISTS (SELECT 1 FROM posts p WHERE p.author_id = u.id AND p.published) ORDER BY id",
    );
    assert_eq!(ids(&users), expected);
    assert!(expected.len() > 100, "{}", expected.len());
    let plan = explain(&db, &sql, &[&true, &true]);
    // PostgreSQL plans EXISTS as a semi-join, or (here, with few published
    // posts) as a join against the distinct keys of the matching posts
    // (HashAggregate): either way each user comes once.
    assert!(
        plan.contains("Semi Join") || plan.contains("HashAggregate") || plan.contains("Unique"),
        "EXISTS planned as a semi-join:\n{plan}"
    );
    assert!(
        ids(&users).windows(2).all(|w| w[0] < w[1]),
        "no duplicate rows"
    );
    let sorts_posts = plan
        .lines()
        .zip(plan.lines().skip(1))
        .any(|(line, next)| line.contains("Sort") && next.contains("on posts"));
    assert!(!sorts_posts, "no sort of the child table:\n{plan}");
}
