//! Running a job on the synchronous connection: on SQLite its waves one
//! statement after another, inside one read transaction when it has
//! several; on PostgreSQL through the backend's pipelined wave runner.

use std::time::Instant;

use rusqlite::Connection;

use super::{Conn, Db};
use crate::engine::{Form, Io, Job, Sink, Statement};
use crate::error::Result;
use crate::monitor::Monitor;

impl Db {
    /// Runs `job` to its result.
    pub(crate) fn run_job<J: Job>(&self, job: J) -> Result<J::Output> {
        self.run_job_logged(job, &self.monitor)
    }

    /// Runs `job`, counting and logging its statements in `monitor` (an
    /// async handle's, when this `Db` is one of its SQLite workers).
    ///
    /// On PostgreSQL each wave goes out pipelined (see
    /// [`Waves`](crate::backend::postgres::wave::Waves), shared with
    /// `AsyncDb`). On SQLite, where a round trip costs nothing, waves go
    /// out one statement at a time and the job names owners by their keys
    /// unless it asks otherwise.
    pub(crate) fn run_job_logged<J: Job>(
        &self,
        mut job: J,
        monitor: &Monitor,
    ) -> Result<J::Output> {
        if let Some(load) = job.lazy_load() {
            monitor.lazy_load(load)?;
        }
        match &self.conn {
            Conn::Sqlite(conn) => self.attempt(conn, &mut job, monitor),
            #[cfg(feature = "postgres")]
            Conn::Postgres(conn) => conn.run_job(&mut job, monitor),
        }
    }

    /// Runs `job` on SQLite.
    fn attempt<J: Job>(
        &self,
        conn: &Connection,
        job: &mut J,
        monitor: &Monitor,
    ) -> Result<J::Output> {
        // The statements of a preload read one snapshot of the database.
        let snapshot = if job.snapshot() { self.begin()? } else { None };
        let form = job.form().unwrap_or(Form::Keys);
        let mut io = Io::new(self.backend(), form, monitor.tracks_usage());
        let output = loop {
            if let Some(output) = job.step(&mut io)? {
                break output;
            }
            let wave = io.take_wave();
            let mut sinks = Vec::with_capacity(wave.len());
            for statement in wave {
                sinks.push(execute(conn, statement, monitor)?);
            }
            io.receive(sinks);
        };
        if let Some(snapshot) = snapshot {
            snapshot.commit()?;
        }
        Ok(output)
    }
}

/// Runs one statement on SQLite, logging it once it has been read to the
/// end.
fn execute(
    conn: &Connection,
    mut statement: Statement,
    monitor: &Monitor,
) -> Result<Box<dyn Sink>> {
    monitor.before(&statement)?;
    let bound_values = statement.bound_values();
    let start = Instant::now();
    let result = crate::backend::sqlite::run(conn, &mut statement);
    let rows = *result.as_ref().unwrap_or(&0);
    monitor.after(&statement, bound_values, rows, start.elapsed());
    result.map(|_| statement.sink)
}
