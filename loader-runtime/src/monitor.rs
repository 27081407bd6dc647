//! What the library ran and what it watches for, shared by every backend:
//! the query log, the echo and the hook, N+1 detection, forbidden queries
//! and unused-preload tracking. A [`Db`](crate::Db) (and an async handle)
//! dereferences to its `Monitor`, so these are methods of the connection.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::panic::Location;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::diagnostics::{Diagnostics, NPlusOne, Usage, Verdict, suggestion};
use crate::engine::{LazyLoad, Statement};
use crate::error::{Error, Result};

/// How many records [`Monitor::query_log`] keeps unless told otherwise.
pub const DEFAULT_LOG_CAPACITY: usize = 1024;

type QueryHook = Box<dyn FnMut(&QueryRecord) + Send>;

struct QueryLog {
    count: usize,
    capacity: usize,
    records: VecDeque<QueryRecord>,
}

/// The query log and the diagnostics of one connection (or one async
/// handle): every statement the library runs is counted and recorded here.
pub struct Monitor {
    log: Mutex<QueryLog>,
    pool_wait: Mutex<PoolWait>,
    echo: AtomicBool,
    hook: Mutex<Option<QueryHook>>,
    diagnostics: Mutex<Diagnostics>,
    /// How many rows each root statement found when it last ran, by its
    /// text (its values are bound, so one text serves every value): what
    /// the form of the next run's preloads is chosen from (see
    /// [`Form`](crate::Form)). A fact about the data, so shared by every log
    /// of one handle.
    roots_found: Arc<Mutex<HashMap<Box<str>, usize>>>,
}

/// How many root statements' row counts a handle remembers.
const ROOT_STATEMENTS: usize = 1_024;

/// Locks `mutex`, whether or not a panic poisoned it (the state it guards
/// stays consistent: every update is a single assignment or push).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Default for Monitor {
    fn default() -> Self {
        Monitor {
            log: Mutex::new(QueryLog {
                count: 0,
                capacity: DEFAULT_LOG_CAPACITY,
                records: VecDeque::new(),
            }),
            pool_wait: Mutex::new(PoolWait::default()),
            echo: AtomicBool::new(false),
            hook: Mutex::new(None),
            diagnostics: Mutex::new(Diagnostics::default()),
            roots_found: Arc::default(),
        }
    }
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor")
            .field("query_count", &self.query_count())
            .finish_non_exhaustive()
    }
}

/// How long jobs waited for a pooled connection ([`Monitor::pool_wait`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolWait {
    /// How many connections were checked out.
    pub checkouts: usize,
    /// The time spent waiting for them, in all.
    pub total: Duration,
    /// The longest single wait.
    pub longest: Duration,
}

/// One statement the library ran, as kept in [`Monitor::query_log`].
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

impl Monitor {
    /// How many statements the library has run on this `Db` since it was
    /// opened or since [`reset_query_log`](Monitor::reset_query_log).
    pub fn query_count(&self) -> usize {
        lock(&self.log).count
    }

    /// The most recent statements, oldest first (at most
    /// [`set_log_capacity`](Monitor::set_log_capacity) of them, 1024 by default).
    pub fn query_log(&self) -> Vec<QueryRecord> {
        lock(&self.log).records.iter().cloned().collect()
    }

    /// How long this handle's jobs waited for a pooled connection since it
    /// was made or since [`reset_query_log`](Monitor::reset_query_log)
    /// (an `AsyncDb` on PostgreSQL; zero elsewhere): a pool that is too
    /// small for its load shows here first.
    pub fn pool_wait(&self) -> PoolWait {
        *lock(&self.pool_wait)
    }

    /// Counts one checkout that waited `waited`.
    #[cfg_attr(not(all(feature = "async", feature = "postgres")), allow(dead_code))]
    pub(crate) fn checked_out(&self, waited: Duration) {
        let mut wait = lock(&self.pool_wait);
        wait.checkouts += 1;
        wait.total += waited;
        wait.longest = wait.longest.max(waited);
    }

