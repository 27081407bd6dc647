//! A job's waves on one tokio-postgres connection, for both the
//! synchronous `Db` (which drives its connection on a runtime of its own)
//! and `AsyncDb` (a pooled connection): [`Waves`] says what to send, each
//! wave's statements are sent pipelined with `BEGIN` in the first wave and
//! `COMMIT` in the last ([`send`]), so a tree planned in one wave is one
//! round trip, each statement's rows fed to its sink as they arrive; then
//! [`receive`] logs the wave. The drivers only wait for [`send`]; the query
//! log's hooks run outside it (for the synchronous `Db`: outside its
//! runtime).

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use deadpool_postgres::ClientWrapper;
use futures_util::TryStreamExt;
use futures_util::future::join_all;
use tokio_postgres::RowStream;
use tokio_postgres::types::ToSql;

use super::bind::{PgParam, TextParam};
use super::{PgError, unknown_types};
use crate::engine::{Form, Io, Job, Sink, Statement};
use crate::error::{Error, Result};
use crate::monitor::Monitor;
use crate::row::Row;
use crate::scope::Param;
use crate::sql::Backend;

/// A job's progress on one connection: the next wave to send, and whether
/// a transaction of the job's own is open.
pub(crate) struct Waves<'j, J: Job> {
    job: &'j mut J,
    io: Io,
    /// The job reads a snapshot of its own (several statements, outside a
    /// transaction of the caller's).
    snapshot: bool,
    /// Its `BEGIN` went out and its `COMMIT` has not.
    open: bool,
}

/// What a job needs next.
pub(crate) enum Step<O> {
    /// This wave sent, and its sinks received.
    Send(Wave),
    /// Nothing: here is its result.
    Done(O),
}

/// The statements of one wave, with the transaction control that travels
/// with them.
pub(crate) struct Wave {
    statements: Vec<Statement>,
    begin: bool,
    commit: bool,
}

impl<'j, J: Job> Waves<'j, J> {
    /// Starts `job`, in a read transaction of its own when it has several
    /// statements unless it runs `inside` one already.
    pub(crate) fn new(job: &'j mut J, monitor: &Monitor, inside: bool) -> Self {
        // Few roots: name every level by subquery and send the tree at once.
        let rows_of = |text: &str| monitor.roots_found(text);
        let form = job
            .form()
            .unwrap_or(if job.few_roots(Backend::Postgres, &rows_of) {
                Form::Subquery
            } else {
                Form::Keys
            });
        let snapshot = job.snapshot() && !inside;
        Waves {
            job,
            io: Io::new(Backend::Postgres, form, monitor.tracks_usage()),
            snapshot,
            open: false,
        }
    }

    /// Plans the next wave, or assembles the result.
    pub(crate) fn next(&mut self, monitor: &Monitor) -> Result<Step<J::Output>> {
        if let Some(output) = self.job.step(&mut self.io)? {
            if let Some((text, rows)) = self.job.roots_read() {
                monitor.roots_read(text, rows);
            }
            return Ok(Step::Done(output));
        }
        let statements = self.io.take_wave();
        statements
            .iter()
            .try_for_each(|statement| monitor.before(statement))?;
        let begin = self.snapshot && !self.open;
        let commit = self.snapshot && self.job.planned_all();
        // Once sent, a wave with `COMMIT` ends the transaction whatever
        // failed in it (an aborted transaction's `COMMIT` rolls back).
        self.open = (self.open || begin) && !commit;
        Ok(Step::Send(Wave {
            statements,
            begin,
            commit,
        }))
    }

    /// Takes the sinks of the wave sent last.
    pub(crate) fn receive(&mut self, sinks: Vec<Box<dyn Sink>>) {
        self.io.receive(sinks);
    }

    /// Whether the job's transaction is still open (it ended early): the
    /// driver sends `ROLLBACK`.
    pub(crate) fn open(&self) -> bool {
        self.open
    }
}

