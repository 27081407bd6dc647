//! PostgreSQL for async code: each wave of a job is sent pipelined on one
//! pooled tokio-postgres connection, with `BEGIN` in the first wave and
//! `COMMIT` in the last, so a tree planned in one wave is one round trip.

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use deadpool_postgres::{Object, Pool};
use futures_util::future::join_all;
use tokio_postgres::Row as PgRow;
use tokio_postgres::types::{ToSql, Type};

use crate::backend::postgres::bind::{PgParam, TextParam};
use crate::backend::postgres::{PgError, unknown_types};
use crate::engine::{Form, Io, Job, Sink, Statement};
use crate::error::{Error, Result};
use crate::monitor::Monitor;
use crate::row::Row;
use crate::sql::Backend;

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

/// Runs `job` on one pooled connection.
///
/// A kept statement that went stale (a column's type changed under it:
/// "cached plan must not change result type") fails the job; the
/// connection's kept statements are dropped and the job runs once more,
/// from the start, in a snapshot of its own.
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
    let (mut result, mut idle) = run_on(checkout.client(), monitor, &mut job, false, prepare).await;
    let stale = result.as_ref().err().is_some_and(Error::is_stale_statement);
    if stale && idle && job.restart() {
        checkout.client().statement_cache.clear();
        (result, idle) = run_on(checkout.client(), monitor, &mut job, false, prepare).await;
    }
    // A connection left idle goes back to the pool; one whose transaction
    // could not be ended, or whose future was dropped on the way, is closed.
    checkout.finished = idle;
    result
}

/// Runs `job` on `client`, in a read transaction of its own when it has
/// several statements unless `inside` one already; says whether the
/// connection was left as it was found.
async fn run_on<J: Job>(
    client: &Object,
    monitor: &Monitor,
    job: &mut J,
    inside: bool,
    prepare: bool,
) -> (Result<J::Output>, bool) {
    // Few roots: name every level by subquery and send the tree at once.
    let form = job.form().unwrap_or(if job.few_roots() {
        Form::Subquery
    } else {
        Form::Keys
    });
    let mut io = Io::new(Backend::Postgres, form, monitor.tracks_usage());
    let snapshot = job.snapshot() && !inside;
    let mut open = false;
    let result = loop {
        let output = match job.step(&mut io) {
            Ok(output) => output,
            Err(error) => break Err(error),
        };
        if let Some(output) = output {
            break Ok(output);
        }
        let wave = io.take_wave();
        if let Err(error) = wave
            .iter()
            .try_for_each(|statement| monitor.before(statement))
        {
            break Err(error);
        }
        let begin = snapshot && !open;
        let commit = snapshot && job.planned_all();
        // Once sent, a wave with `COMMIT` ends the transaction whatever
        // failed in it (an aborted transaction's `COMMIT` rolls back).
        open = (open || begin) && !commit;
        match run_wave(client, monitor, wave, begin, commit, prepare).await {
            Ok(sinks) => io.receive(sinks),
            Err(error) => break Err(error),
        }
    };
    if open && client.batch_execute("ROLLBACK").await.is_err() {
        return (result, false);
    }
    (result, true)
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
        let (result, idle) = run_on(checkout.client(), monitor, &mut job, true, self.prepare).await;
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

type Reply<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<PgRow>, tokio_postgres::Error>> + Send + 'a>>;

/// Sends every statement of `wave` (and `BEGIN`/`COMMIT` around them)
/// before reading any reply, then feeds each statement's rows to its sink.
/// The first failure in statement order is the error.
async fn run_wave(
    client: &Object,
    monitor: &Monitor,
    wave: Vec<Statement>,
    begin: bool,
    commit: bool,
    prepare: bool,
) -> Result<Vec<Box<dyn Sink>>> {
    // Each text is described once per connection (the pool's cache): the
    // first run of a text costs one more round trip, pipelined too.
    let mut statements = Vec::with_capacity(wave.len());
    if prepare {
        let prepared = join_all(wave.iter().map(|s| client.prepare_cached(&s.sql))).await;
        for (statement, prepared) in wave.iter().zip(prepared) {
            statements.push(Some(
                prepared.map_err(|e| statement.query_error(PgError::boxed(e)))?,
            ));
        }
    } else {
        statements.resize(wave.len(), None);
    }
    let params: Vec<Vec<PgParam<'_>>> = wave
        .iter()
        .map(|statement| statement.params.iter().map(PgParam::new).collect())
        .collect();
    let text_params: Vec<Vec<TextParam<'_>>> = if prepare {
        Vec::new()
    } else {
        wave.iter()
            .map(|statement| {
                statement
                    .params
                    .iter()
                    .map(|param| TextParam(PgParam::new(param)))
                    .collect()
            })
            .collect()
    };
    let start = Instant::now();
    let mut replies: Vec<Reply<'_>> = Vec::with_capacity(wave.len() + 2);
    if begin {
        replies.push(Box::pin(async move {
            client
                .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .await
                .map(|()| Vec::new())
        }));
    }
    for (index, ((statement, prepared), params)) in
        wave.iter().zip(&statements).zip(&params).enumerate()
    {
        let Some(prepared) = prepared else {
            // Nothing prepared: unnamed, the values typed by the server.
            let typed = unknown_types(&text_params[index]);
            let sql: &str = &statement.sql;
            replies.push(Box::pin(
                async move { client.query_typed(sql, &typed).await },
            ));
            continue;
        };
        if statement.plans_per_run() {
            // A large key set: unnamed, so it is planned for these keys
            // (never a generic plan), with the types the kept twin was
            // described with.
            let typed: Vec<(&(dyn ToSql + Sync), Type)> = params
                .iter()
                .zip(prepared.params())
                .map(|(param, ty)| (param as &(dyn ToSql + Sync), ty.clone()))
                .collect();
            let sql: &str = &statement.sql;
            replies.push(Box::pin(
                async move { client.query_typed(sql, &typed).await },
            ));
        } else {
            let values: Vec<&(dyn ToSql + Sync)> = params
                .iter()
                .map(|param| param as &(dyn ToSql + Sync))
                .collect();
            replies.push(Box::pin(
                async move { client.query(prepared, &values).await },
            ));
        }
    }
    if commit {
        replies.push(Box::pin(async move {
            client.batch_execute("COMMIT").await.map(|()| Vec::new())
        }));
    }
    let mut replies = join_all(replies).await.into_iter();
    let elapsed = start.elapsed();
    if begin && let Some(Err(error)) = replies.next() {
        return Err(Error::Database(PgError::boxed(error)));
    }
    drop(params);
    let mut sinks = Vec::with_capacity(wave.len());
    let mut failure = None;
    for (mut statement, reply) in wave.into_iter().zip(replies.by_ref()) {
        let bound_values = statement.bound_values();
        let rows = match reply {
            Ok(rows) => rows,
            Err(error) => {
                monitor.after(&statement, bound_values, 0, elapsed);
                failure.get_or_insert(statement.query_error(PgError::boxed(error)));
                continue;
            }
        };
        statement.sink.reserve(rows.len());
        let mut read = Ok(());
        for row in &rows {
            read = statement.sink.row(&Row::postgres(row), &statement.sql);
            if read.is_err() {
                break;
            }
        }
        monitor.after(&statement, bound_values, rows.len(), elapsed);
        match read {
            Ok(()) => sinks.push(statement.sink),
            Err(error) => {
                failure.get_or_insert(error);
            }
        }
    }
    if let Some(error) = failure {
        return Err(error);
    }
    if let Some(Err(error)) = replies.next() {
        return Err(Error::Database(PgError::boxed(error)));
    }
    Ok(sinks)
}
