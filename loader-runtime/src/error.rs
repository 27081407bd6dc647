//! The error type of every fallible operation.

use std::borrow::Cow;

use crate::row::BoxError;

/// What went wrong while running a query or turning its rows into entities.
///
/// Every variant names the entity and the SQL that was running, so a log line
/// is enough to find the cause. Nothing in this crate panics on bad data: a
/// `NULL` in a non-`Option` field, a text value in an integer field or a
/// missing table all come back as an `Err`.
///
/// ```
/// use loader_runtime::{Db, Entity, Error};
///
/// #[derive(Entity, Debug)]
/// #[entity(table = "users")]
/// struct User { id: i64, name: String }
///
/// let db = Db::open_in_memory()?;
/// db.execute_batch("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
///                                 INSERT INTO users VALUES (1, NULL);")?;
/// match User::all(&db) {
///     Err(Error::Decode { entity, column, key, .. }) => {
///         assert_eq!((entity, column, key.as_deref()), ("User", "name", Some("1")));
///     }
///     other => panic!("expected a decode error, got {other:?}"),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A column's value could not be read into its field: `NULL` in a
    /// non-`Option` field, a value of another type, an integer out of range.
    #[error("cannot read column `{column}` of `{entity}`{}: {source}; SQL: {sql}", key_suffix(.key))]
    Decode {
        /// The entity (Rust struct) being decoded.
        entity: &'static str,
        /// The column that could not be read.
        column: &'static str,
        /// The primary key of the offending row, when it could be read.
        key: Option<String>,
        /// The statement that produced the row.
        sql: Cow<'static, str>,
        /// What the driver or the type conversion reported.
        #[source]
        source: BoxError,
    },
    /// A statement failed to prepare or run: a missing table or column, a
    /// locked database, a syntax error in user-supplied SQL.
    #[error("query for `{entity}` failed: {source}; SQL: {sql}")]
    Query {
        /// The entity the statement loads.
        entity: &'static str,
        /// The statement.
        sql: Cow<'static, str>,
        /// What the database reported.
        #[source]
        source: BoxError,
    },
    /// A non-nullable `belongs_to` foreign key points at a row that does not
    /// exist (a dangling reference in the data).
    #[error(
        "`{entity}` relation `{relation}`: foreign key {key} refers to no `{target}` row; SQL: {sql}"
    )]
    MissingRelated {
        /// The entity holding the foreign key.
        entity: &'static str,
        /// The relation being loaded.
        relation: &'static str,
        /// The entity the key should refer to.
        target: &'static str,
        /// The dangling key value.
        key: String,
        /// The statement that looked for the target.
        sql: Cow<'static, str>,
    },
    /// A statement was about to run inside [`Db::forbid_queries`](crate::Monitor::forbid_queries).
    #[error("query for `{entity}` forbidden here (inside `Db::forbid_queries`); SQL: {sql}")]
    QueryForbidden {
        /// The entity the statement would have loaded.
        entity: &'static str,
        /// The statement.
        sql: Cow<'static, str>,
    },
    /// A lazy loader ran more times in one scope than
    /// [`NPlusOne::Strict`](crate::NPlusOne::Strict) allows.
    #[error(
        "N+1 queries: `{relation}` of `{entity}` was loaded lazily {count} times in this scope, last at {location}; {suggestion}"
    )]
    NPlusOne {
        /// The entity whose relation was loaded.
        entity: &'static str,
        /// The relation.
        relation: &'static str,
        /// How many lazy loads of it the scope has seen.
        count: usize,
        /// The source location of the lazy load that failed.
        location: String,
        /// The preload to write instead.
        suggestion: String,
    },
    /// The type column of a polymorphic relation names none of its targets
    /// (`#[polymorphic(...)]`).
    #[error(
        "`{entity}.{column}`{} holds `{value}`, which is not a target of relation `{relation}` (one of {expected})",
        key_suffix(.key)
    )]
    UnknownType {
        /// The entity holding the type column.
        entity: &'static str,
        /// The polymorphic relation.
        relation: &'static str,
        /// The type column.
        column: &'static str,
        /// The value it holds.
        value: String,
        /// The primary key of the offending row.
        key: Option<String>,
        /// The type values the relation knows, quoted and comma-separated.
        expected: String,
    },
    /// The one statement of a batch of loads failed (a dataloader's): every
    /// caller of the batch gets this, sharing the cause.
    #[error("a batched load failed: {0}")]
    Batched(std::sync::Arc<Error>),
    /// Opening a database, a schema change through
    /// [`Db::execute_batch`](crate::Db::execute_batch), or a transaction
    /// around a preload failed.
    #[error("database error: {0}")]
    Database(#[source] BoxError),
}

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Self {
        Error::Database(Box::new(error))
    }
}

#[cfg(feature = "postgres")]
impl From<tokio_postgres::Error> for Error {
    fn from(error: tokio_postgres::Error) -> Self {
        Error::Database(crate::backend::postgres::PgError::boxed(error))
    }
}

impl Error {
    /// Whether this is the failure of a kept PostgreSQL statement that went
    /// stale (its result's columns changed type since it was prepared):
    /// running the job again on freshly prepared statements recovers.
    #[cfg(feature = "postgres")]
    pub(crate) fn is_stale_statement(&self) -> bool {
        match self {
            Error::Query { source, .. } | Error::Database(source) => {
                crate::backend::postgres::PgError::is_stale(source)
            }
            _ => false,
        }
    }
}

fn key_suffix(key: &Option<String>) -> String {
    match key {
        Some(key) => format!(" (row with key {key})"),
        None => String::new(),
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
