//! PostgreSQL for async code: jobs on connections of a deadpool pool, each
//! job's waves sent pipelined by the backend's [`wave`] runner.

use deadpool_postgres::{Object, Pool};

use crate::backend::postgres::{PgError, wave};
use crate::engine::Job;
use crate::error::{Error, Result};
use crate::monitor::Monitor;

/// A pooled connection that is closed, not returned to the pool, unless
/// the job on it finished: a future dropped with statements in flight
/// leaves no half-read results or open transaction for the next caller.
struct Checkout {
    client: Option<Object>,
    finished: bool,
}

impl Drop for Checkout {
    fn drop(&mut self) {
        if !self.finished
            && let Some(client) = self.client.take()
        {
            drop(Object::take(client));
        }
    }
}

impl Checkout {
    fn client(&self) -> &Object {
        // Taken only by `drop`.
        self.client.as_ref().unwrap_or_else(|| unreachable!())
    }
}

async fn checkout(pool: &Pool, monitor: &Monitor) -> Result<Checkout> {
    let start = std::time::Instant::now();
    let client = pool.get().await.map_err(|e| Error::Database(Box::new(e)))?;
    monitor.checked_out(start.elapsed());
    Ok(Checkout {
        client: Some(client),
        finished: false,
    })
}

/// Runs the user's statements on one pooled connection.
///
/// A pooled connection must go back idle: with the batch goes a probe of
/// whether it left a transaction open (in the same round trip); if it did,
/// the transaction is rolled back and the batch is an `Err` that points to
/// [`AsyncDb::begin`](super::AsyncDb::begin).
pub(super) async fn execute_batch(pool: &Pool, monitor: &Monitor, sql: &str) -> Result<()> {
    let mut checkout = checkout(pool, monitor).await?;
    let client = checkout.client();
    let (batch, probe) = futures_util::future::join(
        client.batch_execute(sql),
        client.simple_query("SELECT now() = statement_timestamp()"),
    )
    .await;
    // Outside a transaction each statement is its own, which starts when
    // the statement does; an error here means an aborted one.
    let idle = probe.is_ok_and(|messages| {
        messages.iter().any(|message| {
            matches!(message, tokio_postgres::SimpleQueryMessage::Row(row) if row.get(0) == Some("t"))
        })
    });
    if !idle {
        if client.batch_execute("ROLLBACK").await.is_err() {
            return Err(Error::Database("the batch left the connection in a transaction that could not be rolled back; the connection was closed".into()));
        }
        checkout.finished = true;
        batch.map_err(|e| Error::Database(PgError::boxed(e)))?;
        return Err(Error::Database(
            "the batch left a transaction open on a pooled connection, so it was rolled back: use `AsyncDb::begin` or `AsyncDb::transaction` for transactions".into(),
        ));
    }
    checkout.finished = true;
    batch.map_err(|e| Error::Database(PgError::boxed(e)))
}

/// Runs `job` on one pooled connection (see [`wave::run`]).
pub(super) async fn run<J: Job>(
    pool: &Pool,
    monitor: &Monitor,
    mut job: J,
    prepare: bool,
) -> Result<J::Output> {
    if let Some(load) = job.lazy_load() {
        monitor.lazy_load(load)?;
    }
    let mut checkout = checkout(pool, monitor).await?;
    let (result, idle) = wave::run(checkout.client(), monitor, &mut job, false, prepare).await;
    // A connection left idle goes back to the pool; one whose transaction
    // could not be ended, or whose future was dropped on the way, is closed.
    checkout.finished = idle;
    result
}

/// A connection holding a transaction of the user's (`AsyncDb::begin`).
/// Each job takes the connection out while it runs: if its future is
/// dropped on the way, the connection is closed (which ends the
/// transaction on the server) and the transaction's later statements fail.
#[derive(Clone)]
pub(super) struct Transaction {
    conn: std::sync::Arc<tokio::sync::Mutex<Option<Checkout>>>,
    prepare: bool,
}

fn lost() -> Error {
    Error::Database(
        "the transaction's connection was closed (an earlier statement of it was cancelled or failed to end)".into(),
    )
}

impl Transaction {
    pub(super) async fn begin(
        pool: &Pool,
        monitor: &Monitor,
        prepare: bool,
    ) -> Result<Transaction> {
        let checkout = checkout(pool, monitor).await?;
        checkout
            .client()
            .batch_execute("BEGIN")
            .await
            .map_err(|e| Error::Database(PgError::boxed(e)))?;
        Ok(Transaction {
            conn: std::sync::Arc::new(tokio::sync::Mutex::new(Some(checkout))),
            prepare,
        })
    }

    pub(super) async fn run<J: Job>(&self, monitor: &Monitor, job: J) -> Result<J::Output> {
        if let Some(load) = job.lazy_load() {
            monitor.lazy_load(load)?;
        }
        let mut slot = self.conn.lock().await;
        let checkout = slot.take().ok_or_else(lost)?;
        let mut job = job;
        let (result, idle) =
            wave::run(checkout.client(), monitor, &mut job, true, self.prepare).await;
        if idle {
            *slot = Some(checkout);
        }
        result
    }

    pub(super) async fn execute_batch(&self, sql: &str) -> Result<()> {
        let mut slot = self.conn.lock().await;
        let checkout = slot.take().ok_or_else(lost)?;
        let result = checkout.client().batch_execute(sql).await;
        *slot = Some(checkout);
        result.map_err(|e| Error::Database(PgError::boxed(e)))
    }

    /// Ends the transaction with `sql` (`COMMIT` or `ROLLBACK`) and gives
    /// the connection back to the pool.
    pub(super) async fn end(&self, sql: &str) -> Result<()> {
        let mut checkout = self.conn.lock().await.take().ok_or_else(lost)?;
        checkout
            .client()
            .batch_execute(sql)
            .await
            .map_err(|e| Error::Database(PgError::boxed(e)))?;
        checkout.finished = true;
        Ok(())
    }
}
