//! The connection wrapper every statement goes through.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::panic::Location;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::diagnostics::{Diagnostics, NPlusOne, Usage, Verdict, suggestion};
use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::row::{BoxError, Row};
use crate::scope::{Param, bound_values};
use crate::sql::Backend;

/// How many records [`Db::query_log`] keeps unless told otherwise.
pub const DEFAULT_LOG_CAPACITY: usize = 1024;

/// How many prepared statements the connection keeps for reuse.
const STATEMENT_CACHE_CAPACITY: usize = 128;

/// A database connection, SQLite or PostgreSQL, that counts, logs and
/// caches every statement the library runs.
///
/// Lazy accessors, `all`, `find` and preloads all take a `&Db`. Each
/// statement they run adds one to [`query_count`](Db::query_count) and one
/// [`QueryRecord`] to the [`query_log`](Db::query_log), and is prepared once
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
/// instead, or wrap a `postgres::Client` with `Db::from_postgres_client`.
///
/// A `Db` is `Send` but not `Sync`, like the connection it wraps: use one per
/// thread, or a pool of them.
pub struct Db {
    conn: Conn,
    log: RefCell<QueryLog>,
    echo: Cell<bool>,
    hook: RefCell<Option<QueryHook>>,
    diagnostics: RefCell<Diagnostics>,
}

enum Conn {
    Sqlite(Connection),
    #[cfg(feature = "postgres")]
    Postgres(Box<crate::pg::PgConn>),
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
    /// The SQL text, with `?N` (SQLite) or `$N` (PostgreSQL) placeholders:
    /// values are never part of it.
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

    /// Opens a new, private in-memory SQLite database.
    pub fn open_in_memory() -> Result<Db> {
        Db::from_connection(Connection::open_in_memory()?)
    }

