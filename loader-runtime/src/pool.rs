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

/// Opens the [`Db`]s of an [`r2d2::Pool`], each on its own connection to
/// one SQLite database file.
///
/// A pooled `Db` keeps its query count and log across checkouts; call
/// [`Db::reset_query_log`] at the start of a request to count per request.
pub struct DbManager {
    path: PathBuf,
    init: Option<Init>,
}

impl DbManager {
    /// Connections to the database file at `path` (created if missing).
    pub fn file(path: impl AsRef<Path>) -> Self {
        DbManager {
            path: path.as_ref().to_owned(),
            init: None,
        }
    }

    /// Runs `init` on each new connection, e.g. to set pragmas.
    pub fn with_init(
        mut self,
        init: impl Fn(&Connection) -> rusqlite::Result<()> + Send + Sync + 'static,
    ) -> Self {
        self.init = Some(Box::new(init));
        self
    }
}

impl std::fmt::Debug for DbManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbManager")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl r2d2::ManageConnection for DbManager {
    type Connection = Db;
    type Error = Error;

    fn connect(&self) -> Result<Db, Error> {
        let conn = Connection::open(&self.path)?;
        if let Some(init) = &self.init {
            init(&conn)?;
        }
        Db::from_connection(conn)
    }

    fn is_valid(&self, db: &mut Db) -> Result<(), Error> {
        Ok(db.execute_batch("SELECT 1")?)
    }

    fn has_broken(&self, _: &mut Db) -> bool {
        false
    }
}
