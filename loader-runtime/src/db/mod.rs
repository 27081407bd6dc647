//! The synchronous connection: the `Db` and its backends here; running jobs
//! in `run`, transactions in `transaction`.

mod run;
mod transaction;

use std::path::Path;
use std::sync::Arc;

use rusqlite::Connection;

#[cfg(not(feature = "postgres"))]
use crate::error::Error;
use crate::error::Result;
use crate::monitor::Monitor;
use crate::sql::Backend;

/// How many prepared statements the connection keeps for reuse.
const STATEMENT_CACHE_CAPACITY: usize = 128;

/// A database connection, SQLite or PostgreSQL, that counts, logs and
/// caches every statement the library runs.
///
/// Lazy accessors, `all`, `find` and preloads all take a `&Db`. Each
/// statement they run adds one to [`query_count`](Monitor::query_count) and one
/// [`QueryRecord`](crate::QueryRecord) to the [`query_log`](Monitor::query_log), and is prepared once
/// per connection where that is safe. Transaction control around a
/// preload (`BEGIN`/`COMMIT`) is not counted: it reads no rows.
///
/// ```
/// use loader_runtime::Db;
///
/// let db = Db::open_in_memory()?;
/// db.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY)")?;
/// assert_eq!(db.query_count(), 0); // schema changes are not the library's queries
/// # Ok::<(), loader_runtime::Error>(())
/// ```
///
/// The same entities and preloads run on PostgreSQL (cargo feature
/// `postgres`): open the `Db` with [`Db::connect`] and a `postgres://` URL
/// instead, or with `Db::connect_postgres` and a configuration built in
/// code (TLS).
///
/// A `Db` is `Send` but not `Sync`, like the connection it wraps: use one per
/// thread, or a pool of them. It dereferences to its [`Monitor`], whose
/// methods (`query_count`, `query_log`, `set_n_plus_one`, ...) read and
/// steer what it watches.
///
/// It is synchronous: on a thread that runs an async runtime (inside a
/// `#[tokio::main]` or a spawned task) its PostgreSQL statements are an
/// `Err` saying so; use `AsyncDb` there.
pub struct Db {
    conn: Conn,
    monitor: Arc<Monitor>,
}

enum Conn {
    Sqlite(Connection),
    #[cfg(feature = "postgres")]
    Postgres(Box<crate::backend::postgres::PgConn>),
}

