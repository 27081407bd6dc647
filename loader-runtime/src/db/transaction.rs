//! Transactions: the user's (`Db::transaction`) and a preload's snapshot.

use super::{Conn, Db};
use crate::error::Result;

impl Db {
    /// Runs `block` in a transaction: committed if it returns `Ok`, rolled
    /// back if it returns `Err` or panics. Inside a transaction already
    /// (nested calls, or a SQLite transaction begun on the connection), it
    /// runs `block` in that one. Preloads inside it read in it and see its
    /// writes.
    ///
    /// The block returns its own error type, so a business rule can roll
    /// back without faking a database error; the library's errors convert
    /// into it with `From` (as `?` does). A block that only returns the
    /// library's errors names the type once, as in `Ok::<_, Error>(value)`
    /// or with a typed `let`, like Diesel's `transaction`.
    ///
    /// ```
    /// # use loader_runtime::{Db, Entity};
    /// # #[derive(Entity)] struct Note { id: i64 }
    /// let db = Db::open_in_memory()?;
    /// db.execute_batch("CREATE TABLE note (id INTEGER PRIMARY KEY)")?;
    /// let notes = db.transaction(|db| {
    ///     db.execute_batch("INSERT INTO note VALUES (1)")?;
    ///     Note::all(db)
    /// })?; // `Note::all` returns the library's `Result`, which fixes the type
    /// assert_eq!(notes.len(), 1);
    /// # Ok::<(), loader_runtime::Error>(())
    /// ```
    ///
    /// ```
    /// # use loader_runtime::Db;
    /// #[derive(Debug)]
    /// enum Refused { Overdrawn, Db(loader_runtime::Error) }
    /// impl From<loader_runtime::Error> for Refused {
    ///     fn from(error: loader_runtime::Error) -> Self { Refused::Db(error) }
    /// }
    /// let db = Db::open_in_memory()?;
    /// db.execute_batch("CREATE TABLE account (id INTEGER PRIMARY KEY, balance INTEGER)")?;
    /// let result = db.transaction(|db| {
    ///     db.execute_batch("INSERT INTO account VALUES (1, -5)")?;
    ///     Err::<(), _>(Refused::Overdrawn)
    /// });
    /// assert!(matches!(result, Err(Refused::Overdrawn)));
    /// # Ok::<(), loader_runtime::Error>(())
    /// ```
    pub fn transaction<T, E: From<crate::Error>>(
        &self,
        block: impl FnOnce(&Db) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let Some(transaction) = self.begin()? else {
            return block(self);
        };
        let result = block(self)?;
        transaction.commit()?;
        Ok(result)
    }

    /// Begins a transaction unless one is open (on SQLite, also a
    /// preload's snapshot; a PostgreSQL preload's travels with its
    /// statements). Dropping the returned guard without committing rolls
    /// back.
    pub(crate) fn begin(&self) -> Result<Option<Transaction<'_>>> {
        let begun = match &self.conn {
            Conn::Sqlite(conn) => {
                if conn.is_autocommit() {
                    run_cached(conn, "BEGIN")?;
                    true
                } else {
                    false
                }
            }
            #[cfg(feature = "postgres")]
            Conn::Postgres(conn) => conn.begin()?,
        };
        // Not `then_some`: a guard built and dropped would roll back.
        Ok(begun.then(|| Transaction {
            db: self,
            done: false,
        }))
    }

    pub(super) fn end(&self, commit: bool) -> Result<()> {
        let sql = if commit { "COMMIT" } else { "ROLLBACK" };
        match &self.conn {
            Conn::Sqlite(conn) => run_cached(conn, sql),
            #[cfg(feature = "postgres")]
            Conn::Postgres(conn) => conn.end(sql),
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

/// Runs a transaction-control statement through the connection's statement
/// cache: every preload begins and ends one, and parsing `BEGIN` and
/// `COMMIT` afresh each time cost a few microseconds of a 0.2 ms load.
fn run_cached(conn: &rusqlite::Connection, sql: &str) -> Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}
