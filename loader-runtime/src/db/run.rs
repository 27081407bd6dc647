//! Running a job on the synchronous connection: its waves one statement
//! after another, inside one read transaction when it has several.

use std::time::Instant;

use super::{Conn, Db};
use crate::engine::{Form, Io, Job, Sink, Statement};
use crate::error::Result;
use crate::monitor::Monitor;

impl Db {
    /// Runs `job` to its result. Waves go out one statement at a time, so
    /// the job names owners by their keys unless it asks otherwise (a round
    /// trip costs nothing on SQLite, and the synchronous PostgreSQL client
    /// cannot pipeline).
    pub(crate) fn run_job<J: Job>(&self, job: J) -> Result<J::Output> {
        self.run_job_logged(job, &self.monitor)
    }

    /// Runs `job`, counting and logging its statements in `monitor` (an
    /// async handle's, when this `Db` is one of its SQLite workers).
    ///
    /// On PostgreSQL, a kept statement that went stale (a column's type
    /// changed under it) fails the job; the kept statements are dropped and
    /// the job runs once more, from the start, in a snapshot of its own. In
    /// a transaction of the caller's that is not possible (the failure
    /// aborted it), and the error is returned.
    pub(crate) fn run_job_logged<J: Job>(
        &self,
        mut job: J,
        monitor: &Monitor,
    ) -> Result<J::Output> {
        if let Some(load) = job.lazy_load() {
            monitor.lazy_load(load)?;
        }
        match self.attempt(&mut job, monitor) {
            Err(error) if error.is_stale_statement() && self.recover_stale(&mut job) => {
                self.attempt(&mut job, monitor)
            }
            result => result,
        }
    }

    /// Drops the kept statements and restarts `job`, unless the failure
    /// happened in the caller's transaction.
    #[cfg(feature = "postgres")]
    fn recover_stale<J: Job>(&self, job: &mut J) -> bool {
        match &self.conn {
            Conn::Postgres(conn) if !conn.in_callers_transaction() => {
                conn.forget_statements();
                job.restart()
            }
            _ => false,
        }
    }

    #[cfg(not(feature = "postgres"))]
    fn recover_stale<J: Job>(&self, _: &mut J) -> bool {
        false
    }

    /// One run of `job`.
    fn attempt<J: Job>(&self, job: &mut J, monitor: &Monitor) -> Result<J::Output> {
        // The statements of a preload read one snapshot of the database.
        let snapshot = if job.snapshot() {
            self.begin(true)?
        } else {
            None
        };
        let form = job.form().unwrap_or(Form::Keys);
        let mut io = Io::new(self.backend(), form, monitor.tracks_usage());
        let output = loop {
            if let Some(output) = job.step(&mut io)? {
                break output;
            }
            let wave = io.take_wave();
            let mut sinks = Vec::with_capacity(wave.len());
            for statement in wave {
                sinks.push(self.execute(statement, monitor)?);
            }
            io.receive(sinks);
        };
        if let Some(snapshot) = snapshot {
            snapshot.commit()?;
        }
        Ok(output)
    }

    /// Runs one statement, logging it once it has been read to the end.
    fn execute(&self, mut statement: Statement, monitor: &Monitor) -> Result<Box<dyn Sink>> {
        monitor.before(&statement)?;
        let bound_values = statement.bound_values();
        let start = Instant::now();
        let result = match &self.conn {
            Conn::Sqlite(conn) => crate::backend::sqlite::run(conn, &mut statement),
            #[cfg(feature = "postgres")]
            Conn::Postgres(conn) => conn.run(&mut statement),
        };
        let rows = *result.as_ref().unwrap_or(&0);
        monitor.after(&statement, bound_values, rows, start.elapsed());
        result.map(|_| statement.sink)
    }
}
