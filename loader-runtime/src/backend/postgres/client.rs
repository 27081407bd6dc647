//! The synchronous `Db`'s PostgreSQL client, lent to the user for SQL of
//! their own (`Db::postgres`).

use tokio_postgres::types::ToSql;
use tokio_postgres::{Row, SimpleQueryMessage, ToStatement};

use super::{PgConn, PgError};
use crate::error::{Error, Result};

/// The PostgreSQL connection of a [`Db`](crate::Db), for SQL of your own
/// with bound values: [`Db::postgres`](crate::Db::postgres) lends it.
///
/// Its methods are those of the synchronous `postgres` crate's `Client`;
/// their errors are the library's [`Error::Database`], whose source is the
/// driver's `tokio_postgres::Error` (its `code()` says which SQLSTATE).
/// [`client`](PgClient::client) and
/// [`block_on`](PgClient::block_on) reach the rest of tokio-postgres's
/// [`Client`](tokio_postgres::Client) (copy, notifications, pipelining).
/// Statements run on it are not counted or logged. A transaction begun
/// here (`BEGIN`) is one the library's preloads then read in, and leave
/// open.
///
/// ```no_run
/// # use loader_runtime::Db;
/// let db = Db::connect("postgres://postgres@127.0.0.1/test")?;
/// let pg = db.postgres().expect("a PostgreSQL Db");
/// pg.execute("UPDATE users SET username = $1 WHERE id = $2", &[&"ada", &1_i64])?;
/// let row = pg.query_one("SELECT count(*) FROM users", &[])?;
/// let users: i64 = row.get(0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy)]
pub struct PgClient<'db> {
    conn: &'db PgConn,
}

impl std::fmt::Debug for PgClient<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgClient")
            .field("closed", &self.conn.is_closed())
            .finish_non_exhaustive()
    }
}

impl<'db> PgClient<'db> {
    pub(crate) fn new(conn: &'db PgConn) -> Self {
        PgClient { conn }
    }

    /// The tokio-postgres client, for what this handle does not wrap; wait
    /// for its futures with [`block_on`](PgClient::block_on).
    pub fn client(&self) -> &'db tokio_postgres::Client {
        self.conn.raw_client()
    }

    /// Waits for `future` (e.g. one of [`client`](PgClient::client)'s),
    /// driving the connection meanwhile; an `Err` on a thread that runs an
    /// async (tokio) runtime, where waiting would block it (as for every
    /// method of this handle).
    pub fn block_on<F: std::future::Future>(&self, future: F) -> Result<F::Output> {
        self.conn.block_on(future)
    }

    fn wait<T>(
        &self,
        future: impl std::future::Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T> {
        self.block_on(future)?
            .map_err(|error| Error::Database(PgError::boxed(error)))
    }

    /// Runs one or more statements separated by `;`, without parameters.
    pub fn batch_execute(&self, sql: &str) -> Result<()> {
        self.wait(self.client().batch_execute(sql))
    }

    /// Prepares a statement, to run many times with
    /// [`query`](PgClient::query) or [`execute`](PgClient::execute).
    pub fn prepare(&self, sql: &str) -> Result<tokio_postgres::Statement> {
        self.wait(self.client().prepare(sql))
    }

    /// Runs a statement with bound values; returns the number of rows it
    /// changed.
    pub fn execute<T: ?Sized + ToStatement>(
        &self,
        statement: &T,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64> {
        self.wait(self.client().execute(statement, params))
    }

    /// Runs a query with bound values; returns its rows.
    pub fn query<T: ?Sized + ToStatement>(
        &self,
        statement: &T,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>> {
        self.wait(self.client().query(statement, params))
    }

    /// Runs a query that returns exactly one row.
    pub fn query_one<T: ?Sized + ToStatement>(
        &self,
        statement: &T,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row> {
        self.wait(self.client().query_one(statement, params))
    }

    /// Runs a query that returns at most one row.
    pub fn query_opt<T: ?Sized + ToStatement>(
        &self,
        statement: &T,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>> {
        self.wait(self.client().query_opt(statement, params))
    }

    /// Runs statements in the simple query protocol; values come back as
    /// text.
    pub fn simple_query(&self, sql: &str) -> Result<Vec<SimpleQueryMessage>> {
        self.wait(self.client().simple_query(sql))
    }
}
