//! The relation dataloader: loads called together (as GraphQL resolvers
//! call them) run one statement; scopes never mix; an error reaches every
//! caller; a caller that stops waiting cancels nobody. SQLite and
//! PostgreSQL.

mod common;

use std::time::Duration;

use common::{Post, User};
use futures_util::future::join_all;
use loader_runtime::{AsyncDb, Error, RelationLoader};

/// An async handle on the blog, on each backend.
fn handles() -> Vec<common::conn::Conn> {
    common::conn::blog_conns(120, 3, 1)
        .into_iter()
        .filter(|conn| matches!(conn, common::conn::Conn::Async { .. }))
        .collect()
}

fn async_db(conn: &common::conn::Conn) -> (&AsyncDb, &tokio::runtime::Runtime) {
    match conn {
        common::conn::Conn::Async { db, runtime, .. } => (db, runtime),
        common::conn::Conn::Sync(_) => unreachable!("async handles only"),
    }
}

#[test]
fn a_hundred_loads_in_one_tick_run_one_statement() {
    for conn in handles() {
        let (db, runtime) = async_db(&conn);
        let name = conn.name();
        runtime.block_on(async {
            let expected: Vec<Vec<Post>> = {
                let mut all = Vec::new();
                for id in 1..=100i64 {
                    let user = User::find(db, &id).await.unwrap().unwrap();
                    all.push(user.load_posts(db).await.unwrap());
                }
                all
            };
            db.reset_query_log();
            let posts = RelationLoader::new(db, User::posts());
            let loaded = join_all((1..=100i64).map(|id| posts.load(id))).await;
            assert_eq!(db.query_count(), 1, "{name}: {:#?}", db.query_log());
            assert_eq!(db.query_log()[0].bound_values, 100);
            let loaded: Vec<Vec<Post>> = loaded.into_iter().map(Result::unwrap).collect();
            assert_eq!(loaded, expected, "{name}: each owner's posts, in key order");
            // A key asked for twice, and one with no posts.
            db.reset_query_log();
            let (a, b, none) = tokio::join!(posts.load(7), posts.load(7), posts.load(10_000));
            assert_eq!(a.unwrap(), expected[6]);
            assert_eq!(b.unwrap(), expected[6]);
            assert!(none.unwrap().is_empty());
            assert_eq!(db.query_count(), 1);
            assert_eq!(db.query_log()[0].bound_values, 2, "{name}: each key once");
        });
    }
}

#[test]
fn different_scopes_are_different_statements() {
    for conn in handles() {
        let (db, runtime) = async_db(&conn);
        let name = conn.name();
        runtime.block_on(async {
            db.reset_query_log();
            let all = RelationLoader::new(db, User::posts());
            let latest = RelationLoader::new(
                db,
                User::posts().order_by(|p| p.id.desc()).limit_per_parent(1),
            );
            let (every, last) = tokio::join!(
                join_all((1..=5i64).map(|id| all.load(id))),
                join_all((1..=5i64).map(|id| latest.load(id)))
            );
            assert_eq!(db.query_count(), 2, "{name}");
            for (every, last) in every.into_iter().zip(last) {
                let (every, last) = (every.unwrap(), last.unwrap());
                assert_eq!(every.len(), 3);
                assert_eq!(last.len(), 1);
                assert_eq!(last[0].id, every.iter().map(|p| p.id).max().unwrap());
            }
        });
    }
}

#[test]
fn an_error_reaches_every_caller_and_a_cancelled_one_cancels_nobody() {
    for conn in handles() {
        let (db, runtime) = async_db(&conn);
        let name = conn.name();
        runtime.block_on(async {
            let posts = RelationLoader::new(db, User::posts());
            // Cancelled: the first caller's future is dropped right after it
            // started the batch; the others still get their rows.
            let mut first = Box::pin(posts.load(1));
            let _ = tokio::time::timeout(Duration::from_millis(0), &mut first).await;
            let others = join_all((2..=20i64).map(|id| posts.load(id)));
            drop(first);
            let others = others.await;
            assert!(others.iter().all(|r| r.as_ref().is_ok_and(|p| p.len() == 3)), "{name}");

            db.execute_batch("ALTER TABLE comments RENAME TO comments_gone; ALTER TABLE posts RENAME TO posts_gone")
                .await
                .unwrap();
            let failed = join_all((1..=10i64).map(|id| posts.load(id))).await;
            db.execute_batch("ALTER TABLE posts_gone RENAME TO posts; ALTER TABLE comments_gone RENAME TO comments")
                .await
                .unwrap();
            assert_eq!(failed.len(), 10);
            for result in failed {
                match result {
                    Err(Error::Batched(cause)) => {
                        assert!(matches!(*cause, Error::Query { .. }), "{name}: {cause}")
                    }
                    other => panic!("{name}: expected the batch's error, got {other:?}"),
                }
            }
            assert_eq!(posts.load(1).await.unwrap().len(), 3, "{name}: works again");
        });
    }
}
