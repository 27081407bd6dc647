//! The query log, the echo and the hook: what the library ran, as it ran.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::time::Duration;

use super::Db;

/// How many records [`Db::query_log`] keeps unless told otherwise.
pub const DEFAULT_LOG_CAPACITY: usize = 1024;

pub(super) type QueryHook = Box<dyn FnMut(&QueryRecord) + Send>;

pub(super) struct QueryLog {
    pub(super) count: usize,
    pub(super) capacity: usize,
    pub(super) records: VecDeque<QueryRecord>,
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

    pub(super) fn record(
        &self,
        sql: Cow<'static, str>,
        bound_values: usize,
        rows: usize,
        elapsed: Duration,
    ) {
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
