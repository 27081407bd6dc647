//! Beyond SQLite's limits, under concurrent writers, with hostile names and
//! from several threads: the graph stays right and errors stay errors.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Comment, Post, SCHEMA, User, blog};
use loader_runtime::rusqlite::limits::Limit;
use loader_runtime::{Db, Entity, Error};

/// A WAL-mode database file with the blog schema and `data`, in a folder of
/// its own that is removed when this is dropped (also when a test fails).
struct WalFile {
    dir: PathBuf,
    path: PathBuf,
}

impl WalFile {
    fn new(name: &str, data: &str) -> WalFile {
        let dir = std::env::temp_dir().join(format!("loader-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("blog.db");
        let _ = std::fs::remove_file(&path);
        let db = Db::open(&path).unwrap();
        db.sqlite()
            .unwrap()
            .execute_batch("PRAGMA journal_mode = WAL;")
            .unwrap();
        db.execute_batch(SCHEMA).unwrap();
        db.execute_batch(data).unwrap();
        WalFile { dir, path }
    }
}

impl Drop for WalFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Keys travel as one array parameter, so a connection that allows only 10
/// bound variables still preloads 1,000 parents, with one statement per
/// relation: the count is always 1 + the number of preloaded relations.
#[test]
fn preload_ignores_the_bound_variable_limit() {
    let db = blog(1_000, 3, 1);
    db.sqlite()
        .unwrap()
        .set_limit(Limit::SQLITE_LIMIT_VARIABLE_NUMBER, 10)
        .unwrap();
    assert_eq!(
        db.sqlite()
            .unwrap()
            .limit(Limit::SQLITE_LIMIT_VARIABLE_NUMBER)
            .unwrap(),
        10
    );
    db.reset_query_log();
    // Reached through belongs_to, both nested levels bind their keys.
    let posts = Post::query()
        .preload(
            Post::author()
                .preload(User::posts().preload(Post::comments().preload(Comment::post()))),
        )
        .all(&db)
        .unwrap();
    assert_eq!(db.query_count(), 5);
    let log = db.query_log();
    assert_eq!(log[1].bound_values, 1_000, "authors");
    assert_eq!(log[2].bound_values, 1_000, "their posts");
    assert_eq!(log[3].bound_values, 3_000, "those posts' comments");
    assert_eq!(posts.len(), 3_000);
    for post in &posts {
        let siblings = post.author().posts();
        assert_eq!(siblings.len(), 3);
        assert!(siblings.iter().any(|p| p.id == post.id));
        assert!(siblings.iter().all(|p| p.comments()[0].post().id == p.id));
    }
}

/// All statements of a preload read one snapshot: rows committed by another
/// connection between the root query and the child query are not seen.
#[test]
fn a_preload_reads_one_snapshot() {
    let file = WalFile::new(
        "snapshot",
        "INSERT INTO users VALUES (1, 'ada'), (2, 'grace');
         INSERT INTO posts VALUES (1, 1, NULL, 'before'), (2, 2, NULL, 'before');",
    );
    let path = &file.path;
    let db = Db::open(path).unwrap();

    // After the first statement (the users), another connection adds posts.
    let writer = rusqlite::Connection::open(path).unwrap();
    let writes = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&writes);
    let next_id = std::cell::Cell::new(100);
    db.set_query_hook(move |record| {
        if record.sql.contains("FROM \"users\"") {
            let id = next_id.get();
            next_id.set(id + 1);
            writer
                .execute("INSERT INTO posts VALUES (?1, 1, NULL, 'during')", [id])
                .unwrap();
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });

    let users = User::query().preload(User::posts()).all(&db).unwrap();
    assert_eq!(
        writes.load(Ordering::SeqCst),
        1,
        "the writer ran between the statements"
    );
    let titles: Vec<&str> = users
        .iter()
        .flat_map(|u| u.posts())
        .map(|p| p.title.as_str())
        .collect();
    assert_eq!(titles, ["before", "before"], "the preload saw its snapshot");

    // The control: the same two reads without a preload, each in its own
    // implicit transaction, do see the concurrent write.
    let users = User::all(&db).unwrap();
    assert_eq!(writes.load(Ordering::SeqCst), 2);
    let posts = users[0].load_posts(&db).unwrap();
    assert_eq!(posts.len(), 3, "outside a preload the write is visible");

    db.clear_query_hook();
}

/// A preload inside the caller's own transaction joins it instead of
/// starting another, and sees that transaction's writes.
#[test]
fn a_preload_inside_a_transaction_uses_it() {
    let db = blog(3, 2, 0);
    db.execute_batch("BEGIN").unwrap();
    db.sqlite()
        .unwrap()
        .execute("INSERT INTO posts VALUES (100, 2, NULL, 'pending')", [])
        .unwrap();
    let users = User::query().preload(User::posts()).all(&db).unwrap();
    assert_eq!(
        users[1].posts().len(),
        3,
        "sees its own transaction's write"
    );
    assert!(
        !db.sqlite().unwrap().is_autocommit(),
        "still the caller's transaction"
    );
    db.execute_batch("ROLLBACK").unwrap();
    let users = User::query().preload(User::posts()).all(&db).unwrap();
    assert_eq!(users[1].posts().len(), 2);
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "order")]
#[has_many(LineItem, fk = "order")]
struct Order {
    #[entity(column = "select")]
    id: i64,
    #[entity(column = "group")]
    group: String,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "line items")]
