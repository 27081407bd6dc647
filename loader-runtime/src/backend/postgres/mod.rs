//! The PostgreSQL backend (cargo feature `postgres`), on tokio-postgres,
//! for both the synchronous `Db` ([`PgConn`]) and `AsyncDb`: both send a
//! job's waves through [`wave`].
//!
//! Statements without a large array parameter (lazy loads, `find`,
//! whole-table reads, scoped roots, a page's keys) are prepared once and
//! kept, so a lazy load costs one round trip. Statements that bind more
//! than [`KEPT_PLAN_KEYS`](crate::engine::KEPT_PLAN_KEYS) keys run unnamed,
//! with the parameter types of their kept twin: a kept (named) statement
//! may switch to a generic plan after five runs, which for a large key
//! array can be a sequential scan plus a sort that spills to disk (see
//! PERFORMANCE.md in the project's shared notes); an unnamed one is always
//! planned for the keys it gets.

pub(crate) mod bind;
mod client;
pub(crate) mod decode;
pub(crate) mod wave;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;

use deadpool_postgres::ClientWrapper;
use tokio_postgres::Socket;
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres::types::ToSql;

pub use client::PgClient;

use crate::engine::Job;
use crate::error::{Error, Result};
use crate::monitor::Monitor;
use crate::row::BoxError;

/// A `tokio_postgres::Error` whose message includes what the server or the
/// conversion said (the driver's own says only "db error" or "error
/// serializing parameter 0" and keeps the rest in its source).
#[derive(Debug)]
pub(crate) struct PgError {
    message: String,
    error: tokio_postgres::Error,
}

/// Whether `error` says that a kept statement went stale: its result's
/// columns changed type since it was prepared (`ALTER TABLE ... TYPE` while
/// the connection kept it). The statement must be prepared again.
pub(crate) fn is_stale_statement(error: &tokio_postgres::Error) -> bool {
    error.code() == Some(&tokio_postgres::error::SqlState::FEATURE_NOT_SUPPORTED)
        && error.as_db_error().is_some_and(|db| {
            db.message()
                .contains("cached plan must not change result type")
        })
}

impl PgError {
    /// Whether `source` is a PostgreSQL error saying a kept statement went
    /// stale.
    pub(crate) fn is_stale(source: &BoxError) -> bool {
        source
            .downcast_ref::<PgError>()
            .is_some_and(|error| is_stale_statement(&error.error))
    }

    pub(crate) fn boxed(error: tokio_postgres::Error) -> BoxError {
        let mut message = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        use tokio_postgres::error::SqlState;
        if matches!(
            error.code(),
            Some(&SqlState::INVALID_SQL_STATEMENT_NAME | &SqlState::DUPLICATE_PSTATEMENT)
        ) {
            message.push_str(
                " (a connection pooler in transaction mode, such as PgBouncer before 1.21, does not keep prepared statements: add `prepared_statements=false` to the connection URL, or call `without_prepared_statements()` on the Db or AsyncDb)",
            );
        }
        Box::new(PgError { message, error })
    }
}

impl std::fmt::Display for PgError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PgError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// `params`, each declared `unknown` for the server to type.
pub(crate) fn unknown_types<'a>(
    params: &'a [bind::TextParam<'a>],
) -> Vec<(&'a (dyn ToSql + Sync), tokio_postgres::types::Type)> {
    params
        .iter()
        .map(|param| {
            (
                param as &(dyn ToSql + Sync),
                tokio_postgres::types::Type::UNKNOWN,
            )
        })
        .collect()
}

/// Takes a `prepared_statements=false` (or `off`, `0`; `true`, `on`, `1`)
/// out of a connection string, URL query or libpq key-value pair: the
/// library's own option, which the driver would reject. Returns the rest
/// and whether statements may be prepared.
pub(crate) fn take_prepared_option(url: &str) -> (String, bool) {
    let choice = |pair: &str| match pair.strip_prefix("prepared_statements=")? {
        "false" | "off" | "0" => Some(false),
        "true" | "on" | "1" => Some(true),
        _ => None,
    };
    let mut prepared = true;
    let mut keep = |pair: &&str| match choice(pair) {
        Some(choice) => {
            prepared = choice;
            false
        }
        None => true,
    };
    let rest = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        match url.split_once('?') {
            None => url.to_owned(),
            Some((base, query)) => {
                let pairs: Vec<&str> = query.split('&').filter(&mut keep).collect();
                if pairs.is_empty() {
                    base.to_owned()
                } else {
                    format!("{base}?{}", pairs.join("&"))
                }
            }
        }
    } else {
        url.split_whitespace()
            .filter(&mut keep)
            .collect::<Vec<_>>()
            .join(" ")
    };
    (rest, prepared)
}

