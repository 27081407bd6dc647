//! The number of statements is 1 + N for the lazy loop and 1 + the number of
//! preloaded relations for a preload, whatever N is: on every backend, with
//! the sync `Db` and the `AsyncDb` (each test body runs on both through
//! `on!`).

mod common;

use common::conn::blog_conns as blogs;
use common::{Comment, Post, User};

fn lazy_posts_of_all_users(users: i64) {
    for db in blogs(users, 2, 0) {
        db.reset_query_log();
        let posts = on!(&db, wait, |db| {
            let mut posts = 0;
            for user in wait!(User::all(db)).unwrap() {
                posts += wait!(user.load_posts(db)).unwrap().len();
            }
            posts
        });
        assert_eq!(posts as i64, users * 2);
        assert_eq!(
            db.query_count(),
            1 + users as usize,
            "lazy loop over {users} users"
        );
    }
}

fn preload_posts_of_all_users(users: i64) {
    for db in blogs(users, 2, 0) {
        db.reset_query_log();
        let loaded = on!(&db, wait, |db| wait!(
            User::query().preload(User::posts()).all(db)
        ))
        .unwrap();
        assert_eq!(loaded.len() as i64, users);
        assert!(loaded.iter().all(|user| user.posts().len() == 2));
        // No users, no posts query, unless it went out with the users.
        let pipelined = common::backend::pipelines(db.sync());
        let expected = if users == 0 && !pipelined { 1 } else { 2 };
        assert_eq!(db.query_count(), expected, "preload over {users} users");
    }
}

#[test]
fn lazy_costs_one_query_per_parent() {
    for users in [0, 1, 3, 1_000] {
        lazy_posts_of_all_users(users);
    }
}

#[test]
fn preload_costs_one_query_per_relation() {
    for users in [0, 1, 3, 1_000, 100_000] {
        preload_posts_of_all_users(users);
    }
}

/// Where waiting for the parents costs nothing (SQLite), none means no
/// child query; where a wave is one round trip (PostgreSQL), a child table
/// read whole went out with the parents, and a keyed one still waits.
#[test]
fn no_parents_means_no_child_query() {
    for db in blogs(0, 0, 0) {
        let query = User::query().preload(User::posts().preload(Post::comments()));
        let users = on!(&db, wait, |db| wait!(query.all(db))).unwrap();
        assert!(users.is_empty());
        let pipelined = common::backend::pipelines(db.sync());
        assert_eq!(db.query_count(), if pipelined { 3 } else { 1 });
        db.reset_query_log();
        let filtered = User::query()
            .filter(|u| u.id.gt(0))
            .preload(User::posts().preload(Post::comments()));
        let users = on!(&db, wait, |db| wait!(filtered.all(db))).unwrap();
        assert!(users.is_empty());
        assert_eq!(db.query_count(), 1, "{}", db.name());
    }
}

#[test]
fn several_relations_at_one_level_cost_one_query_each() {
    for db in blogs(10, 3, 2) {
        let query = Post::query()
            .preload(Post::author())
            .preload(Post::editor())
            .preload(Post::comments());
        let posts = on!(&db, wait, |db| wait!(query.all(db))).unwrap();
        assert_eq!(posts.len(), 30);
        assert_eq!(db.query_count(), 4);
        let sql: Vec<String> = db.query_log().iter().map(|r| r.sql.to_string()).collect();
        // Declared order, except that where a wave is one round trip the
        // comments, read whole, went out with the posts.
        let (author, comments) = if common::backend::pipelines(db.sync()) {
            (2, 1)
        } else {
            (1, 3)
        };
        assert!(sql[author].contains("FROM \"users\""), "author: {sql:?}");
        assert!(
            sql[author + 1].contains("FROM \"users\""),
            "then editor: {sql:?}"
        );
        assert!(
            sql[comments].contains("FROM \"comments\""),
            "comments: {sql:?}"
        );
    }
}

#[test]
fn nesting_costs_one_query_per_level() {
    for db in blogs(50, 4, 3) {
        let query =
            User::query().preload(User::posts().preload(Post::comments().preload(Comment::post())));
        let users = on!(&db, wait, |db| wait!(query.all(db))).unwrap();
        assert_eq!(db.query_count(), 4);
        let comments: usize = users
            .iter()
            .flat_map(|user| user.posts())
            .map(|post| post.comments().len())
            .sum();
        assert_eq!(comments, 50 * 4 * 3);
    }
}

/// A preload reached through a `belongs_to` cannot read the child table
/// whole: its keys travel as one array parameter, however many there are.
#[test]
fn keyed_preload_over_100_000_parents_is_one_query() {
    for db in blogs(100_000, 1, 0) {
        let query = Post::query().preload(Post::author().preload(User::posts()));
        let posts = on!(&db, wait, |db| wait!(query.all(db))).unwrap();
        assert_eq!(posts.len(), 100_000);
        assert_eq!(db.query_count(), 3);
        let log = db.query_log();
        assert!(
            log[2].sql.contains(common::backend::key_set(db.sync())),
            "{}",
            log[2].sql
        );
        assert_eq!(log[2].bound_values, 100_000);
        assert_eq!(log[2].rows, 100_000);
        for post in &posts {
            let author = post.author();
            assert_eq!(author.id, post.author_id);
            assert_eq!(author.posts().len(), 1);
            assert_eq!(author.posts()[0].id, post.id);
        }
    }
}

#[test]
fn a_key_shared_by_many_children_is_asked_for_once() {
    for db in blogs(3, 5, 0) {
        let posts = on!(&db, wait, |db| wait!(
            Post::query().preload(Post::author()).all(db)
        ))
        .unwrap();
        assert_eq!(posts.len(), 15);
        let lookup = &db.query_log()[1];
        assert_eq!(lookup.bound_values, 3, "three distinct authors");
        assert_eq!(lookup.rows, 3);
    }
}
