//! The async API: the same preloads, lazy loads and finds as the sync one,
//! on SQLite (worker threads) and PostgreSQL (pipelined, pooled), from tokio
//! tasks; the sync `Db` refuses to run inside a runtime instead of
//! panicking; a page preload on PostgreSQL is one round trip.

mod common;

use std::time::Duration;

use common::proxy::Proxy;
use common::{Comment, Post, User};
use loader_runtime::{AsyncDb, Backend, Db, Form};

/// A blog filled through the sync API, and an async handle on the same
/// data: a WAL file for SQLite, the test's schema on PostgreSQL. `sync`
/// opens a sync connection to it, to use with [`blocking`].
struct Pair {
    sync: Box<dyn Fn() -> Db + Send + Sync>,
    db: AsyncDb,
}

use common::backend::blocking;

async fn pairs(users: i64, posts: i64, comments: i64) -> Vec<Pair> {
    let mut pairs = Vec::new();
    let schema = common::backend::current_schema();
    let dir = std::env::temp_dir().join(format!("loader-async-{}-{schema}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("blog.db");
    let _ = std::fs::remove_file(&path);
    blocking(|| {
        let sync = Db::open(&path).unwrap();
        sync.execute_batch("PRAGMA journal_mode = WAL").unwrap();
        common::fill_blog(&sync, users, posts, comments);
    });
    let db = AsyncDb::connect(path.to_str().unwrap()).await.unwrap();
    pairs.push(Pair {
        sync: Box::new(move || Db::open(&path).unwrap()),
        db,
    });
    let filled = blocking(|| {
        let db = common::backend::postgres_schema(&schema)?;
        common::fill_blog(&db, users, posts, comments);
        Some(())
    });
    if filled.is_some() {
        let db = common::backend::async_db(postgres_config(&schema, None));
        pairs.push(Pair {
            sync: Box::new(move || common::backend::postgres_session(&schema)),
            db,
        });
    }
    pairs
}

/// The blog of [`pairs`] on PostgreSQL alone, if enabled.
fn postgres_blog(users: i64, posts: i64, comments: i64) -> Option<String> {
    let schema = common::backend::current_schema();
    blocking(|| {
        let db = common::backend::postgres_schema(&schema)?;
        common::fill_blog(&db, users, posts, comments);
        Some(())
    })?;
    Some(schema)
}

/// An async handle on the test place `schema` with a pool of one
/// connection, so that each statement meets what the last one left.
fn one_connection(schema: &str) -> AsyncDb {
    let manager = loader_runtime::deadpool_postgres::Manager::new(
        postgres_config(schema, None),
        tokio_postgres::NoTls,
    );
    let pool = loader_runtime::deadpool_postgres::Pool::builder(manager)
        .max_size(1)
        .runtime(loader_runtime::deadpool_postgres::Runtime::Tokio1)
        .build()
        .unwrap();
    let db = AsyncDb::from_postgres_pool(pool);
    if common::backend::prepared_statements() {
        db
    } else {
        db.without_prepared_statements()
    }
}

/// The configuration of an async handle on the test place `schema`,
/// through the proxy on `port` if given.
fn postgres_config(schema: &str, port: Option<u16>) -> tokio_postgres::Config {
    match port {
        None => common::backend::async_config(schema),
        Some(port) => common::backend::async_config_through(schema, port),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn async_preloads_equal_sync_preloads() {
    for pair in pairs(30, 3, 2).await {
        let query = User::query()
            .filter(|u| u.id.gt(3))
            .preload(
                User::posts()
                    .preload(Post::comments())
                    .preload(Post::editor()),
            )
            .preload(User::posts().count());
        let expected = blocking(|| query.all(&(pair.sync)()).unwrap());
        pair.db.reset_query_log();
        let loaded = query.all(&pair.db).await.unwrap();
        assert_eq!(format!("{loaded:?}"), format!("{expected:?}"));
        assert_eq!(loaded.len(), 27);
        assert_eq!(pair.db.query_count(), 5, "{:?}", pair.db.backend());
        // A page: the subquery form on PostgreSQL, same graph.
        let page = User::query()
            .order_by(|u| u.username.desc())
            .limit(5)
            .offset(2)
            .preload(User::posts().limit_per_parent(2).preload(Post::comments()))
            .preload(User::posts().count());
        let expected = blocking(|| page.all(&(pair.sync)()).unwrap());
        let loaded = page.all(&pair.db).await.unwrap();
        assert_eq!(format!("{loaded:?}"), format!("{expected:?}"));
        assert_eq!(loaded.len(), 5);
        let one = page.find(&pair.db, &7).await.unwrap();
        let expected = blocking(|| page.find(&(pair.sync)(), &7).unwrap());
        assert_eq!(format!("{one:?}"), format!("{expected:?}"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn async_lazy_loads_and_finds() {
    for pair in pairs(3, 2, 1).await {
        let db = pair.db.with_new_log();
        let users = User::all(&db).await.unwrap();
        let mut posts = 0;
        for user in &users {
            posts += user.load_posts(&db).await.unwrap().len();
        }
        assert_eq!(posts, 6);
        assert_eq!(db.query_count(), 4, "1 + N, counted in this log only");
        assert_eq!(pair.db.query_count(), 0);
        let post = Post::find(&db, &2).await.unwrap().unwrap();
        assert_eq!(post.load_author(&db).await.unwrap().id, post.author_id);
        assert_eq!(
            post.load_editor(&db).await.unwrap().map(|u| u.id),
            post.editor_id
        );
        assert!(Post::find(&db, &1000).await.unwrap().is_none());
        let comments: Vec<Comment> = post.load_comments(&db).await.unwrap();
        assert_eq!(comments.len(), 1);
    }
}

/// What an axum handler needs: a `Clone + Send + Sync + 'static` handle
/// and `Send` futures, here spawned on the multi-threaded runtime.
#[tokio::test(flavor = "multi_thread")]
async fn preloads_run_in_spawned_tasks() {
    fn state<S: Clone + Send + Sync + 'static>(_: &S) {}
    for pair in pairs(10, 2, 1).await {
        state(&pair.db);
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let db = pair.db.clone();
                tokio::spawn(async move {
                    User::query()
                        .preload(User::posts().preload(Post::comments()))
                        .all(&db)
                        .await
                        .map(|users| users.iter().map(|u| u.posts().len()).sum::<usize>())
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap(), 20);
        }
    }
}

/// The sync `Db` on PostgreSQL inside a runtime is an `Err` that points to
/// the async API (waiting there would block the runtime), and dropping it there
/// is safe; an r2d2 pool used from a spawned task fails the same way
/// rather than aborting the process.
#[tokio::test(flavor = "multi_thread")]
async fn the_sync_db_refuses_inside_a_runtime() {
    let Ok(url) = std::env::var(common::backend::POSTGRES_URL) else {
        eprintln!(
            "skipped on PostgreSQL: set {}",
            common::backend::POSTGRES_URL
        );
        return;
    };
    let error = Db::connect(&url).unwrap_err();
    assert!(error.to_string().contains("AsyncDb"), "{error}");
    let db = blocking(|| Db::connect(&url).unwrap());
    let error = User::all(&db).unwrap_err();
    assert!(error.to_string().contains("AsyncDb"), "{error}");
    drop(db);
    let manager = loader_runtime::pool::DbManager::postgres(&url).unwrap();
    let pool = blocking(|| {
        r2d2::Pool::builder()
            .max_size(1)
            .connection_timeout(Duration::from_millis(300))
            .build(manager)
            .unwrap()
    });
    let result = tokio::spawn(async move {
        let outcome = pool.get().map(|db| User::all(&db).is_err());
        drop(pool);
        outcome.unwrap_or(true)
    })
    .await
    .unwrap();
    assert!(result, "an Err, not a panic");
}

/// A page of users with posts, their comments and a count, plus each
/// user's profile-like `has_one` stand-in: through a proxy that delays
/// each packet, the whole tree with `BEGIN` and `COMMIT` is one round trip.
#[tokio::test(flavor = "multi_thread")]
async fn a_page_preload_is_one_round_trip_on_postgres() {
    let Some(schema) = postgres_blog(50, 3, 2) else {
        return;
    };
    let proxy = Proxy::start("127.0.0.1:5432", Duration::from_millis(20));
    let db = common::backend::async_db(postgres_config(&schema, Some(proxy.port)));
    let page = || {
        User::query()
            .filter(|u| u.id.gt(10))
            .order_by(|u| u.username.asc())
            .limit(20)
            .preload(
                User::posts()
                    .preload(Post::comments())
                    .preload(Post::author()),
            )
            .preload(User::posts().count())
    };
    // Warm up: connect and describe each statement once per connection.
    let expected = page().all(&db).await.unwrap();
    proxy.take_round_trips();
    db.reset_query_log();
    let loaded = page().all(&db).await.unwrap();
    assert_eq!(format!("{loaded:?}"), format!("{expected:?}"));
    assert_eq!(db.query_count(), 5);
    assert_eq!(proxy.take_round_trips(), 1, "{:#?}", db.query_log());
    // Many roots (more than 100 found by a filter) go level by level: one
    // round trip per level, siblings together.
    let all = Post::query()
        .filter(|p| p.id.gt(10))
        .preload(Post::comments())
        .preload(Post::author().preload(User::posts()));
    all.all(&db).await.unwrap();
    proxy.take_round_trips();
    let loaded = all.all(&db).await.unwrap();
    assert_eq!(loaded.len(), 140);
    assert_eq!(
        proxy.take_round_trips(),
        3,
        "roots; comments and authors; the authors' posts"
    );
    // Every root: the tables read whole go out with the roots.
    let every = User::query()
        .preload(User::posts().preload(Post::comments()))
        .preload(User::posts().count());
    every.all(&db).await.unwrap();
    proxy.take_round_trips();
    let loaded = every.all(&db).await.unwrap();
    assert_eq!(loaded.len(), 50);
    assert_eq!(
        proxy.take_round_trips(),
        1,
        "users, posts, comments and counts at once"
    );
    // The sync client sends its waves the same way: pipelined, BEGIN and
    // COMMIT with them.
    let config = postgres_config(&schema, Some(proxy.port));
    let url = format!(
        "postgres://{}@127.0.0.1:{}/{}",
        config.get_user().unwrap_or("postgres"),
        proxy.port,
        config.get_dbname().unwrap_or("postgres"),
    );
    let sync_trips = blocking(|| {
        let sync = Db::connect(&url).unwrap();
        if !common::backend::pooled() {
            sync.execute_batch(&format!("SET search_path TO {schema}"))
                .unwrap();
        }
        let warm = page().all(&sync).unwrap();
        assert_eq!(format!("{warm:?}"), format!("{expected:?}"));
        all.all(&sync).unwrap();
        every.all(&sync).unwrap();
        proxy.take_round_trips();
        let loaded = page().all(&sync).unwrap();
        assert_eq!(format!("{loaded:?}"), format!("{expected:?}"));
        let page_trips = proxy.take_round_trips();
        assert_eq!(all.all(&sync).unwrap().len(), 140);
        let level_trips = proxy.take_round_trips();
        let loaded = every.all(&sync).unwrap();
        assert_eq!(loaded.len(), 50);
        assert_eq!(loaded.iter().map(|u| u.posts().len()).sum::<usize>(), 150);
        (page_trips, level_trips, proxy.take_round_trips())
    });
    assert_eq!(
        sync_trips,
        (1, 3, 1),
        "a page at once; then level by level; every root at once"
    );
}

/// Every post with its author, where the roots cannot name their authors
/// without being read: the first load learns how many rows `posts` has
/// and names the authors by key (two round trips). While the table had at
/// most 1,000 rows when last read whole, the next loads name them by
/// subquery and send both at once; once it has grown past that, by key
/// again. The handle remembers sizes, so a new one starts with keys.
#[tokio::test(flavor = "multi_thread")]
async fn every_row_of_a_small_table_learns_to_preload_in_one_round_trip() {
    let Some(schema) = postgres_blog(50, 3, 0) else {
        return;
    };
    let proxy = Proxy::start("127.0.0.1:5432", Duration::from_millis(20));
    let db = common::backend::async_db(postgres_config(&schema, Some(proxy.port)));
    let every = || Post::query().preload(Post::author());
    let authors_sql = |db: &AsyncDb| db.query_log().last().unwrap().sql.to_string();
    let expected = |posts: &[loader_runtime::Loaded<Post, _>]| {
        posts.iter().all(|post| post.author().id == post.author_id)
    };
    db.reset_query_log();
    let first = every().all(&db).await.unwrap();
    assert_eq!(first.len(), 150);
    assert!(expected(&first));
    assert!(
        authors_sql(&db).contains("= ANY($1)"),
        "{}",
        authors_sql(&db)
    );
    // Known small now: the authors go out with the posts.
    every().all(&db).await.unwrap();
    proxy.take_round_trips();
    let again = every().all(&db).await.unwrap();
    assert_eq!(format!("{again:?}"), format!("{first:?}"));
    assert_eq!(proxy.take_round_trips(), 1, "{:#?}", db.query_log());
    assert!(authors_sql(&db).contains("(SELECT"), "{}", authors_sql(&db));
    // A request's own log keeps what the handle learned.
    let request = db.with_new_log();
    proxy.take_round_trips();
    every().all(&request).await.unwrap();
    assert_eq!(proxy.take_round_trips(), 1, "{:#?}", request.query_log());
    // The sync `Db` learns the same way, on its own.
    let sync_schema = schema.clone();
    let keys = blocking(move || {
        let sync = common::backend::postgres_session(&sync_schema);
        (0..2)
            .map(|_| {
                let loaded = every().all(&sync).unwrap();
                assert_eq!(loaded.len(), 150);
                assert!(expected(&loaded));
                sync.query_log().last().unwrap().sql.contains("= ANY($1)")
            })
            .collect::<Vec<_>>()
    });
    assert_eq!(keys, [true, false], "keys until the size is known");
    // The table grows: the load that finds it large still used the
    // subquery; the next one binds the keys again.
    db.execute_batch(
        "INSERT INTO posts SELECT 1000 + i, (i % 50) + 1, NULL, 'more ' || i
         FROM generate_series(1, 1000) AS i",
    )
    .await
    .unwrap();
    let grown = every().all(&db).await.unwrap();
    assert_eq!(grown.len(), 1_150);
    assert!(expected(&grown));
    assert!(authors_sql(&db).contains("(SELECT"), "{}", authors_sql(&db));
    proxy.take_round_trips();
    let large = every().all(&db).await.unwrap();
    assert_eq!(format!("{large:?}"), format!("{grown:?}"));
    assert!(
        authors_sql(&db).contains("= ANY($1)"),
        "{}",
        authors_sql(&db)
    );
    assert_eq!(proxy.take_round_trips(), 2, "{:#?}", db.query_log());
    // Neither a filtered read nor a limited one says how large the table is.
    let some = Post::query()
        .filter(|p| p.id.gt(1_950))
        .all(&db)
        .await
        .unwrap();
    assert_eq!(some.len(), 50);
    every().limit(100).all(&db).await.unwrap();
    every().all(&db).await.unwrap();
    assert!(
        authors_sql(&db).contains("= ANY($1)"),
        "{}",
        authors_sql(&db)
    );
}

/// Roots found by a filter: the first load of a statement names the
/// preloads' owners by key (a round trip per level). While that statement,
/// whatever its values, last found at most 100 rows, the next loads name
/// them by subquery and send the tree at once; once it finds more, by key
/// again. A statement of another text learns on its own.
#[tokio::test(flavor = "multi_thread")]
async fn a_filter_that_found_few_roots_preloads_in_one_round_trip() {
    let Some(schema) = postgres_blog(50, 3, 2) else {
        return;
    };
    let proxy = Proxy::start("127.0.0.1:5432", Duration::from_millis(20));
    let db = common::backend::async_db(postgres_config(&schema, Some(proxy.port)));
    let up_to = |id: i64| {
        Post::query()
            .filter(move |p| p.id.le(id))
            .preload(Post::comments())
            .preload(Post::author())
    };
    let expected = |id: i64| {
        let schema = schema.clone();
        blocking(move || {
            let sync = common::backend::postgres_session(&schema);
            format!("{:?}", up_to(id).form(Form::Keys).all(&sync).unwrap())
        })
    };
    let comments_sql = |db: &AsyncDb| db.query_log()[1].sql.to_string();
    // Loads `up_to(id)`: its round trips, and whether it named the owners
    // by key.
    let load = async |id: i64| {
        db.reset_query_log();
        proxy.take_round_trips();
        let loaded = up_to(id).all(&db).await.unwrap();
        let trips = proxy.take_round_trips();
        assert_eq!(format!("{loaded:?}"), expected(id), "up to {id}");
        assert_eq!(loaded.len() as i64, id.min(150));
        (trips, comments_sql(&db).contains("= ANY($1)"))
    };
    // The first load of each form also prepares its statements.
    assert!(load(30).await.1, "keys until the count is known");
    assert!(!load(20).await.1, "by subquery: 30 roots last time");
    assert_eq!(load(25).await, (1, false), "20 roots last time");
    assert_eq!(load(150).await, (1, false), "25 last time");
    assert_eq!(
        load(10).await,
        (2, true),
        "150 last time: roots, then both relations"
    );
    assert_eq!(load(10).await, (1, false));
    // The sync `Db` learns the same way, on its own.
    let sync_schema = schema.clone();
    let keys = blocking(move || {
        let sync = common::backend::postgres_session(&sync_schema);
        (0..2)
            .map(|_| {
                sync.reset_query_log();
                assert_eq!(up_to(30).all(&sync).unwrap().len(), 30);
                sync.query_log().iter().any(|q| q.sql.contains("= ANY($1)"))
            })
            .collect::<Vec<_>>()
    });
    assert_eq!(keys, [true, false], "keys until the count is known");
    // Another filter's text has no count yet.
    db.reset_query_log();
    Post::query()
        .filter(|p| p.id.ge(140))
        .preload(Post::comments())
        .all(&db)
        .await
        .unwrap();
    assert!(
        comments_sql(&db).contains("= ANY($1)"),
        "{}",
        comments_sql(&db)
    );
}

/// A preload whose future is dropped half way (a timeout) leaves the pool
/// usable: the next preload on it returns the right graph.
#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_preload_leaves_the_pool_usable() {
    let Some(schema) = postgres_blog(30, 2, 2) else {
        return;
    };
    let proxy = Proxy::start("127.0.0.1:5432", Duration::from_millis(15));
    let mut config = postgres_config(&schema, Some(proxy.port));
    config.connect_timeout(Duration::from_secs(5));
    let db = common::backend::async_db(config);
    // Named by key, so that the load takes three waves to cut between.
    let query = User::query()
        .filter(|u| u.id.gt(0))
        .preload(User::posts().preload(Post::comments()))
        .form(Form::Keys);
    let expected = blocking(|| {
        query
            .all(&common::backend::postgres_session(&schema))
            .unwrap()
    });
    // Warm the pool's one connection, then cut preloads off mid-flight.
    query.all(&db).await.unwrap();
    for cut in [5, 20, 40, 60] {
        let result = tokio::time::timeout(Duration::from_millis(cut), query.all(&db)).await;
        assert!(result.is_err(), "cut off after {cut} ms");
        let loaded = query.all(&db).await.unwrap();
        assert_eq!(
            format!("{loaded:?}"),
            format!("{expected:?}"),
            "after a cut at {cut} ms"
        );
    }
    // Dropping the future without a timeout, before it is polled to the end.
    let mut future = Box::pin(query.all(&db));
    let _ = futures_poll_once(&mut future).await;
    drop(future);
    let loaded = query.all(&db).await.unwrap();
    assert_eq!(format!("{loaded:?}"), format!("{expected:?}"));
    let backend = db.backend();
    assert_eq!(backend, Backend::Postgres);
}

/// Polls `future` once.
async fn futures_poll_once<F: std::future::Future + Unpin>(future: &mut F) -> Option<F::Output> {
    std::future::poll_fn(|cx| match std::pin::Pin::new(&mut *future).poll(cx) {
        std::task::Poll::Ready(out) => std::task::Poll::Ready(Some(out)),
        std::task::Poll::Pending => std::task::Poll::Ready(None),
    })
    .await
}

/// A sync connection on a thread of its own that runs the SQL it is sent
/// and answers when done: a second session for hooks that run on a
/// runtime's thread, where the sync `Db` refuses to talk to PostgreSQL.
struct Writer {
    requests: std::sync::mpsc::Sender<(String, std::sync::mpsc::Sender<()>)>,
}

impl Writer {
    fn start(open: impl FnOnce() -> Db + Send + 'static) -> Writer {
        let (requests, incoming) =
            std::sync::mpsc::channel::<(String, std::sync::mpsc::Sender<()>)>();
        std::thread::spawn(move || {
            let db = open();
            for (sql, done) in incoming {
                db.execute_batch(&sql).unwrap();
                let _ = done.send(());
            }
        });
        Writer { requests }
    }

    fn write(&self, sql: String) {
        let (done, answered) = std::sync::mpsc::channel();
        self.requests.send((sql, done)).unwrap();
        answered.recv().unwrap();
    }
}

/// The statements of an async preload read one snapshot: a row another
/// session commits between the root statement and the children's is not
/// seen (here the key form, one wave per level), while two plain reads do
/// see it.
#[test]
fn an_async_preload_reads_one_snapshot() {
    let conns = common::conn::conns(|db| {
        db.execute_batch(common::SCHEMA).unwrap();
        db.execute_batch(
            "INSERT INTO users VALUES (1, 'ada'), (2, 'grace');
             INSERT INTO posts VALUES (1, 1, NULL, 'before'), (2, 2, NULL, 'before');",
        )
        .unwrap();
    });
    for conn in conns {
        let common::conn::Conn::Async {
            db, runtime, setup, ..
        } = &conn
        else {
            continue;
        };
        let writer = match db.backend() {
            Backend::Postgres => {
                let schema = common::backend::place(setup);
                Writer::start(move || common::backend::postgres_session(&schema))
            }
            _ => {
                let path = setup.sqlite().unwrap().path().unwrap().to_owned();
                Writer::start(move || Db::open(path).unwrap())
            }
        };
        let writes = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = std::sync::Arc::clone(&writes);
        db.set_query_hook(move |record| {
            if record.sql.contains("FROM \"users\"") {
                let id = 100 + counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                writer.write(format!(
                    "INSERT INTO posts VALUES ({id}, 1, NULL, 'during')"
                ));
            }
        });
        runtime.block_on(async {
            let users = User::query().preload(User::posts()).all(db).await.unwrap();
            assert_eq!(
                writes.load(std::sync::atomic::Ordering::SeqCst),
                1,
                "the writer ran between"
            );
            assert_eq!(
                users[0].posts().len(),
                1,
                "{}: the preload saw its snapshot",
                conn.name()
            );
            let users = User::all(db).await.unwrap();
            assert_eq!(writes.load(std::sync::atomic::Ordering::SeqCst), 2);
            assert_eq!(
                users[0].load_posts(db).await.unwrap().len(),
                3,
                "{}: outside a preload both writes are visible",
                conn.name()
            );
        });
        db.clear_query_hook();
    }
}

#[derive(Debug)]
enum Refused {
    NotAllowed,
    Db(loader_runtime::Error),
}

impl From<loader_runtime::Error> for Refused {
    fn from(error: loader_runtime::Error) -> Self {
        Refused::Db(error)
    }
}

/// Async transactions take the caller's error type: `Ok` commits, `Err`
/// rolls back (a business rule, not a database error), a preload inside
/// one sees its writes, a transaction dropped uncommitted rolls back, and
/// the whole thing runs in a spawned task.
#[test]
fn async_transactions_commit_roll_back_and_take_the_callers_error() {
    let conns = common::conn::blog_conns(2, 1, 0);
    for conn in conns {
        let common::conn::Conn::Async { db, runtime, .. } = &conn else {
            continue;
        };
        let name = conn.name();
        runtime.block_on(async {
            let seen = db
                .transaction(async |tx| {
                    tx.execute_batch("INSERT INTO posts VALUES (10, 1, NULL, 'new')")
                        .await?;
                    let users = User::query().preload(User::posts()).all(tx).await?;
                    Ok::<_, Refused>(users[0].posts().len())
                })
                .await
                .unwrap();
            assert_eq!(seen, 2, "{name}: the preload read inside the transaction");
            assert_eq!(
                User::find(db, &1)
                    .await
                    .unwrap()
                    .unwrap()
                    .load_posts(db)
                    .await
                    .unwrap()
                    .len(),
                2
            );

            let refused = db
                .transaction(async |tx| {
                    tx.execute_batch("INSERT INTO posts VALUES (11, 1, NULL, 'refused')")
                        .await?;
                    if Post::all(tx).await?.len() > 2 {
                        return Err(Refused::NotAllowed);
                    }
                    Ok(())
                })
                .await;
            assert!(
                matches!(refused, Err(Refused::NotAllowed)),
                "{name}: {refused:?}"
            );
            assert_eq!(Post::all(db).await.unwrap().len(), 3, "{name}: rolled back");

            let failed = db
                .transaction(async |tx| {
                    tx.execute_batch("INSERT INTO no_such_table VALUES (1)")
                        .await?;
                    Ok::<_, Refused>(())
                })
                .await;
            assert!(
                matches!(
                    &failed,
                    Err(Refused::Db(loader_runtime::Error::Database(_)))
                ),
                "{name}: the library's error converts into the caller's: {failed:?}"
            );

            let tx = db.begin().await.unwrap();
            tx.execute_batch("INSERT INTO posts VALUES (12, 1, NULL, 'dropped')")
                .await
                .unwrap();
            drop(tx);
            assert_eq!(
                Post::all(db).await.unwrap().len(),
                3,
                "{name}: a dropped transaction rolls back"
            );

            let spawned = db.clone();
            let count = tokio::spawn(async move {
                spawned
                    .transaction(async |tx| {
                        tx.execute_batch("INSERT INTO posts VALUES (13, 2, NULL, 'spawned')")
                            .await?;
                        Ok::<_, loader_runtime::Error>(Post::all(tx).await?.len())
                    })
                    .await
            })
            .await
            .unwrap()
            .unwrap();
            assert_eq!(count, 4, "{name}");
        });
    }
}

/// A batch that leaves a transaction open would hand the next caller a
/// connection inside it: it is rolled back and reported instead.
#[test]
fn a_batch_cannot_leave_a_pooled_connection_in_a_transaction() {
    for conn in common::conn::blog_conns(2, 1, 0) {
        let common::conn::Conn::Async { db, runtime, .. } = &conn else {
            continue;
        };
        if db.backend() != Backend::Postgres {
            continue;
        }
        // One connection, so that the next statement meets whatever the
        // batch left behind.
        let schema = format!("{}_a", common::backend::current_schema());
        let db = &one_connection(&schema);
        runtime.block_on(async {
            let error = db
                .execute_batch("BEGIN; INSERT INTO posts VALUES (10, 1, NULL, 'half')")
                .await
                .unwrap_err();
            assert!(error.to_string().contains("AsyncDb::begin"), "{error}");
            assert_eq!(Post::all(db).await.unwrap().len(), 2, "rolled back");
            db.execute_batch("BEGIN; INSERT INTO posts VALUES (11, 1, NULL, 'whole'); COMMIT")
                .await
                .unwrap();
            db.execute_batch("INSERT INTO posts VALUES (12, 1, NULL, 'plain')")
                .await
                .unwrap();
            assert_eq!(Post::all(db).await.unwrap().len(), 4);
            let error = db
                .execute_batch("SELECT * FROM no_such_table")
                .await
                .unwrap_err();
            assert!(error.to_string().contains("no_such_table"), "{error}");
            assert_eq!(Post::all(db).await.unwrap().len(), 4);
        });
    }
}

/// A migration that changes a column's type while the connection keeps
/// statements that read it: the next load fails once with "cached plan
/// must not change result type", drops the kept statements and runs again,
/// on both APIs. Inside the caller's transaction it cannot (the failure
/// aborted the transaction) and is an `Err`.
#[test]
fn a_column_type_change_under_kept_statements_recovers() {
    for conn in common::conn::blog_conns(3, 2, 1) {
        if conn.sync().backend() != Backend::Postgres {
            continue;
        }
        let name = conn.name();
        let query = User::query().preload(User::posts().preload(Post::comments()));
        let before = on!(&conn, wait, |db| {
            let users = wait!(query.all(db)).unwrap();
            wait!(users[0].load_posts(db)).unwrap();
            format!("{users:?}")
        });
        // A second session runs the migration.
        let schema = common::backend::place(conn.sync());
        let migrate = |sql: &str| {
            let sql = sql.to_owned();
            let schema = schema.clone();
            blocking(move || {
                common::backend::postgres_session(&schema)
                    .execute_batch(&sql)
                    .unwrap()
            })
        };
        migrate("ALTER TABLE posts ALTER COLUMN title TYPE varchar(200)");
        let after = on!(&conn, wait, |db| {
            let users = wait!(query.all(db)).unwrap();
            let lazy = wait!(users[0].load_posts(db)).unwrap();
            assert_eq!(lazy.len(), 2, "{name}");
            assert_eq!(wait!(Post::all(db)).unwrap().len(), 6, "{name}");
            format!("{users:?}")
        });
        assert_eq!(after, before, "{name}: the same graph after the migration");

        migrate("ALTER TABLE posts ALTER COLUMN title TYPE text");
        // Nothing is kept without prepared statements, so nothing goes stale.
        if let (common::conn::Conn::Sync(db), true) =
            (&conn, common::backend::prepared_statements())
        {
            let error = db
                .transaction(|db| Post::all(db))
                .expect_err("a stale statement inside the caller's transaction");
            assert!(error.to_string().contains("cached plan"), "{name}: {error}");
            assert_eq!(
                Post::all(db).unwrap().len(),
                6,
                "{name}: recovers outside it"
            );
        }
    }
}

/// The time a job waited for a pooled connection is counted in its log:
/// with one connection held by a transaction, a query waits until the
/// transaction ends.
#[tokio::test(flavor = "multi_thread")]
async fn pool_waits_are_counted() {
    let Some(schema) = postgres_blog(3, 1, 0) else {
        return;
    };
    let db = one_connection(&schema);
    let tx = db.begin().await.unwrap();
    let waiting = db.with_new_log();
    let query = tokio::spawn(async move {
        let users = User::all(&waiting).await.unwrap();
        (users.len(), waiting.pool_wait())
    });
    tokio::time::sleep(Duration::from_millis(80)).await;
    tx.commit().await.unwrap();
    let (users, wait) = query.await.unwrap();
    assert_eq!(users, 3);
    assert_eq!(wait.checkouts, 1);
    assert!(wait.longest >= Duration::from_millis(60), "{wait:?}");
    assert_eq!(wait.total, wait.longest);
    db.reset_query_log();
    assert_eq!(db.pool_wait().checkouts, 0);
}

/// The session's prepared statements, read as an entity.
#[derive(loader_runtime::Entity, Debug)]
#[entity(table = "pg_prepared_statements")]
struct Prepared {
    #[entity(primary_key)]
    name: String,
}

/// Without prepared statements (for a pooler in transaction mode), every
/// statement runs unnamed with its values typed by the server: the same
/// graphs on both APIs and both forms, and nothing left prepared on the
/// session. A statement prepared and then lost (what such a pooler does)
/// is an error that says what to set.
#[test]
fn without_prepared_statements_the_same_graphs_and_nothing_prepared() {
    let Ok(url) = std::env::var(common::backend::POSTGRES_URL) else {
        return;
    };
    /// Scoped, nested, counted and per-parent-limited preloads in both
    /// forms, `find` and a lazy load, as text to compare.
    fn graphs(conn: &common::conn::Conn) -> Vec<String> {
        on!(conn, wait, |db| {
            let nested = User::query()
                .filter(|u| u.username.like("user 1%").or(u.id.is_in([2, 3])))
                .preload(
                    User::posts()
                        .filter(|p| p.id.gt(2))
                        .preload(Post::comments().preload(Comment::post())),
                )
                .preload(User::posts().count());
            let page = Post::query()
                .order_by(|p| p.title.desc())
                .limit(5)
                .preload(Post::author().preload(User::posts().limit_per_parent(1)))
                .preload(Post::editor());
            let post = wait!(Post::find(db, &3)).unwrap().unwrap();
            vec![
                format!("{:?}", wait!(nested.all(db)).unwrap()),
                format!(
                    "{:?}",
                    wait!(nested.clone().form(Form::Subquery).all(db)).unwrap()
                ),
                format!("{:?}", wait!(page.all(db)).unwrap()),
                format!("{:?}", wait!(page.find(db, &7)).unwrap()),
                format!("{:?}", wait!(post.load_comments(db)).unwrap()),
            ]
        })
    }
    let conns = common::conn::blog_conns(12, 3, 2);
    for conn in conns
        .iter()
        .filter(|c| c.sync().backend() == Backend::Postgres)
    {
        let schema = common::backend::place(conn.sync());
        let expected = graphs(conn);
        let unnamed_sync = common::conn::Conn::Sync(blocking(|| {
            common::backend::postgres_session(&schema).without_prepared_statements()
        }));
        // One connection, so that the session checked is the one that ran.
        let unnamed_async = common::conn::Conn::Async {
            db: one_connection(&schema).without_prepared_statements(),
            runtime: tokio::runtime::Runtime::new().unwrap(),
            setup: blocking(|| common::backend::postgres_session(&schema)),
            _file: None,
        };
        for unnamed in [&unnamed_sync, &unnamed_async] {
            assert_eq!(graphs(unnamed), expected, "{} unnamed", unnamed.name());
            // Through a pooler the server's sessions are shared with other
            // clients, so only a direct session can be checked.
            let prepared = on!(unnamed, wait, |db| wait!(Prepared::all(db))).unwrap();
            assert!(
                common::backend::pooled() || prepared.is_empty(),
                "{}: nothing prepared on the session: {prepared:?}",
                unnamed.name()
            );
        }
    }
    // A kept statement the server no longer has: the error says what to set.
    if !common::backend::prepared_statements() {
        return;
    }
    let message = blocking(|| {
        let db = Db::connect(&url).unwrap();
        db.execute_batch("CREATE TEMP TABLE notes (id BIGINT PRIMARY KEY)")
            .unwrap();
        #[derive(loader_runtime::Entity)]
        #[entity(table = "notes")]
        struct Note {
            id: i64,
        }
        Note::all(&db).unwrap();
        db.postgres()
            .unwrap()
            .batch_execute("DEALLOCATE ALL")
            .unwrap();
        Note::all(&db).map(|_| ()).unwrap_err().to_string()
    });
    assert!(message.contains("prepared_statements=false"), "{message}");
}