    /// Forgets the log, sets the query count back to zero and starts a new
    /// scope for N+1 detection: call it at the start of each request or test.
    pub fn reset_query_log(&self) {
        *lock(&self.pool_wait) = PoolWait::default();
        let mut log = lock(&self.log);
        log.count = 0;
        log.records.clear();
        lock(&self.diagnostics).lazy_loads.clear();
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
            let log = lock(&self.log);
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

    /// Keeps at most `capacity` records in the log (0 keeps none; the count
    /// goes on either way).
    pub fn set_log_capacity(&self, capacity: usize) {
        let mut log = lock(&self.log);
        log.capacity = capacity;
        while log.records.len() > capacity {
            log.records.pop_front();
        }
    }

    /// Prints each statement to standard error as it runs, like SQLAlchemy's
    /// `echo=True`.
    pub fn set_echo(&self, echo: bool) {
        self.echo.store(echo, Ordering::Relaxed);
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
        *lock(&self.hook) = Some(Box::new(hook));
    }

    /// Removes the hook set with [`set_query_hook`](Monitor::set_query_hook).
    pub fn clear_query_hook(&self) {
        lock(&self.hook).take();
    }

    fn record(&self, sql: Cow<'static, str>, bound_values: usize, rows: usize, elapsed: Duration) {
        let record = QueryRecord {
            sql,
            bound_values,
            rows,
            elapsed,
        };
        {
            let mut log = lock(&self.log);
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
        let hook = lock(&self.hook).take();
        if let Some(mut hook) = hook {
            hook(&record);
            let mut slot = lock(&self.hook);
            if slot.is_none() {
                *slot = Some(hook);
            }
        }
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
        let mut diagnostics = lock(&self.diagnostics);
        diagnostics.n_plus_one = mode;
        diagnostics.lazy_loads.clear();
    }

    /// When on, each preloaded relation whose values are all dropped without
    /// one accessor call is reported with a `WARN` event (target
    /// `loader::unused_preload`) naming the place the preload was written,
    /// like Bullet's "unused eager loading". Off by default: it costs an
    /// atomic flag per preloaded relation and a write per accessor call.
    pub fn set_unused_preload_detection(&self, on: bool) {
        lock(&self.diagnostics).unused_preloads = on;
    }

    /// Runs `block` with queries forbidden: any statement the library would
    /// run in it fails with [`Error::QueryForbidden`] instead (like
    /// django-zen-queries), so a template or serializer that should only
    /// read preloaded data cannot query by accident.
    pub fn forbid_queries<R>(&self, block: impl FnOnce() -> R) -> R {
        struct Allow<'a>(&'a Mutex<Diagnostics>);
        impl Drop for Allow<'_> {
            fn drop(&mut self) {
                lock(self.0).forbidden -= 1;
            }
        }
        lock(&self.diagnostics).forbidden += 1;
        let _allow = Allow(&self.diagnostics);
        block()
    }

    /// Counts one lazy load for N+1 detection; warns or refuses per the mode.
    pub(crate) fn lazy_load(&self, load: LazyLoad) -> Result<()> {
        let LazyLoad {
            entity,
            relation,
            location,
        } = load;
        let verdict = lock(&self.diagnostics).lazy_load(entity, relation);
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

    /// Whether preloaded values track if they are read.
    pub(crate) fn tracks_usage(&self) -> bool {
        lock(&self.diagnostics).unused_preloads
    }

    /// A monitor with a log and diagnostics of its own that shares what
    /// this one learned about the root statements.
    #[cfg_attr(not(feature = "async"), allow(dead_code))]
    pub(crate) fn with_new_log(&self) -> Monitor {
        Monitor {
            roots_found: Arc::clone(&self.roots_found),
            ..Monitor::default()
        }
    }

    /// How many rows the root statement `text` found when it last ran here.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn roots_found(&self, text: &str) -> Option<usize> {
        lock(&self.roots_found).get(text).copied()
    }

    /// Remembers that the root statement `text` found `rows` rows. The
    /// texts are the program's own statements, but a program that builds
    /// filters from input (an `IN` list of any length) can make many: past
    /// [`ROOT_STATEMENTS`] the handle forgets them all and learns again.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn roots_read(&self, text: &str, rows: usize) {
        let mut found = lock(&self.roots_found);
        if let Some(known) = found.get_mut(text) {
            *known = rows;
            return;
        }
        if found.len() >= ROOT_STATEMENTS {
            found.clear();
        }
        found.insert(text.into(), rows);
    }

    /// Before a statement runs: refuses it inside [`forbid_queries`](Monitor::forbid_queries), echoes it.
    pub(crate) fn before(&self, statement: &Statement) -> Result<()> {
        if lock(&self.diagnostics).forbidden > 0 {
            return Err(Error::QueryForbidden {
                entity: statement.entity,
                sql: statement.sql.clone(),
            });
        }
        if self.echo.load(Ordering::Relaxed) {
            eprintln!("[loader] {}", statement.sql);
        }
        Ok(())
    }

    /// After a statement ran: its tracing event, in its span, and its record.
    pub(crate) fn after(
        &self,
        statement: &Statement,
        bound_values: usize,
        rows: usize,
        elapsed: Duration,
    ) {
        {
            let _span = statement.span.enter();
            tracing::debug!(
                target: "loader::query",
                entity = statement.entity,
                sql = %statement.sql,
                bound_values,
                rows,
                elapsed_us = elapsed.as_micros() as u64,
                "query",
            );
        }
        self.record(statement.sql.clone(), bound_values, rows, elapsed);
    }
}

/// The usage tracker of one preloaded relation, when unused-preload
/// detection is on.
pub(crate) fn usage(
    track: bool,
    entity: &'static str,
    relation: &'static str,
    site: Option<&'static Location<'static>>,
) -> Option<Arc<Usage>> {
    track.then(|| Arc::new(Usage::new(entity, relation, site)))
}
