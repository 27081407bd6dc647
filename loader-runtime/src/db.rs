//! The connection wrapper every statement goes through.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::panic::Location;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::types::ValueRef;
use rusqlite::{Connection, Params, Row};

use crate::diagnostics::{Diagnostics, NPlusOne, Usage, Verdict, suggestion};
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
    diagnostics: RefCell<Diagnostics>,
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
    /// How long the statement took, from preparing it to reading its last row.
    pub elapsed: Duration,
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
            diagnostics: RefCell::new(Diagnostics::default()),
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

    /// Forgets the log, sets the query count back to zero and starts a new
    /// scope for N+1 detection: call it at the start of each request or test.
    pub fn reset_query_log(&self) {
        let mut log = self.log.borrow_mut();
        log.count = 0;
        log.records.clear();
        self.diagnostics.borrow_mut().lazy_loads.clear();
    }

    /// Chooses what happens when one lazy loader runs many times in a scope
    /// (see [`NPlusOne`]; by default, a warning through `tracing`).
    ///
    /// ```
    /// use loader_runtime::{Db, Entity, Error, NPlusOne};
    ///
    /// #[derive(Entity)]
    /// #[entity(table = "users")]
    /// #[has_many(Post, fk = "author_id")]
    /// struct User { id: i64 }
    ///
    /// #[derive(Entity, Debug)]
    /// #[entity(table = "posts")]
    /// struct Post { id: i64, author_id: i64 }
    ///
    /// let db = Db::open_in_memory()?;
    /// db.connection().execute_batch(
    ///     "CREATE TABLE users (id INTEGER PRIMARY KEY);
    ///      CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL);
    ///      INSERT INTO users VALUES (1), (2), (3);",
    /// )?;
    /// db.set_n_plus_one(NPlusOne::Strict { threshold: 2 });
    /// let users = User::all(&db)?;
    /// users[0].load_posts(&db)?;
    /// users[1].load_posts(&db)?;
    /// let error = users[2].load_posts(&db).unwrap_err();
    /// assert!(matches!(error, Error::NPlusOne { relation: "posts", count: 3, .. }));
    /// assert!(error.to_string().contains(".preload(User::posts())"));
    /// # Ok::<(), loader_runtime::Error>(())
    /// ```
    pub fn set_n_plus_one(&self, mode: NPlusOne) {
        let mut diagnostics = self.diagnostics.borrow_mut();
        diagnostics.n_plus_one = mode;
        diagnostics.lazy_loads.clear();
    }

    /// When on, each preloaded relation whose values are all dropped without
    /// one accessor call is reported with a `WARN` event (target
    /// `loader::unused_preload`) naming the place the preload was written,
    /// like Bullet's "unused eager loading". Off by default: it costs an
    /// atomic flag per preloaded relation and a write per accessor call.
    pub fn set_unused_preload_detection(&self, on: bool) {
        self.diagnostics.borrow_mut().unused_preloads = on;
    }

    /// Runs `block` and panics, listing the statements it ran, unless it ran
    /// exactly `expected` of them (Django's `assertNumQueries`). For tests.
    ///
    /// ```
    /// # use loader_runtime::{Db, Entity};
    /// # #[derive(Entity)] #[entity(table = "users")] #[has_many(Post, fk = "author_id")] struct User { id: i64 }
    /// # #[derive(Entity)] #[entity(table = "posts")] struct Post { id: i64, author_id: i64 }
    /// # let db = Db::open_in_memory()?;
    /// # db.connection().execute_batch("CREATE TABLE users (id INTEGER PRIMARY KEY);
    /// #   CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL);
    /// #   INSERT INTO users VALUES (1), (2);")?;
    /// let users = db.assert_queries(2, || User::query().preload(User::posts()).all(&db))?;
    /// assert_eq!(users.len(), 2);
    /// # Ok::<(), loader_runtime::Error>(())
    /// ```
    #[track_caller]
    pub fn assert_queries<R>(&self, expected: usize, block: impl FnOnce() -> R) -> R {
        let before = self.query_count();
        let result = block();
        let ran = self.query_count() - before;
        if ran != expected {
            let log = self.log.borrow();
            let shown = ran.min(log.records.len());
            let statements: Vec<String> = log
                .records
                .iter()
                .skip(log.records.len() - shown)
                .enumerate()
                .map(|(index, record)| format!("  {}. {}", index + 1, record.sql))
                .collect();
            let missing = if shown < ran {
                format!("\n  ({} more not kept by the log)", ran - shown)
            } else {
                String::new()
            };
            panic!(
                "expected {expected} queries, {ran} ran:\n{}{missing}",
                statements.join("\n")
            );
        }
        result
    }

    /// Runs `block` with queries forbidden: any statement the library would
    /// run in it fails with [`Error::QueryForbidden`] instead (like
    /// django-zen-queries), so a template or serializer that should only
    /// read preloaded data cannot query by accident.
    pub fn forbid_queries<R>(&self, block: impl FnOnce() -> R) -> R {
        struct Allow<'a>(&'a RefCell<Diagnostics>);
        impl Drop for Allow<'_> {
            fn drop(&mut self) {
                self.0.borrow_mut().forbidden -= 1;
            }
        }
        self.diagnostics.borrow_mut().forbidden += 1;
        let _allow = Allow(&self.diagnostics);
        block()
    }

    /// Counts one lazy load for N+1 detection; warns or refuses per the mode.
    #[track_caller]
    pub(crate) fn lazy_load(&self, entity: &'static str, relation: &'static str) -> Result<()> {
        let verdict = self.diagnostics.borrow_mut().lazy_load(entity, relation);
        let location = Location::caller();
        match verdict {
            Verdict::Fine => Ok(()),
            Verdict::Warn { count } => {
                tracing::warn!(
                    target: "loader::n_plus_one",
                    entity,
                    relation,
                    count,
                    location = %location,
                    "N+1 queries: `{relation}` of `{entity}` was loaded lazily {count} times in this scope, last at {location}; {}",
                    suggestion(entity, relation),
                );
                Ok(())
            }
            Verdict::Refuse { count } => Err(Error::NPlusOne {
                entity,
                relation,
                count,
                location: location.to_string(),
                suggestion: suggestion(entity, relation),
            }),
        }
    }

    /// The usage tracker of one preloaded relation, when unused-preload
    /// detection is on.
    pub(crate) fn usage(
        &self,
        entity: &'static str,
        relation: &'static str,
        site: Option<&'static Location<'static>>,
    ) -> Option<Arc<Usage>> {
        self.diagnostics
            .borrow()
            .unused_preloads
            .then(|| Arc::new(Usage::new(entity, relation, site)))
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
        if self.diagnostics.borrow().forbidden > 0 {
            return Err(Error::QueryForbidden { entity, sql });
        }
        if self.echo.get() {
            eprintln!("[loader] {sql}");
        }
        let start = Instant::now();
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
        let elapsed = start.elapsed();
        tracing::debug!(
            target: "loader::query",
            entity,
            sql = %sql,
            bound_values,
            rows = count,
            elapsed_us = elapsed.as_micros() as u64,
            "query",
        );
        self.record(sql, bound_values, count, elapsed);
        result
    }

    fn record(&self, sql: Cow<'static, str>, bound_values: usize, rows: usize, elapsed: Duration) {
        let record = QueryRecord {
            sql,
            bound_values,
            rows,
            elapsed,
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