/// A connection's I/O future, whatever its TLS stream.
type Driver = Pin<Box<dyn Future<Output = Result<(), tokio_postgres::Error>> + Send>>;

/// A PostgreSQL connection for the synchronous `Db`: a tokio-postgres
/// client whose connection is polled on a current-thread runtime of its
/// own, driven only while the `Db` waits for a reply (as the `postgres`
/// crate does), so a preload's waves go out pipelined, through the same
/// [`wave`] runner as `AsyncDb`'s. It keeps what the library knows of its
/// transaction.
pub(crate) struct PgConn {
    /// Always `Some` until dropped.
    runtime: Option<tokio::runtime::Runtime>,
    /// The connection's I/O, polled beside each future the `Db` waits for
    /// (not a task of the runtime's: a task would cost a wake-up and a
    /// switch per message); `None` once it ended.
    connection: RefCell<Option<Driver>>,
    /// The client, with its cache of prepared statements.
    client: ClientWrapper,
    /// A transaction the library began is open.
    in_transaction: Cell<bool>,
    /// Whether statements are prepared (and kept) before they run.
    prepared: Cell<bool>,
    /// The user has sent SQL of their own (`Db::execute_batch`,
    /// `Db::postgres`) since the library last knew the connection idle: it
    /// may have begun a transaction the library must join, not end.
    raw_used: Cell<bool>,
}

