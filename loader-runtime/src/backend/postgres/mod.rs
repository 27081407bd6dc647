//! The PostgreSQL backend (cargo feature `postgres`), on the synchronous
//! `postgres` crate.
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
pub(crate) mod decode;

use std::cell::{Cell, RefCell, RefMut};
use std::collections::HashMap;

use postgres::Client;
use postgres::types::ToSql;

use crate::engine::Statement;
use crate::error::{Error, Result};
use crate::row::{BoxError, Row};

/// A `postgres::Error` whose message includes what the server or the
/// conversion said (the driver's own says only "db error" or "error
/// serializing parameter 0" and keeps the rest in its source).
#[derive(Debug)]
pub(crate) struct PgError {
    message: String,
    error: postgres::Error,
}

/// Whether `error` says that a kept statement went stale: its result's
/// columns changed type since it was prepared (`ALTER TABLE ... TYPE` while
/// the connection kept it). The statement must be prepared again.
pub(crate) fn is_stale_statement(error: &postgres::Error) -> bool {
    error.code() == Some(&postgres::error::SqlState::FEATURE_NOT_SUPPORTED)
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

    pub(crate) fn boxed(error: postgres::Error) -> BoxError {
        let mut message = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        use postgres::error::SqlState;
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

/// Feeds the rows of `statement` to its sink; returns how many there were.
pub(crate) fn feed(statement: &mut Statement, rows: &[postgres::Row]) -> Result<usize> {
    statement.sink.reserve(rows.len());
    for row in rows {
        statement.sink.row(&Row::postgres(row), &statement.sql)?;
    }
    Ok(rows.len())
}

/// `params`, each declared `unknown` for the server to type.
pub(crate) fn unknown_types<'a>(
    params: &'a [bind::TextParam<'a>],
) -> Vec<(&'a (dyn ToSql + Sync), postgres::types::Type)> {
    params
        .iter()
        .map(|param| (param as &(dyn ToSql + Sync), postgres::types::Type::UNKNOWN))
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

/// How many prepared statements a connection keeps.
const STATEMENT_CACHE_CAPACITY: usize = 256;

/// A PostgreSQL client with its statement cache and what the library knows
/// of its transaction.
pub(crate) struct PgConn {
    /// Always `Some` until dropped.
    client: RefCell<Option<Client>>,
    statements: RefCell<HashMap<String, postgres::Statement>>,
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
    /// Wraps `client`; `fresh` if the library just connected it (a client
    /// handed over by the user may be inside a transaction).
    pub(crate) fn new(client: Client, fresh: bool) -> Self {
        PgConn {
            client: RefCell::new(Some(client)),
            statements: RefCell::new(HashMap::new()),
            in_transaction: Cell::new(false),
            raw_used: Cell::new(!fresh),
            prepared: Cell::new(true),
        }
    }

    /// The client, for the user's own statements.
    pub(crate) fn raw_client(&self) -> Option<RefMut<'_, Client>> {
        self.raw_used.set(true);
        let client = self.client.try_borrow_mut().ok()?;
        RefMut::filter_map(client, Option::as_mut).ok()
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

    /// Forgets every kept statement (they went stale after a schema change).
    pub(crate) fn forget_statements(&self) {
        self.statements.borrow_mut().clear();
    }

    /// Whether the connection is known to be gone.
    pub(crate) fn is_closed(&self) -> bool {
        self.client
            .try_borrow()
            .is_ok_and(|client| client.as_ref().is_none_or(Client::is_closed))
    }

    /// Runs the user's own statements.
    pub(crate) fn raw_batch_execute(&self, sql: &str) -> Result<()> {
        self.raw_used.set(true);
        self.batch_execute(sql)
    }

    /// The client, unless the user holds it (`Db::postgres`), or this
    /// thread runs an async runtime (the `postgres` crate would panic).
    pub(crate) fn client(&self) -> Result<RefMut<'_, Client>> {
        crate::backend::refuse_inside_async_runtime()?;
        let client = self.client.try_borrow_mut().map_err(|_| {
            Error::Database(
                "the PostgreSQL client is borrowed (a `Db::postgres()` guard is still alive) while the library needs it"
                    .into(),
            )
        })?;
        RefMut::filter_map(client, Option::as_mut)
            .map_err(|_| Error::Database("the PostgreSQL client is closed".into()))
    }

    pub(crate) fn batch_execute(&self, sql: &str) -> Result<()> {
        self.client()?
            .batch_execute(sql)
            .map_err(|e| Error::Database(PgError::boxed(e)))
    }

    /// Begins a transaction unless one is open (the library's, or one the
    /// user began with their own SQL); returns whether it did.
    pub(crate) fn begin(&self, snapshot: bool) -> Result<bool> {
        if self.in_transaction.get() {
            return Ok(false);
        }
        if self.raw_used.get() {
            if self.in_users_transaction()? {
                return Ok(false);
            }
            self.raw_used.set(false);
        }
        self.batch_execute(if snapshot {
            "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
        } else {
            "BEGIN"
        })?;
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
            .client()?
            .simple_query("SELECT now() = statement_timestamp()")
            .map_err(|e| Error::Database(PgError::boxed(e)))?;
        let fresh = messages.iter().find_map(|message| match message {
            postgres::SimpleQueryMessage::Row(row) => row.get(0),
            _ => None,
        });
        Ok(fresh != Some("t"))
    }

    /// Ends the transaction the library began with `COMMIT` or `ROLLBACK`.
    pub(crate) fn end(&self, sql: &str) -> Result<()> {
        self.in_transaction.set(false);
        self.batch_execute(sql)
    }

    /// Runs one statement, feeding its sink; returns the number of rows.
    ///
    /// Every statement text is prepared once per connection. One that binds
    /// a large key set then runs as an unnamed statement with the parameter
    /// types learnt then (Parse, Bind and Execute in one round trip), so the
    /// server plans it for the keys it gets; the others run the kept
    /// statement. The rows are received whole first: streaming them
    /// (`query_raw`) costs a runtime entry per row, which measured 10–25%
    /// slower on 10,000–100,000 rows, for a saving of the undecoded rows'
    /// bytes.
    pub(crate) fn run(&self, statement: &mut Statement) -> Result<usize> {
        let mut client = self.client()?;
        if !self.prepared.get() {
            let params: Vec<bind::TextParam<'_>> = statement
                .params
                .iter()
                .map(|param| bind::TextParam(bind::PgParam::new(param)))
                .collect();
            let rows = client
                .query_typed(&statement.sql, &unknown_types(&params))
                .map_err(|e| statement.query_error(PgError::boxed(e)))?;
            drop(params);
            drop(client);
            return feed(statement, &rows);
        }
        let prepared = self
            .cached(&mut client, &statement.sql)
            .map_err(|e| statement.query_error(PgError::boxed(e)))?;
        let params: Vec<bind::PgParam<'_>> =
            statement.params.iter().map(bind::PgParam::new).collect();
        let rows = if statement.plans_per_run() {
            let typed: Vec<(&(dyn ToSql + Sync), postgres::types::Type)> = params
                .iter()
                .zip(prepared.params())
                .map(|(param, ty)| (param as &(dyn ToSql + Sync), ty.clone()))
                .collect();
            client.query_typed(&statement.sql, &typed)
        } else {
            let values: Vec<&(dyn ToSql + Sync)> = params
                .iter()
                .map(|param| param as &(dyn ToSql + Sync))
                .collect();
            client.query(&prepared, &values)
        }
        .map_err(|e| statement.query_error(PgError::boxed(e)))?;
        drop(params);
        drop(client);
        feed(statement, &rows)
    }

    /// Runs every statement unnamed, with its values in text format for
    /// the server to type (see [`bind::TextParam`]), never a prepared
    /// statement: what a pooler in transaction mode needs.
    pub(crate) fn without_prepared_statements(&self) {
        self.prepared.set(false);
        self.statements.borrow_mut().clear();
    }

    fn cached(
        &self,
        client: &mut Client,
        sql: &str,
    ) -> Result<postgres::Statement, postgres::Error> {
        let mut statements = self.statements.borrow_mut();
        if let Some(statement) = statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = client.prepare(sql)?;
        if statements.len() >= STATEMENT_CACHE_CAPACITY {
            statements.clear();
        }
        statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

impl Drop for PgConn {
    /// The `postgres` crate closes its connection by blocking on its own
    /// runtime, which panics on a thread that runs an async runtime (and
    /// aborts the process when it happens during unwinding): there, the
    /// client is closed on a thread of its own.
    fn drop(&mut self) {
        if tokio::runtime::Handle::try_current().is_ok() {
            let client = self.client.get_mut().take();
            let _ = std::thread::Builder::new()
                .name("loader-pg-close".into())
                .spawn(move || drop(client));
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