/// Whether a failed run is worth one more: a kept statement went stale (a
/// column's type changed under it: "cached plan must not change result
/// type"), the connection is idle, and the job did not run inside a
/// transaction of the caller's (which the failure aborted). The driver then
/// clears the connection's kept statements and runs the job once more,
/// from the start, in a snapshot of its own.
pub(crate) fn retry<J: Job, O>(result: &Result<O>, idle: bool, inside: bool, job: &mut J) -> bool {
    let stale = result.as_ref().err().is_some_and(Error::is_stale_statement);
    stale && idle && !inside && job.restart()
}

/// Runs `job` on a pooled `client` (see [`Waves`], [`retry`]): `AsyncDb`'s
/// driver. Says whether the connection was left as it was found (a
/// connection whose transaction could not be ended is not).
#[cfg(feature = "async")]
pub(crate) async fn run<J: Job>(
    client: &ClientWrapper,
    monitor: &Monitor,
    job: &mut J,
    inside: bool,
    prepare: bool,
) -> (Result<J::Output>, bool) {
    let (result, idle) = run_once(client, monitor, job, inside, prepare).await;
    if retry(&result, idle, inside, job) {
        client.statement_cache.clear();
        return run_once(client, monitor, job, inside, prepare).await;
    }
    (result, idle)
}

/// One run of `job` on `client`: the async driver of [`Waves`] (the
/// synchronous one is `PgConn::run_once`).
#[cfg(feature = "async")]
async fn run_once<J: Job>(
    client: &ClientWrapper,
    monitor: &Monitor,
    job: &mut J,
    inside: bool,
    prepare: bool,
) -> (Result<J::Output>, bool) {
    let mut waves = Waves::new(job, monitor, inside);
    let result = loop {
        let mut wave = match waves.next(monitor) {
            Ok(Step::Send(wave)) => wave,
            Ok(Step::Done(output)) => break Ok(output),
            Err(error) => break Err(error),
        };
        let replies = send(client, &mut wave, prepare).await;
        match receive(monitor, wave, replies) {
            Ok(sinks) => waves.receive(sinks),
            Err(error) => break Err(error),
        }
    };
    if waves.open() && client.batch_execute("ROLLBACK").await.is_err() {
        return (result, false);
    }
    (result, true)
}

/// The replies to one wave, in the order it was sent: how many rows each
/// statement returned into its sink, or why it failed.
pub(crate) struct Replies {
    replies: std::vec::IntoIter<std::result::Result<usize, Failure>>,
    elapsed: Duration,
}

/// Why a statement of a wave failed.
pub(crate) enum Failure {
    /// The server's error (or the connection's).
    Server(tokio_postgres::Error),
    /// A row its sink could not decode, after this many rows.
    Row(Error, usize),
}

type Reply<'a> = Pin<Box<dyn Future<Output = std::result::Result<usize, Failure>> + Send + 'a>>;

/// Sends every statement of `wave` (and `BEGIN`/`COMMIT` around them)
/// before reading any reply, then feeds each statement's rows to its sink
/// as they arrive, so the rows are decoded while the server still sends
/// the rest (and no undecoded copy of a result is held). An `Err` if a
/// statement could not be prepared (then nothing was sent).
///
/// The wave is taken `&mut`, so that the future is `Send`: a statement's
/// sink is `Send` but not `Sync`.
pub(crate) async fn send(
    client: &ClientWrapper,
    wave: &mut Wave,
    prepare: bool,
) -> Result<Replies> {
    let (begin, commit) = (wave.begin, wave.commit);
    let wave = &mut wave.statements;
    // Each text is described once per connection (the pool's cache): the
    // first run of a text costs one more round trip, pipelined too.
    let mut prepared_statements = Vec::with_capacity(wave.len());
    if prepare {
        let prepared = join_all(wave.iter().map(|s| client.prepare_cached(&s.sql))).await;
        for (statement, prepared) in wave.iter().zip(prepared) {
            prepared_statements.push(Some(
                prepared.map_err(|e| statement.query_error(PgError::boxed(e)))?,
            ));
        }
    } else {
        prepared_statements.resize(wave.len(), None);
    }
    let start = Instant::now();
    let mut replies: Vec<Reply<'_>> = Vec::with_capacity(wave.len() + 2);
    if begin {
        replies.push(control(
            client,
            "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
        ));
    }
    for (statement, prepared) in wave.iter_mut().zip(prepared_statements) {
        let per_run = statement.plans_per_run();
        let Statement {
            sql, params, sink, ..
        } = statement;
        let (sql, params): (&str, &[Param]) = (sql, params);
        replies.push(Box::pin(async move {
            let values: Vec<PgParam<'_>> = params.iter().map(PgParam::new).collect();
            let rows = match prepared {
                // Nothing prepared: unnamed, the values typed by the server.
                None => {
                    let text: Vec<TextParam<'_>> = values.into_iter().map(TextParam).collect();
                    client.query_typed_raw(sql, unknown_types(&text)).await
                }
                // A large key set: unnamed, so it is planned for these keys
                // (never a generic plan), with the types the kept twin was
                // described with.
                Some(prepared) if per_run => {
                    let typed = values
                        .iter()
                        .zip(prepared.params())
                        .map(|(value, ty)| (value as &(dyn ToSql + Sync), ty.clone()));
                    client.query_typed_raw(sql, typed).await
                }
                Some(prepared) => client.query_raw(&prepared, values.iter()).await,
            };
            feed(rows.map_err(Failure::Server)?, sink.as_mut(), sql).await
        }));
    }
    if commit {
        replies.push(control(client, "COMMIT"));
    }
    let replies = join_all(replies).await.into_iter();
    Ok(Replies {
        replies,
        elapsed: start.elapsed(),
    })
}