impl PgConn {
    /// Connects with `config` and `tls`, on a runtime of the connection's
    /// own.
    pub(crate) fn connect<T>(config: &tokio_postgres::Config, tls: T) -> Result<Self>
    where
        T: MakeTlsConnect<Socket> + 'static + Send,
        T::TlsConnect: Send,
        T::Stream: Send,
        <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
    {
        crate::backend::refuse_inside_async_runtime()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Database(Box::new(e)))?;
        let (client, connection) = runtime
            .block_on(config.connect(tls))
            .map_err(|e| Error::Database(PgError::boxed(e)))?;
        // The wrapper aborts its connection's task when dropped; here the
        // connection is polled in place, so the task is an empty one.
        let task = runtime.spawn(async {});
        Ok(PgConn {
            runtime: Some(runtime),
            connection: RefCell::new(Some(Box::pin(connection))),
            client: ClientWrapper::new(client, task),
            in_transaction: Cell::new(false),
            raw_used: Cell::new(false),
            prepared: Cell::new(true),
        })
    }

    /// Waits for `future`, driving the connection meanwhile; an `Err` on a
    /// thread that runs an async runtime, where waiting would block it.
    ///
    /// The connection is polled first, then `future`, on each wake-up:
    /// both wake the same waker, so a request `future` queues is written
    /// on the next turn. 10,000 lazy loads over loopback took 78–79 µs
    /// each this way, 80–81 µs with the connection as a task of its own.
    pub(crate) fn block_on<F: Future>(&self, future: F) -> Result<F::Output> {
        crate::backend::refuse_inside_async_runtime()?;
        // Taken only by `drop`.
        let runtime = self.runtime.as_ref().unwrap_or_else(|| unreachable!());
        // Not reentrant: a nested call would have been refused above.
        let mut connection = self.connection.try_borrow_mut().map_err(|_| {
            Error::Database("the PostgreSQL connection is already waited for".into())
        })?;
        let mut future = std::pin::pin!(future);
        Ok(runtime.block_on(std::future::poll_fn(|cx| {
            if let Some(driver) = connection.as_mut()
                && driver.as_mut().poll(cx).is_ready()
            {
                // Closed (by the server, or an I/O error): the client's
                // statements now fail with "connection closed".
                *connection = None;
            }
            future.as_mut().poll(cx)
        })))
    }

    /// The client, for the user's own statements.
    pub(crate) fn raw_client(&self) -> &tokio_postgres::Client {
        self.raw_used.set(true);
        &self.client
    }

    /// Runs `job`: inside the caller's transaction if one is open, else in
    /// a snapshot of its own when it has several statements; each wave
    /// pipelined (see [`wave`]). Rows are decoded as they arrive, while the
    /// connection's runtime waits for them; the query log's hooks run
    /// outside it, so a hook may use another sync `Db`.
    pub(crate) fn run_job<J: Job>(&self, job: &mut J, monitor: &Monitor) -> Result<J::Output> {
        let inside = self.in_callers_transaction();
        let (result, idle) = self.run_once(job, monitor, inside);
        if wave::retry(&result, idle, inside, job) {
            self.client.statement_cache.clear();
            return self.run_once(job, monitor, inside).0;
        }
        result
    }

    /// One run of `job`; says whether the connection was left idle.
    fn run_once<J: Job>(
        &self,
        job: &mut J,
        monitor: &Monitor,
        inside: bool,
    ) -> (Result<J::Output>, bool) {
        let prepare = self.prepared.get();
        let mut waves = wave::Waves::new(job, monitor, inside);
        let result = loop {
            let mut next = match waves.next(monitor) {
                Ok(wave::Step::Send(wave)) => wave,
                Ok(wave::Step::Done(output)) => break Ok(output),
                Err(error) => break Err(error),
            };
            let replies = self
                .block_on(wave::send(&self.client, &mut next, prepare))
                .and_then(|replies| replies);
            match wave::receive(monitor, next, replies) {
                Ok(sinks) => waves.receive(sinks),
                Err(error) => break Err(error),
            }
        };
        if waves.open() && self.batch_execute("ROLLBACK").is_err() {
            return (result, false);
        }
        (result, true)
    }

    /// Whether a transaction of the caller's is open (one begun with
    /// `Db::transaction`, or with SQL of the caller's: then the server is
    /// asked, one round trip, and an unanswered question counts as yes).
    pub(crate) fn in_callers_transaction(&self) -> bool {
        if self.in_transaction.get() {
            return true;
        }
        if !self.raw_used.get() {
            return false;
        }
        match self.in_users_transaction() {
            Ok(false) => {
                self.raw_used.set(false);
                false
            }
            _ => true,
        }
    }

    /// Whether the connection is known to be gone.
    pub(crate) fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// Runs the user's own statements.
    pub(crate) fn raw_batch_execute(&self, sql: &str) -> Result<()> {
        self.raw_used.set(true);
        self.batch_execute(sql)
    }

    pub(crate) fn batch_execute(&self, sql: &str) -> Result<()> {
        self.block_on(self.client.batch_execute(sql))?
            .map_err(|e| Error::Database(PgError::boxed(e)))
    }

    /// Begins a transaction unless one is open (the library's, or one the
    /// user began with their own SQL); returns whether it did.
    pub(crate) fn begin(&self) -> Result<bool> {
        if self.in_transaction.get() {
            return Ok(false);
        }
        if self.raw_used.get() {
            if self.in_users_transaction()? {
                return Ok(false);
            }
            self.raw_used.set(false);
        }
        self.batch_execute("BEGIN")?;
        self.in_transaction.set(true);
        Ok(true)
    }

    /// Whether the session is inside a transaction begun by an earlier
    /// message: outside one, each statement is its own transaction, which
    /// starts when the statement does. (A `BEGIN ISOLATION LEVEL ...` sent
    /// blindly would instead fail inside a transaction that has run a query,
    /// and abort it.)
    fn in_users_transaction(&self) -> Result<bool> {
        let messages = self
            .block_on(
                self.client
                    .simple_query("SELECT now() = statement_timestamp()"),
            )?
            .map_err(|e| Error::Database(PgError::boxed(e)))?;
        let fresh = messages.iter().find_map(|message| match message {
            tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0),
            _ => None,
        });
        Ok(fresh != Some("t"))
    }

    /// Ends the transaction the library began with `COMMIT` or `ROLLBACK`.
    pub(crate) fn end(&self, sql: &str) -> Result<()> {
        self.in_transaction.set(false);
        self.batch_execute(sql)
    }

    /// Runs every statement unnamed, with its values in text format for
    /// the server to type (see [`bind::TextParam`]), never a prepared
    /// statement: what a pooler in transaction mode needs.
    pub(crate) fn without_prepared_statements(&self) {
        self.prepared.set(false);
        self.client.statement_cache.clear();
    }
}

impl Drop for PgConn {
    /// Closes the socket with the runtime (the server ends an idle
    /// session on it, or rolls back an open transaction); on a thread that
    /// runs an async runtime, where a runtime may not be dropped, without
    /// waiting for its tasks.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take()
            && tokio::runtime::Handle::try_current().is_ok()
        {
            runtime.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::take_prepared_option;

    #[test]
    fn the_prepared_statements_option_is_taken_out() {
        let cases = [
            ("postgres://u@h/db", ("postgres://u@h/db", true)),
            (
                "postgres://u@h/db?prepared_statements=false",
                ("postgres://u@h/db", false),
            ),
            (
                "postgres://u@h/db?sslmode=disable&prepared_statements=off&application_name=x",
                (
                    "postgres://u@h/db?sslmode=disable&application_name=x",
                    false,
                ),
            ),
            (
                "postgresql://h/db?prepared_statements=true",
                ("postgresql://h/db", true),
            ),
            (
                "host=h dbname=db prepared_statements=0",
                ("host=h dbname=db", false),
            ),
        ];
        for (url, (rest, prepared)) in cases {
            assert_eq!(
                take_prepared_option(url),
                (rest.to_owned(), prepared),
                "{url}"
            );
        }
    }
}
