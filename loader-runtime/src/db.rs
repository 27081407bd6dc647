//! The connection wrapper every statement goes through.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::path::Path;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, Params, Row};

use crate::entity::Entity;
use crate::error::{Error, Result};

/// How many records [`Db::query_log`] keeps unless told otherwise.
pub const DEFAULT_LOG_CAPACITY: usize = 1024;

/// How many prepared statements the connection keeps for reuse.
const STATEMENT_CACHE_CAPACITY: usize = 128;

/// A SQLite connection that counts, logs and caches every statement the
/// library runs.
///
/// Lazy accessors, `all`, `find` and preloads all take a `&Db`. Each
/// statement they run adds one to [`query_count`](Db::query_count) and one
/// [`QueryRecord`] to the [`query_log`](Db::query_log), and is prepared once
/// per connection (rusqlite's statement cache). Transaction control around a
/// preload (`BEGIN`/`COMMIT`) is not counted: it reads no rows.
///
/// ```
/// use loader_runtime::Db;
///
/// let db = Db::open_in_memory()?;
/// db.connection().execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY)")?;
/// assert_eq!(db.query_count(), 0); // raw connection use is not the library's
/// # Ok::<(), loader_runtime::Error>(())
/// ```
///
/// A `Db` is `Send` but not `Sync`, like the connection it wraps: use one per
/// thread, or a pool of them.
pub struct Db {
    conn: Connection,
    log: RefCell<QueryLog>,
    echo: Cell<bool>,
    hook: RefCell<Option<QueryHook>>,
}

type QueryHook = Box<dyn FnMut(&QueryRecord) + Send>;

struct QueryLog {
    count: usize,
    capacity: usize,
    records: VecDeque<QueryRecord>,
}

/// One statement the library ran, as kept in [`Db::query_log`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueryRecord {
    /// The SQL text, with `?N` placeholders: values are never part of it.
    pub sql: Cow<'static, str>,
    /// How many values were bound: keys are counted one by one even when they
    /// travel as a single array parameter.
    pub bound_values: usize,
    /// How many rows the statement returned.
    pub rows: usize,
}