#[belongs_to(Order, fk = "order", name = "placed_order")]
struct LineItem {
    #[entity(column = "line id")]
    id: i64,
    #[entity(column = "order")]
    order: i64,
    #[entity(column = "unit \"price\"")]
    price: f64,
}

#[test]
fn keywords_spaces_and_quotes_in_names_are_quoted() {
    let db = Db::open_in_memory().unwrap();
    db.sqlite()
        .unwrap()
        .execute_batch(
            r#"CREATE TABLE "order" ("select" INTEGER PRIMARY KEY, "group" TEXT NOT NULL);
               CREATE TABLE "line items" ("line id" INTEGER PRIMARY KEY, "order" INTEGER NOT NULL,
                                          "unit ""price""" REAL NOT NULL);
               INSERT INTO "order" VALUES (1, 'a'), (2, 'b');
               INSERT INTO "line items" VALUES (10, 1, 1.5), (11, 1, 2.5), (12, 2, 9.0);"#,
        )
        .unwrap();
    let orders = Order::query()
        .preload(Order::line_items())
        .all(&db)
        .unwrap();
    let totals: Vec<f64> = orders
        .iter()
        .map(|o| o.line_items().iter().map(|l| l.price).sum())
        .collect();
    assert_eq!(totals, [4.0, 9.0]);
    let items = LineItem::query()
        .preload(LineItem::placed_order())
        .all(&db)
        .unwrap();
    assert_eq!(items[2].placed_order().group, "b");
    assert_eq!(Order::find(&db, &2).unwrap().unwrap().group, "b");
}

/// Values are bound, never formatted into SQL: the log holds only
/// placeholders, whatever the keys contain.
#[test]
fn no_value_is_ever_part_of_the_sql() {
    let db = blog(5, 2, 1);
    Post::query()
        .preload(Post::author().preload(User::posts()))
        .all(&db)
        .unwrap();
    User::find(&db, &3).unwrap();
    for record in db.query_log() {
        assert!(
            !record.sql.contains("user ") && !record.sql.contains("post "),
            "{}",
            record.sql
        );
        assert!(record.sql.matches('?').count() <= 1, "{}", record.sql);
    }
}

/// One `Db` per thread on one file database: 4 threads × 1,000 preloads.
#[test]
fn one_db_per_thread() {
    let file = WalFile::new(
        "threads",
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10)
         INSERT INTO users SELECT i, 'user ' || i FROM n;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30)
         INSERT INTO posts SELECT i, (i % 10) + 1, NULL, 'post ' || i FROM n;",
    );
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let path = file.path.clone();
            std::thread::spawn(move || -> Result<usize, Error> {
                let db = Db::open(&path)?;
                let mut posts = 0;
                for _ in 0..1_000 {
                    let users = User::query().preload(User::posts()).all(&db)?;
                    assert_eq!(users.len(), 10);
                    assert!(users.iter().all(|u| u.posts().len() == 3));
                    posts += users.iter().map(|u| u.posts().len()).sum::<usize>();
                }
                assert_eq!(db.query_count(), 2_000);
                Ok(posts)
            })
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.join().unwrap().unwrap(), 30_000);
    }
}

