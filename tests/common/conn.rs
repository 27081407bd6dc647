//! One test body, run on the sync `Db` and on the `AsyncDb`, on every
//! backend: `on!(conn, wait, |db| body)` expands `body` once for each,
//! with `wait!(expr)` standing for `expr` in the sync expansion and for
//! `expr.await` in the async one.

use std::path::PathBuf;

use loader_runtime::{AsyncDb, Db, Monitor};

/// A connection of either API.
pub enum Conn {
    Sync(Db),
    Async {
        db: AsyncDb,
        runtime: tokio::runtime::Runtime,
        /// A sync connection to the same data, for setup.
        setup: Db,
        _file: Option<TempFile>,
    },
}

/// Runs `body` on `conn`'s API: see the module docs.
#[macro_export]
macro_rules! on {
    ($conn:expr, $wait:ident, |$db:ident| $body:expr) => {
        match $conn {
            $crate::common::conn::Conn::Sync(db) => {
                #[allow(unused_macros)]
                macro_rules! $wait {
                    ($e:expr) => {
                        $e
                    };
                }
                let $db = db;
                $body
            }
            $crate::common::conn::Conn::Async { db, runtime, .. } => runtime.block_on(async {
                #[allow(unused_macros)]
                macro_rules! $wait {
                    ($e:expr) => {
                        $e.await
                    };
                }
                let $db = db;
                $body
            }),
        }
    };
}

impl Conn {
    /// The sync connection to this data (the `Db` itself, or the twin of
    /// an async handle), for setup and raw SQL.
    pub fn sync(&self) -> &Db {
        match self {
            Conn::Sync(db) => db,
            Conn::Async { setup, .. } => setup,
        }
    }

    /// `SQLite`/`PostgreSQL`, sync or async, for assertion messages.
    pub fn name(&self) -> String {
        let api = match self {
            Conn::Sync(_) => "sync",
            Conn::Async { .. } => "async",
        };
        format!("{} ({api})", super::backend::name(self.sync()))
    }
}

impl std::ops::Deref for Conn {
    type Target = Monitor;
    fn deref(&self) -> &Monitor {
        match self {
            Conn::Sync(db) => db,
            Conn::Async { db, .. } => db,
        }
    }
}

/// A database file removed when dropped.
pub struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

impl Conn {
    /// An async handle on a fresh SQLite file named after `name`, with a
    /// sync twin for setup.
    pub fn async_sqlite(name: &str) -> Conn {
        let dir = std::env::temp_dir().join(format!("loader-conn-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("test.db");
        let _ = std::fs::remove_file(&path);
        let setup = Db::open(&path).unwrap();
        setup
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;")
            .unwrap();
        let runtime = runtime();
        let db = runtime
            .block_on(AsyncDb::connect(path.to_str().unwrap()))
            .unwrap();
        Conn::Async {
            db,
            runtime,
            setup,
            _file: Some(TempFile(dir)),
        }
    }

    /// An async handle on a fresh PostgreSQL schema `schema`, with a sync
    /// twin for setup; `None` when PostgreSQL is not enabled.
    pub fn async_postgres(schema: &str) -> Option<Conn> {
        let setup = super::backend::postgres_schema(schema)?;
        let db = super::backend::async_db(super::backend::async_config(schema));
        Some(Conn::Async {
            db,
            runtime: runtime(),
            setup,
            _file: None,
        })
    }
}

/// Every backend on both APIs: sync SQLite in memory and sync PostgreSQL
/// (when enabled) as [`super::backend::databases`], then async handles on
/// a SQLite file and on a PostgreSQL schema of their own (so that a test's
/// writes on one API do not meet its writes on the other). `fill`
/// prepares each through its sync connection.
pub fn conns(fill: impl Fn(&Db)) -> Vec<Conn> {
    let mut conns: Vec<Conn> = super::backend::databases()
        .into_iter()
        .map(Conn::Sync)
        .collect();
    let schema = super::backend::current_schema();
    conns.push(Conn::async_sqlite(&schema));
    conns.extend(Conn::async_postgres(&format!("{schema}_a")));
    for conn in &conns {
        fill(conn.sync());
    }
    conns
}

/// The blog of [`super::blog`] on every backend and both APIs.
pub fn blog_conns(users: i64, posts_per_user: i64, comments_per_post: i64) -> Vec<Conn> {
    conns(|db| super::fill_blog(db, users, posts_per_user, comments_per_post))
}