/// `BEGIN ...` or `COMMIT` as a reply of the wave: no rows.
fn control<'a>(client: &'a ClientWrapper, sql: &'static str) -> Reply<'a> {
    Box::pin(async move {
        client
            .batch_execute(sql)
            .await
            .map(|()| 0)
            .map_err(Failure::Server)
    })
}

/// Feeds the rows of `stream` to `sink` as they arrive; after a row it
/// cannot decode, reads the rest without decoding them, so the wave's later
/// replies still arrive.
async fn feed(
    stream: RowStream,
    sink: &mut dyn Sink,
    sql: &str,
) -> std::result::Result<usize, Failure> {
    let mut stream = std::pin::pin!(stream);
    let (mut rows, mut undecodable) = (0, None);
    while let Some(row) = stream.try_next().await.map_err(Failure::Server)? {
        rows += 1;
        if undecodable.is_none()
            && let Err(error) = sink.row(&Row::postgres(&row), sql)
        {
            undecodable = Some(error);
        }
    }
    match undecodable {
        Some(error) => Err(Failure::Row(error, rows)),
        None => Ok(rows),
    }
}

/// Logs each statement of a sent wave; returns the filled sinks. The first
/// failure in the order sent is the error.
pub(crate) fn receive(
    monitor: &Monitor,
    wave: Wave,
    replies: Result<Replies>,
) -> Result<Vec<Box<dyn Sink>>> {
    let Replies {
        mut replies,
        elapsed,
    } = replies?;
    if wave.begin
        && let Some(Err(failure)) = replies.next()
    {
        return Err(unattributed(failure));
    }
    let mut sinks = Vec::with_capacity(wave.statements.len());
    let mut failure = None;
    for (statement, reply) in wave.statements.into_iter().zip(replies.by_ref()) {
        let bound_values = statement.bound_values();
        match reply {
            Ok(rows) => {
                monitor.after(&statement, bound_values, rows, elapsed);
                sinks.push(statement.sink);
            }
            Err(Failure::Server(error)) => {
                monitor.after(&statement, bound_values, 0, elapsed);
                failure.get_or_insert(statement.query_error(PgError::boxed(error)));
            }
            Err(Failure::Row(error, rows)) => {
                monitor.after(&statement, bound_values, rows, elapsed);
                failure.get_or_insert(error);
            }
        }
    }
    if let Some(error) = failure {
        return Err(error);
    }
    if let Some(Err(failure)) = replies.next() {
        return Err(unattributed(failure));
    }
    Ok(sinks)
}

/// The error of `BEGIN` or `COMMIT`, which belong to no statement.
fn unattributed(failure: Failure) -> Error {
    match failure {
        Failure::Server(error) => Error::Database(PgError::boxed(error)),
        Failure::Row(error, _) => error,
    }
}