#[test]
fn a_real_in_an_integer_foreign_key_is_an_error() {
    let db = Db::open_in_memory().unwrap();
    db.execute_batch(SCHEMA).unwrap();
    db.sqlite()
        .unwrap()
        .execute_batch(
            "INSERT INTO users VALUES (1, 'ada');
             INSERT INTO posts VALUES (5, 1.5, NULL, 'half an author');",
        )
        .unwrap();
    let error = Post::query().preload(Post::author()).all(&db).unwrap_err();
    match error {
        Error::Decode {
            entity,
            column,
            key,
            ..
        } => assert_eq!(
            (entity, column, key.as_deref()),
            ("Post", "author_id", Some("5"))
        ),
        other => panic!("expected Error::Decode, got {other:?}"),
    }
}

/// A pool of `Db`s shared by 4 threads.
#[test]
fn pooled_dbs_across_threads() {
    let file = WalFile::new(
        "pool",
        "INSERT INTO users VALUES (1, 'ada'), (2, 'grace');
         INSERT INTO posts VALUES (1, 1, 2, 'a'), (2, 1, NULL, 'b'), (3, 2, 1, 'c');",
    );
    let manager = loader_runtime::pool::DbManager::file(&file.path)
        .with_init(|conn| conn.execute_batch("PRAGMA busy_timeout = 5000;"));
    let pool = r2d2::Pool::builder().max_size(3).build(manager).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let pool = pool.clone();
            std::thread::spawn(move || {
                for _ in 0..200 {
                    let db = pool.get().unwrap();
                    db.reset_query_log();
                    let posts = Post::query()
                        .preload(Post::author())
                        .preload(Post::editor())
                        .all(&db)
                        .unwrap();
                    assert_eq!(db.query_count(), 3);
                    let editors: Vec<Option<&str>> = posts
                        .iter()
                        .map(|p| p.editor().map(|e| e.username.as_str()))
                        .collect();
                    assert_eq!(editors, [Some("grace"), None, Some("ada")]);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    drop(pool);
}

/// Loaded values can be sent to and shared between threads.
#[test]
fn loaded_values_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>(_: &T) {}
    fn assert_send<T: Send>(_: &T) {}
    let db = blog(2, 2, 1);
    assert_send(&db);
    let users = User::query()
        .preload(User::posts().preload(Post::comments()))
        .all(&db)
        .unwrap();
    assert_send_sync(&users);
    let handle = std::thread::spawn(move || users.iter().map(|u| u.posts().len()).sum::<usize>());
    assert_eq!(handle.join().unwrap(), 4);
}

/// On PostgreSQL too, a preload's statements read one snapshot (a
/// `REPEATABLE READ, READ ONLY` transaction): a row another session commits
/// between the root query's wave and the child query's is not seen, while
/// two plain reads do see it. (The query hook runs on the caller's thread,
/// outside the connection's runtime, so it may use a synchronous `Db`.)
#[test]
fn a_postgres_preload_reads_one_snapshot() {
    let Some(db) = common::backend::postgres() else {
        return;
    };
    db.execute_batch(SCHEMA).unwrap();
    db.execute_batch(
        "INSERT INTO users VALUES (1, 'ada'), (2, 'grace');
         INSERT INTO posts VALUES (1, 1, NULL, 'before'), (2, 2, NULL, 'before');",
    )
    .unwrap();
    let writer = common::backend::postgres_session(&common::backend::current_schema());
    let writes = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&writes);
    db.set_query_hook(move |record| {
        if record.sql.contains("FROM \"users\"") {
            let id = 100 + counter.fetch_add(1, Ordering::SeqCst);
            writer
                .execute_batch(&format!(
                    "INSERT INTO posts VALUES ({id}, 1, NULL, 'during')"
                ))
                .unwrap();
        }
    });
    // Filtered roots: the posts go out in a second wave, by the users' keys
    // (every user would name them by subquery, in the same wave).
    db.reset_query_log();
    let users = User::query()
        .filter(|u| u.id.gt(0))
        .preload(User::posts())
        .all(&db)
        .unwrap();
    assert_eq!(writes.load(Ordering::SeqCst), 1, "the writer ran between");
    assert_eq!(db.query_count(), 2);
    assert_eq!(users[0].posts().len(), 1, "the preload saw its snapshot");

    let users = User::all(&db).unwrap();
    assert_eq!(writes.load(Ordering::SeqCst), 2);
    assert_eq!(
        users[0].load_posts(&db).unwrap().len(),
        3,
        "outside a preload both writes are visible"
    );
    db.clear_query_hook();
}

/// `Db::transaction` on PostgreSQL: a preload inside it reads in it (and
/// sees its writes); an `Err` rolls the writes back.
#[test]
fn postgres_transactions_hold_preloads_and_roll_back() {
    let Some(db) = common::backend::postgres() else {
        return;
    };
    db.execute_batch(SCHEMA).unwrap();
    db.execute_batch("INSERT INTO users VALUES (1, 'ada')")
        .unwrap();
    let seen = db
        .transaction(|db| {
            db.execute_batch("INSERT INTO posts VALUES (1, 1, NULL, 'pending')")?;
            let users = User::query().preload(User::posts()).all(db)?;
            Ok::<_, Error>(users[0].posts().len())
        })
        .unwrap();
    assert_eq!(seen, 1, "the preload read inside the transaction");
    let failed: Result<(), Error> = db.transaction(|db| {
        db.execute_batch("INSERT INTO posts VALUES (2, 1, NULL, 'doomed')")?;
        Post::query().filter(|p| p.id.eq(1)).all(db)?;
        Err(Error::Database("give up".into()))
    });
    assert!(failed.is_err());
    let posts = Post::all(&db).unwrap();
    assert_eq!(posts.len(), 1, "the failed transaction was rolled back");
    // Outside any transaction, a preload's own snapshot is ended again.
    let users = User::query().preload(User::posts()).all(&db).unwrap();
    assert_eq!(users[0].posts().len(), 1);
    db.execute_batch("INSERT INTO posts VALUES (3, 1, NULL, 'later')")
        .unwrap();
    assert_eq!(User::all(&db).unwrap()[0].load_posts(&db).unwrap().len(), 2);
}

/// A transaction begun with the user's own SQL on PostgreSQL: a preload
/// inside it joins it (sees its uncommitted write) and leaves it open, so
/// the user's ROLLBACK still discards the write. Also right after a bare
/// `BEGIN`, before any query, and through the raw client.
#[test]
fn a_postgres_preload_joins_a_transaction_begun_with_raw_sql() {
    let Some(db) = common::backend::postgres() else {
        return;
    };
    db.execute_batch(SCHEMA).unwrap();
    db.execute_batch("INSERT INTO users VALUES (1, 'ada')")
        .unwrap();
    let posts_of_ada = |db: &Db| {
        User::query().preload(User::posts()).all(db).unwrap()[0]
            .posts()
            .len()
    };

    db.execute_batch("BEGIN; INSERT INTO posts VALUES (1, 1, NULL, 'draft')")
        .unwrap();
    assert_eq!(posts_of_ada(&db), 1, "sees the uncommitted write");
    db.execute_batch("ROLLBACK").unwrap();
    assert_eq!(posts_of_ada(&db), 0, "the user's rollback still applied");

    db.execute_batch("BEGIN").unwrap();
    assert_eq!(posts_of_ada(&db), 0);
    db.execute_batch("INSERT INTO posts VALUES (2, 1, NULL, 'draft')")
        .unwrap();
    assert_eq!(posts_of_ada(&db), 1, "still the user's transaction");
    db.execute_batch("ROLLBACK").unwrap();

    db.postgres()
        .unwrap()
        .batch_execute("BEGIN; INSERT INTO posts VALUES (3, 1, NULL, 'draft')")
        .unwrap();
    assert_eq!(posts_of_ada(&db), 1);
    db.postgres().unwrap().batch_execute("ROLLBACK").unwrap();
    assert_eq!(posts_of_ada(&db), 0);

    // Back outside: the preload's own snapshot is begun and ended again.
    db.execute_batch("INSERT INTO posts VALUES (4, 1, NULL, 'kept')")
        .unwrap();
    assert_eq!(posts_of_ada(&db), 1);
}