impl Db {
    /// Opens (or creates) the SQLite database file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Db> {
        Db::from_connection(Connection::open(path)?)
    }

    /// Opens a new, private in-memory database.
    pub fn open_in_memory() -> Result<Db> {
        Db::from_connection(Connection::open_in_memory()?)
    }

    /// Wraps an existing connection.
    ///
    /// Registers the `rarray` table-valued function that preloads use to
    /// bind a whole key set as one parameter.
    pub fn from_connection(conn: Connection) -> Result<Db> {
        rusqlite::vtab::array::load_module(&conn)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
        Ok(Db {
            conn,
            log: RefCell::new(QueryLog {
                count: 0,
                capacity: DEFAULT_LOG_CAPACITY,
                records: VecDeque::new(),
            }),
            echo: Cell::new(false),
            hook: RefCell::new(None),
        })
    }

    /// The wrapped connection, for schema changes, writes and raw SQL.
    /// Statements run on it directly are not counted or logged.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The wrapped connection, mutably (e.g. for `Connection::transaction`).
    pub fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Unwraps the connection.
    pub fn into_connection(self) -> Connection {
        self.conn
    }

    /// How many statements the library has run on this `Db` since it was
    /// opened or since [`reset_query_log`](Db::reset_query_log).
    pub fn query_count(&self) -> usize {
        self.log.borrow().count
    }

    /// The most recent statements, oldest first (at most
    /// [`set_log_capacity`](Db::set_log_capacity) of them, 1024 by default).
    pub fn query_log(&self) -> Vec<QueryRecord> {
        self.log.borrow().records.iter().cloned().collect()
    }

    /// Forgets the log and sets the query count back to zero.
    pub fn reset_query_log(&self) {
        let mut log = self.log.borrow_mut();
        log.count = 0;
        log.records.clear();
    }

    /// Keeps at most `capacity` records in the log (0 keeps none; the count
    /// goes on either way).
    pub fn set_log_capacity(&self, capacity: usize) {
        let mut log = self.log.borrow_mut();
        log.capacity = capacity;
        while log.records.len() > capacity {
            log.records.pop_front();
        }
    }

    /// Prints each statement to standard error as it runs, like SQLAlchemy's
    /// `echo=True`.
    pub fn set_echo(&self, echo: bool) {
        self.echo.set(echo);
    }

    /// Calls `hook` after each statement the library runs, once its rows
    /// have been read, with the statement's record; replaces any earlier
    /// hook. The hook is `Send` so that the `Db` stays `Send`. Useful to assert on statements as they happen or to act
    /// between the statements of one preload.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use loader_runtime::{Db, Entity};
    ///
    /// #[derive(Entity)]
    /// struct Note { id: i64 }
    ///
    /// let db = Db::open_in_memory()?;
    /// db.connection().execute_batch("CREATE TABLE note (id INTEGER PRIMARY KEY)")?;
    /// let rows = Arc::new(AtomicUsize::new(usize::MAX));
    /// let seen = Arc::clone(&rows);
    /// db.set_query_hook(move |record| seen.store(record.rows, Ordering::Relaxed));
    /// Note::all(&db)?;
    /// assert_eq!(rows.load(Ordering::Relaxed), 0);
    /// # Ok::<(), loader_runtime::Error>(())
    /// ```
    pub fn set_query_hook(&self, hook: impl FnMut(&QueryRecord) + Send + 'static) {
        *self.hook.borrow_mut() = Some(Box::new(hook));
    }

    /// Removes the hook set with [`set_query_hook`](Db::set_query_hook).
    pub fn clear_query_hook(&self) {
        self.hook.borrow_mut().take();
    }

    /// Runs `sql` and decodes every row as an `E` (its columns starting at 0).
    pub(crate) fn fetch<E: Entity>(
        &self,
        sql: impl Into<Cow<'static, str>>,
        params: impl Params,
        bound_values: usize,
    ) -> Result<Vec<E>> {
        let mut out = Vec::new();
        self.fetch_with(E::META.name, sql, params, bound_values, |row, sql| {
            out.push(decode::<E>(row, 0, sql)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// Runs `sql` (a constant the derive emitted, or a statement assembled
    /// for a scope) and hands each row to `each`; logs the statement once
    /// it has been read to the end.
    pub(crate) fn fetch_with(
        &self,
        entity: &'static str,
        sql: impl Into<Cow<'static, str>>,
        params: impl Params,
        bound_values: usize,
        mut each: impl FnMut(&Row<'_>, &str) -> Result<()>,
    ) -> Result<usize> {
        let sql: Cow<'static, str> = sql.into();
        if self.echo.get() {
            eprintln!("[loader] {sql}");
        }
        let query_error = |source| Error::Query {
            entity,
            sql: sql.clone(),
            source: Box::new(source),
        };
        let mut stmt = self.conn.prepare_cached(&sql).map_err(query_error)?;
        let mut rows = stmt.query(params).map_err(query_error)?;
        let mut count = 0;
        let result = loop {
            match rows.next() {
                Ok(Some(row)) => {
                    count += 1;
                    if let Err(e) = each(row, &sql) {
                        break Err(e);
                    }
                }
                Ok(None) => break Ok(count),
                Err(source) => break Err(query_error(source)),
            }
        };
        drop(rows);
        drop(stmt);
        self.record(sql, bound_values, count);
        result
    }

    fn record(&self, sql: Cow<'static, str>, bound_values: usize, rows: usize) {
        let record = QueryRecord {
            sql,
            bound_values,
            rows,
        };
        {
            let mut log = self.log.borrow_mut();
            log.count += 1;
            if log.capacity > 0 {
                if log.records.len() == log.capacity {
                    log.records.pop_front();
                }
                log.records.push_back(record.clone());
            }
        }
        // Taken out while it runs, so a hook that uses this `Db` does not
        // find it borrowed.
        let hook = self.hook.borrow_mut().take();
        if let Some(mut hook) = hook {
            hook(&record);
            let mut slot = self.hook.borrow_mut();
            if slot.is_none() {
                *slot = Some(hook);
            }
        }
    }
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("path", &self.conn.path())
            .field("query_count", &self.query_count())
            .finish_non_exhaustive()
    }
}

/// Decodes an `E` from `row` starting at column `offset`, turning a failure
/// into an error that names the entity, the column and the row's key.
pub(crate) fn decode<E: Entity>(row: &Row<'_>, offset: usize, sql: &str) -> Result<E> {
    E::decode(row, offset).map_err(|source| {
        let meta = &E::META;
        let column = failed_column(&source)
            .and_then(|index| index.checked_sub(offset))
            .and_then(|index| meta.columns.get(index).copied())
            .unwrap_or("?");
        let key = display_key(row, offset, meta.primary_key);
        Error::Decode {
            entity: meta.name,
            column,
            key,
            sql: Cow::Owned(sql.to_owned()),
            source: Box::new(source),
        }
    })
}

/// The row's primary key as it would be written in SQL: `42`, `'ada'`, or
/// `(1, 2)` for a composite key.
fn display_key(row: &Row<'_>, offset: usize, columns: &[usize]) -> Option<String> {
    let values = columns
        .iter()
        .map(|&index| row.get_ref(offset + index).ok().map(display_value))
        .collect::<Option<Vec<String>>>()?;
    match values.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        many => Some(format!("({})", many.join(", "))),
    }
}

fn failed_column(error: &rusqlite::Error) -> Option<usize> {
    match error {
        rusqlite::Error::InvalidColumnType(index, ..)
        | rusqlite::Error::FromSqlConversionFailure(index, ..)
        | rusqlite::Error::IntegralValueOutOfRange(index, ..)
        | rusqlite::Error::InvalidColumnIndex(index) => Some(*index),
        _ => None,
    }
}

/// A value as it would be written in SQL, for error messages.
pub(crate) fn display_value(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Null => "NULL".to_owned(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(r) => r.to_string(),
        ValueRef::Text(t) => format!("'{}'", String::from_utf8_lossy(t).replace('\'', "''")),
        ValueRef::Blob(b) => format!("<blob of {} bytes>", b.len()),
    }
}