    /// Opens the database `url` names, so that one program can run on
    /// either backend by changing a string (e.g. an environment variable):
    ///
    /// * `postgres://user@host:port/database` or `postgresql://...` (or a
    ///   `host=... dbname=...` key-value string): PostgreSQL, without TLS;
    ///   needs the cargo feature `postgres`. For TLS, connect a
    ///   `postgres::Client` yourself and use `Db::from_postgres_client`.
    /// * `sqlite::memory:` or `:memory:`: a private in-memory SQLite database;
    /// * `sqlite://path`, `sqlite:path` or a plain path: a SQLite file,
    ///   created if missing.
    ///
    /// ```
    /// use loader_runtime::{Backend, Db};
    ///
    /// let db = Db::connect("sqlite::memory:")?;
    /// assert_eq!(db.backend(), Backend::Sqlite);
    /// # Ok::<(), loader_runtime::Error>(())
    /// ```
    pub fn connect(url: &str) -> Result<Db> {
        let is_postgres = url.starts_with("postgres://")
            || url.starts_with("postgresql://")
            || (url.contains('=') && url.contains("host"));
        if is_postgres {
            return Db::connect_postgres(url);
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

    #[cfg(feature = "postgres")]
    fn connect_postgres(url: &str) -> Result<Db> {
        let client = postgres::Client::connect(url, postgres::NoTls)?;
        Ok(Db::postgres_connected(client, true))
    }

    #[cfg(not(feature = "postgres"))]
    fn connect_postgres(_url: &str) -> Result<Db> {
        Err(Error::Database(
            "this is a PostgreSQL URL, but loader-runtime was built without its `postgres` feature: add `features = [\"postgres\"]` to the dependency".into(),
        ))
    }

    /// Wraps a connected PostgreSQL client (cargo feature `postgres`); use
    /// it to connect with TLS or with a `postgres::Config` built in code.
    ///
    /// A preload outside a transaction opens its own snapshot and ends it.
    /// Inside a transaction begun with [`Db::transaction`], or with your own
    /// `BEGIN` (through [`Db::execute_batch`] or `Db::postgres`, or before
    /// the client was handed over), it reads in that one: after SQL of
    /// yours, the library asks the server once whether a transaction is
    /// open (`SELECT now() = statement_timestamp()`), one round trip.
    #[cfg(feature = "postgres")]
    pub fn from_postgres_client(client: postgres::Client) -> Db {
        Db::postgres_connected(client, false)
    }

    /// Wraps `client`; `fresh` when the library connected it itself.
    #[cfg(feature = "postgres")]
    pub(crate) fn postgres_connected(client: postgres::Client, fresh: bool) -> Db {
        Db::new(Conn::Postgres(Box::new(crate::pg::PgConn::new(
            client, fresh,
        ))))
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
            log: RefCell::new(QueryLog {
                count: 0,
                capacity: DEFAULT_LOG_CAPACITY,
                records: VecDeque::new(),
            }),
            echo: Cell::new(false),
            hook: RefCell::new(None),
            diagnostics: RefCell::new(Diagnostics::default()),
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

    /// The PostgreSQL client, for raw SQL with bound values (cargo feature
    /// `postgres`); `None` on SQLite, or while the library is using it.
    /// Statements run on it directly are not counted or logged. Do not keep
    /// it borrowed while calling the library: its statements would fail
    /// with an error saying so.
    #[cfg(feature = "postgres")]
    pub fn postgres(&self) -> Option<std::cell::RefMut<'_, postgres::Client>> {
        match &self.conn {
            Conn::Sqlite(_) => None,
            Conn::Postgres(conn) => conn.raw_client(),
        }
    }

    /// Whether the connection is known to be gone (a PostgreSQL client
    /// whose connection closed); a SQLite connection never is.
    pub fn is_closed(&self) -> bool {
        match &self.conn {
            Conn::Sqlite(_) => false,
            #[cfg(feature = "postgres")]
            Conn::Postgres(conn) => conn.client().is_ok_and(|client| client.is_closed()),
        }
    }

    /// Runs `block` in a transaction: committed if it returns `Ok`, rolled
    /// back if it returns `Err` or panics. Inside a transaction already
    /// (nested calls, or a SQLite transaction begun on the connection), it
    /// runs `block` in that one. Preloads inside it read in it and see its
    /// writes.
    ///
    /// ```
    /// # use loader_runtime::{Db, Entity};
    /// # #[derive(Entity)] struct Note { id: i64 }
    /// let db = Db::open_in_memory()?;
    /// db.execute_batch("CREATE TABLE note (id INTEGER PRIMARY KEY)")?;
    /// let notes = db.transaction(|db| {
    ///     db.execute_batch("INSERT INTO note VALUES (1)")?;
    ///     Note::all(db)
    /// })?;
    /// assert_eq!(notes.len(), 1);
    /// # Ok::<(), loader_runtime::Error>(())
    /// ```
    pub fn transaction<R>(&self, block: impl FnOnce(&Db) -> Result<R>) -> Result<R> {
        let Some(transaction) = self.begin(false)? else {
            return block(self);
        };
        let result = block(self);
        if result.is_ok() {
            transaction.commit()?;
        }
        result
    }

    /// Begins a transaction unless one is open: a read-only snapshot
    /// (`REPEATABLE READ` on PostgreSQL) for a preload, or a read-write one.
    /// Dropping the returned guard without committing rolls back.
    pub(crate) fn begin(&self, snapshot: bool) -> Result<Option<Transaction<'_>>> {
        let begun = match &self.conn {
            Conn::Sqlite(conn) => {
                if conn.is_autocommit() {
                    conn.execute_batch("BEGIN")?;
                    true
                } else {
                    false
                }
            }
            #[cfg(feature = "postgres")]
            Conn::Postgres(conn) => conn.begin(snapshot)?,
        };
        let _ = snapshot;
        // Not `then_some`: a guard built and dropped would roll back.
        Ok(begun.then(|| Transaction {
            db: self,
            done: false,
        }))
    }

    fn end(&self, commit: bool) -> Result<()> {
        let sql = if commit { "COMMIT" } else { "ROLLBACK" };
        match &self.conn {
            Conn::Sqlite(conn) => Ok(conn.execute_batch(sql)?),
            #[cfg(feature = "postgres")]
            Conn::Postgres(conn) => conn.end(sql),
        }
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
    /// db.execute_batch(
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
    /// # db.execute_batch("CREATE TABLE users (id INTEGER PRIMARY KEY);
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
    /// db.execute_batch("CREATE TABLE note (id INTEGER PRIMARY KEY)")?;
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
        params: &[Param],
    ) -> Result<Vec<E>> {
        let mut out = Vec::new();
        self.fetch_events(E::META.name, sql, params, &mut |event| {
            match event {
                // Where the row count comes first (PostgreSQL), the vector
                // is sized once: growing it by doubling copied a
                // 100,000-row result about twice over.
                Event::Rows(rows) => out.reserve_exact(rows),
                Event::Row(row, sql) => out.push(decode::<E>(row, 0, sql)?),
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Runs `sql` (a constant the derive emitted, or a statement assembled
    /// for a scope, in this backend's dialect) and hands each row to
    /// `each`; logs the statement once it has been read to the end.
    pub(crate) fn fetch_with(
        &self,
        entity: &'static str,
        sql: impl Into<Cow<'static, str>>,
        params: &[Param],
        mut each: impl FnMut(&Row<'_>, &str) -> Result<()>,
    ) -> Result<usize> {
        self.fetch_events(entity, sql, params, &mut |event| match event {
            Event::Rows(_) => Ok(()),
            Event::Row(row, sql) => each(row, sql),
        })
    }

    /// [`fetch_with`](Db::fetch_with), also told the number of rows before
    /// the first when the backend knows it.
    fn fetch_events(
        &self,
        entity: &'static str,
        sql: impl Into<Cow<'static, str>>,
        params: &[Param],
        each: &mut dyn FnMut(Event<'_, '_>) -> Result<()>,
    ) -> Result<usize> {
        let sql: Cow<'static, str> = sql.into();
        if self.diagnostics.borrow().forbidden > 0 {
            return Err(Error::QueryForbidden { entity, sql });
        }
        if self.echo.get() {
            eprintln!("[loader] {sql}");
        }
        let bound_values = bound_values(params);
        let start = Instant::now();
        let query_error = |source: BoxError| Error::Query {
            entity,
            sql: sql.clone(),
            source,
        };
        let result = match &self.conn {
            Conn::Sqlite(conn) => fetch_sqlite(conn, &sql, params, each, &query_error),
            #[cfg(feature = "postgres")]
            Conn::Postgres(conn) => conn.fetch(&sql, params, each, &query_error),
        };
        let elapsed = start.elapsed();
        let count = match &result {
            Ok(count) => *count,
            Err(_) => 0,
        };
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

/// What a backend hands the reader of a statement's result.
pub(crate) enum Event<'r, 'a> {
    /// How many rows follow, when known before the first (PostgreSQL).
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    Rows(usize),
    /// One row, with the statement's text.
    Row(&'r Row<'a>, &'r str),
}

/// Runs one statement on SQLite through the connection's statement cache.
fn fetch_sqlite(
    conn: &Connection,
    sql: &str,
    params: &[Param],
    each: &mut dyn FnMut(Event<'_, '_>) -> Result<()>,
    query_error: &dyn Fn(BoxError) -> Error,
) -> Result<usize> {
    let mut stmt = conn
        .prepare_cached(sql)
        .map_err(|e| query_error(Box::new(e)))?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(params.iter()))
        .map_err(|e| query_error(Box::new(e)))?;
    let mut count = 0;
    loop {
        match rows.next() {
            Ok(Some(row)) => {
                count += 1;
                each(Event::Row(&Row::sqlite(row), sql))?;
            }
            Ok(None) => return Ok(count),
            Err(source) => return Err(query_error(Box::new(source))),
        }
    }
}

/// A transaction the library began; rolled back unless committed.
pub(crate) struct Transaction<'db> {
    db: &'db Db,
    done: bool,
}

impl Transaction<'_> {
    pub(crate) fn commit(mut self) -> Result<()> {
        self.done = true;
        self.db.end(true)
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            // Nothing to report to: the error that ended the work early is
            // already on its way to the caller.
            let _ = self.db.end(false);
        }
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

/// Decodes an `E` from `row` starting at column `offset`, turning a failure
/// into an error that names the entity, the column and the row's key.
pub(crate) fn decode<E: Entity>(row: &Row<'_>, offset: usize, sql: &str) -> Result<E> {
    E::decode(row, offset).map_err(|source| {
        let meta = &E::META;
        let column = source
            .index()
            .checked_sub(offset)
            .and_then(|index| meta.columns.get(index).copied())
            .unwrap_or("?");
        let key = display_key(row, offset, meta.primary_key);
        Error::Decode {
            entity: meta.name,
            column,
            key,
            sql: Cow::Owned(sql.to_owned()),
            source: source.into_source(),
        }
    })
}

/// The row's primary key as it would be written in SQL: `42`, `'ada'`, or
/// `(1, 2)` for a composite key.
fn display_key(row: &Row<'_>, offset: usize, columns: &[usize]) -> Option<String> {
    let values = columns
        .iter()
        .map(|&index| row.display(offset + index))
        .collect::<Option<Vec<String>>>()?;
    match values.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        many => Some(format!("({})", many.join(", "))),
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