impl Db {
    /// Opens (or creates) the SQLite database file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Db> {
        Db::from_connection(Connection::open(path)?)
    }

    /// Opens a new, private in-memory SQLite database.
    pub fn open_in_memory() -> Result<Db> {
        Db::from_connection(Connection::open_in_memory()?)
    }

    /// Opens the database `url` names, so that one program can run on
    /// either backend by changing a string (e.g. an environment variable):
    ///
    /// * `postgres://user@host:port/database` or `postgresql://...` (or a
    ///   `host=... dbname=...` key-value string): PostgreSQL, without TLS;
    ///   needs the cargo feature `postgres`. For TLS, use
    ///   `Db::connect_postgres`.
    /// * `sqlite::memory:` or `:memory:`: a private in-memory SQLite database;
    /// * `sqlite://path`, `sqlite:path` or a plain path: a SQLite file,
    ///   created if missing (a path that looks like `host=...` needs the
    ///   `sqlite:` prefix).
    ///
    /// ```
    /// use loader_runtime::{Backend, Db};
    ///
    /// let db = Db::connect("sqlite::memory:")?;
    /// assert_eq!(db.backend(), Backend::Sqlite);
    /// # Ok::<(), loader_runtime::Error>(())
    /// ```
    pub fn connect(url: &str) -> Result<Db> {
        if Db::is_postgres_url(url) {
            return Db::connect_postgres_url(url);
        }
        match url {
            ":memory:" | "sqlite::memory:" | "sqlite://:memory:" => Db::open_in_memory(),
            _ => {
                let path = url
                    .strip_prefix("sqlite://")
                    .or_else(|| url.strip_prefix("sqlite:"))
                    .unwrap_or(url);
                Db::open(path)
            }
        }
    }

    /// Whether `url` names a PostgreSQL database: a `postgres://` URL, or
    /// libpq's key-value form (`key=value` pairs, one of them naming the
    /// host or the database; `sqlite:` disambiguates an odd path).
    pub(crate) fn is_postgres_url(url: &str) -> bool {
        let key_value = url.split_whitespace().all(|pair| pair.contains('='))
            && url
                .split_whitespace()
                .any(|pair| pair.starts_with("host=") || pair.starts_with("dbname="));
        url.starts_with("postgres://") || url.starts_with("postgresql://") || key_value
    }

    #[cfg(feature = "postgres")]
    fn connect_postgres_url(url: &str) -> Result<Db> {
        let (url, prepared) = crate::backend::postgres::take_prepared_option(url);
        let config: tokio_postgres::Config = url.parse()?;
        let db = Db::connect_postgres(&config, tokio_postgres::NoTls)?;
        Ok(if prepared {
            db
        } else {
            db.without_prepared_statements()
        })
    }

    /// Runs every statement unnamed, never preparing one (PostgreSQL; no
    /// effect on SQLite): what a connection pooler in transaction mode,
    /// such as PgBouncer before 1.21, needs, since it may send each
    /// transaction to another server connection. Values then travel in
    /// text format for the server to type, as literals would; each
    /// statement is planned for each run. Also `prepared_statements=false`
    /// in the URL given to [`Db::connect`].
    pub fn without_prepared_statements(self) -> Db {
        #[cfg(feature = "postgres")]
        if let Conn::Postgres(conn) = &self.conn {
            conn.without_prepared_statements();
        }
        self
    }

    #[cfg(not(feature = "postgres"))]
    fn connect_postgres_url(_url: &str) -> Result<Db> {
        Err(Error::Database(
            "this is a PostgreSQL URL, but loader-runtime was built without its `postgres` feature: add `features = [\"postgres\"]` to the dependency".into(),
        ))
    }

    /// Connects to PostgreSQL with a configuration built in code and a TLS
    /// connector (cargo feature `postgres`): `tokio_postgres::NoTls` for
    /// none, or one of the TLS crates made for tokio-postgres
    /// (`postgres-native-tls`, `tokio-postgres-rustls`). [`Db::connect`]
    /// with a URL does the same without TLS.
    ///
    /// ```no_run
    /// use loader_runtime::{Db, tokio_postgres};
    ///
    /// let mut config = tokio_postgres::Config::new();
    /// config.host("127.0.0.1").user("postgres").dbname("test");
    /// let db = Db::connect_postgres(&config, tokio_postgres::NoTls)?;
    /// # Ok::<(), loader_runtime::Error>(())
    /// ```
    ///
    /// The `Db` drives its connection on a runtime of its own (one thread:
    /// the caller's, while it waits), so it sends a preload's statements
    /// pipelined as [`AsyncDb`](crate::AsyncDb) does. A preload outside a
    /// transaction reads one snapshot of its own, `BEGIN` and `COMMIT`
    /// travelling with its first and last statements. Inside a transaction
    /// begun with [`Db::transaction`], or with your own `BEGIN` (through
    /// [`Db::execute_batch`] or `Db::postgres`), it reads in that one: after
    /// SQL of yours, the library asks the server once whether a transaction
    /// is open (`SELECT now() = statement_timestamp()`), one round trip.
    #[cfg(feature = "postgres")]
    pub fn connect_postgres<T>(config: &tokio_postgres::Config, tls: T) -> Result<Db>
    where
        T: tokio_postgres::tls::MakeTlsConnect<tokio_postgres::Socket> + 'static + Send,
        T::TlsConnect: Send,
        T::Stream: Send,
        <T::TlsConnect as tokio_postgres::tls::TlsConnect<tokio_postgres::Socket>>::Future: Send,
    {
        let conn = crate::backend::postgres::PgConn::connect(config, tls)?;
        Ok(Db::new(Conn::Postgres(Box::new(conn))))
    }

    /// Checks that the connection answers (`SELECT 1`), as the library's own
    /// statement: unlike [`Db::execute_batch`], it does not make the library
    /// suspect an open transaction of the user's.
    #[cfg(feature = "r2d2")]
    pub(crate) fn ping(&self) -> Result<()> {
        match &self.conn {
            Conn::Sqlite(conn) => Ok(conn.execute_batch("SELECT 1")?),
            #[cfg(feature = "postgres")]
            Conn::Postgres(conn) => conn.batch_execute("SELECT 1"),
        }
    }

    /// Wraps an existing SQLite connection.
    ///
    /// Registers the `rarray` table-valued function that preloads use to
    /// bind a whole key set as one parameter.
    pub fn from_connection(conn: Connection) -> Result<Db> {
        rusqlite::vtab::array::load_module(&conn)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
        Ok(Db::new(Conn::Sqlite(conn)))
    }

    fn new(conn: Conn) -> Db {
        Db {
            conn,
            monitor: Arc::default(),
        }
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        match &self.conn {
            Conn::Sqlite(_) => Backend::Sqlite,
            #[cfg(feature = "postgres")]
            Conn::Postgres(_) => Backend::Postgres,
        }
    }

    /// Runs one or more statements separated by `;` (schema changes,
    /// writes), on either backend. They are not counted or logged, and take
    /// no parameters: bind values through the driver's own API
    /// ([`Db::sqlite`], `Db::postgres`) instead.
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match &self.conn {
            Conn::Sqlite(conn) => Ok(conn.execute_batch(sql)?),
            #[cfg(feature = "postgres")]
            Conn::Postgres(conn) => conn.raw_batch_execute(sql),
        }
    }

    /// The SQLite connection, for raw SQL, pragmas and `rusqlite` APIs;
    /// `None` on PostgreSQL. Statements run on it directly are not counted
    /// or logged.
    pub fn sqlite(&self) -> Option<&Connection> {
        match &self.conn {
            Conn::Sqlite(conn) => Some(conn),
            #[cfg(feature = "postgres")]
            Conn::Postgres(_) => None,
        }
    }

    /// The SQLite connection, mutably; `None` on PostgreSQL.
    pub fn sqlite_mut(&mut self) -> Option<&mut Connection> {
        match &mut self.conn {
            Conn::Sqlite(conn) => Some(conn),
            #[cfg(feature = "postgres")]
            Conn::Postgres(_) => None,
        }
    }

    /// The PostgreSQL connection, for raw SQL with bound values (cargo
    /// feature `postgres`); `None` on SQLite. Statements run on it directly
    /// are not counted or logged; see [`PgClient`](crate::PgClient).
    #[cfg(feature = "postgres")]
    pub fn postgres(&self) -> Option<crate::PgClient<'_>> {
        match &self.conn {
            Conn::Sqlite(_) => None,
            Conn::Postgres(conn) => Some(crate::PgClient::new(conn)),
        }
    }

    /// Whether the connection is known to be gone (a PostgreSQL client
    /// whose connection closed); a SQLite connection never is.
    pub fn is_closed(&self) -> bool {
        match &self.conn {
            Conn::Sqlite(_) => false,
            #[cfg(feature = "postgres")]
            Conn::Postgres(conn) => conn.is_closed(),
        }
    }
}

impl std::ops::Deref for Db {
    type Target = Monitor;
    fn deref(&self) -> &Monitor {
        &self.monitor
    }
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut debug = f.debug_struct("Db");
        debug.field("backend", &self.backend());
        if let Some(conn) = self.sqlite() {
            debug.field("path", &conn.path());
        }
        debug
            .field("query_count", &self.query_count())
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(feature = "postgres")))]
mod tests {
    use super::Db;

    /// Without the feature, a PostgreSQL URL says which feature to add.
    #[test]
    fn postgres_url_without_the_feature() {
        let error = Db::connect("postgres://postgres@127.0.0.1/test").unwrap_err();
        assert!(
            error.to_string().contains("features = [\"postgres\"]"),
            "{error}"
        );
    }
}
