//! A pool of [`Db`]s with r2d2 (cargo feature `r2d2`).
//!
//! ```
//! use loader_runtime::pool::DbManager;
//! use loader_runtime::{Db, Entity};
//!
//! #[derive(Entity)]
//! #[entity(table = "users")]
//! struct User { id: i64, name: String }
//!
//! let dir = std::env::temp_dir().join(format!("loader-pool-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let manager = DbManager::file(dir.join("app.db"))
//!     .with_init(|conn| conn.execute_batch("PRAGMA journal_mode = WAL;"));
//! let pool = r2d2::Pool::builder().max_size(4).build(manager).unwrap();
//!
//! let db = pool.get().unwrap(); // derefs to `Db`
//! db.execute_batch("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")?;
//! assert!(User::all(&db)?.is_empty());
//! # drop(db); drop(pool); std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), loader_runtime::Error>(())
//! ```

use std::path::{Path, PathBuf};

use rusqlite::Connection;

use crate::db::Db;
use crate::error::Error;

type Init = Box<dyn Fn(&Connection) -> rusqlite::Result<()> + Send + Sync>;

/// Opens the [`Db`]s of an [`r2d2::Pool`]: each on its own connection to
/// one SQLite database file, or (cargo feature `postgres`) to one
/// PostgreSQL database.
///
/// A pooled `Db` keeps its query count and log across checkouts; call
/// [`Db::reset_query_log`](crate::Monitor::reset_query_log) at the start of a request to count per request.
pub struct DbManager {
    target: Target,
    init: Option<Init>,
    setup: Option<String>,
}

enum Target {
    File(PathBuf),
    /// The configuration, and whether statements are prepared.
    #[cfg(feature = "postgres")]
    Postgres(Box<tokio_postgres::Config>, bool),
}

impl DbManager {
    /// Connections to the SQLite database file at `path` (created if missing).
    pub fn file(path: impl AsRef<Path>) -> Self {
        DbManager {
            target: Target::File(path.as_ref().to_owned()),
            init: None,
            setup: None,
        }
    }

    /// Connections to the PostgreSQL database `url` names
    /// (`postgres://user@host/database`, without TLS), or an error if the
    /// URL does not parse.
    ///
    /// ```no_run
    /// use loader_runtime::pool::DbManager;
    ///
    /// let manager = DbManager::postgres("postgres://postgres@127.0.0.1/test")?
    ///     .with_setup("SET search_path TO app");
    /// let pool = r2d2::Pool::builder().max_size(8).build(manager).unwrap();
    /// let db = pool.get().unwrap();
    /// # Ok::<(), loader_runtime::Error>(())
    /// ```
    ///
    /// `prepared_statements=false` in the URL opens them
    /// [without prepared statements](Db::without_prepared_statements).
    #[cfg(feature = "postgres")]
    pub fn postgres(url: &str) -> Result<Self, Error> {
        let (url, prepared) = crate::backend::postgres::take_prepared_option(url);
        let mut manager = DbManager::postgres_config(url.parse()?);
        if let Target::Postgres(_, prepare) = &mut manager.target {
            *prepare = prepared;
        }
        Ok(manager)
    }

    /// Connections made with a `tokio_postgres::Config` built in code
    /// (without TLS).
    #[cfg(feature = "postgres")]
    pub fn postgres_config(config: tokio_postgres::Config) -> Self {
        DbManager {
            target: Target::Postgres(Box::new(config), true),
            init: None,
            setup: None,
        }
    }

    /// Runs `init` on each new SQLite connection, e.g. to set pragmas.
    pub fn with_init(
        mut self,
        init: impl Fn(&Connection) -> rusqlite::Result<()> + Send + Sync + 'static,
    ) -> Self {
        self.init = Some(Box::new(init));
        self
    }

    /// Runs the statements `sql` on each new connection, on either backend
    /// (e.g. `SET search_path TO app` or `PRAGMA foreign_keys = ON`).
    pub fn with_setup(mut self, sql: impl Into<String>) -> Self {
        self.setup = Some(sql.into());
        self
    }
}

impl std::fmt::Debug for DbManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut debug = f.debug_struct("DbManager");
        match &self.target {
            Target::File(path) => debug.field("path", path),
            #[cfg(feature = "postgres")]
            Target::Postgres(config, _) => debug.field("postgres", &config.get_dbname()),
        };
        debug.finish_non_exhaustive()
    }
}

impl r2d2::ManageConnection for DbManager {
    type Connection = Db;
    type Error = Error;

    fn connect(&self) -> Result<Db, Error> {
        let db = match &self.target {
            Target::File(path) => {
                let conn = Connection::open(path)?;
                if let Some(init) = &self.init {
                    init(&conn)?;
                }
                Db::from_connection(conn)?
            }
            #[cfg(feature = "postgres")]
            Target::Postgres(config, prepare) => {
                let db = Db::connect_postgres(config, tokio_postgres::NoTls)?;
                if *prepare {
                    db
                } else {
                    db.without_prepared_statements()
                }
            }
        };
        if let Some(setup) = &self.setup {
            db.execute_batch(setup)?;
        }
        Ok(db)
    }

    fn is_valid(&self, db: &mut Db) -> Result<(), Error> {
        db.ping()
    }

    fn has_broken(&self, db: &mut Db) -> bool {
        db.is_closed()
    }
}

/// A pooled `Db` runs queries like the `Db` it derefs to:
/// `User::all(&pool.get()?)`.
impl crate::executor::Executor for &r2d2::PooledConnection<DbManager> {
    type Output<T: Send + 'static> = crate::error::Result<T>;

    fn run<J: crate::engine::Job>(self, job: J) -> crate::error::Result<J::Output> {
        (**self).run_job(job)
    }
}
