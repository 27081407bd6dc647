//! SQLite for async code: worker threads, each owning a connection, fed
//! whole jobs through a channel, so a preload crosses to a worker once.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use crate::db::Db;
use crate::error::{Error, Result};

type Task = Box<dyn FnOnce(&Db) + Send>;

/// The worker threads of one SQLite database.
pub(super) struct Workers {
    tasks: Sender<Task>,
}

fn stopped() -> Error {
    Error::Database("the SQLite worker thread stopped".into())
}

impl Workers {
    /// Starts `count` workers, each with a connection made by `open`; the
    /// first error opening one is returned.
    pub(super) async fn open(
        count: usize,
        open: impl Fn() -> Result<Db> + Send + Sync + 'static,
    ) -> Result<Workers> {
        let (tasks, queue) = channel::<Task>();
        let queue = Arc::new(Mutex::new(queue));
        let open = Arc::new(open);
        let mut opened = Vec::with_capacity(count);
        for index in 0..count {
            let (ready, opened_one) = tokio::sync::oneshot::channel();
            let (queue, open) = (Arc::clone(&queue), Arc::clone(&open));
            std::thread::Builder::new()
                .name(format!("loader-sqlite-{index}"))
                .spawn(move || work(open(), &queue, ready))
                .map_err(|e| Error::Database(Box::new(e)))?;
            opened.push(opened_one);
        }
        for opened_one in opened {
            opened_one.await.map_err(|_| stopped())??;
        }
        Ok(Workers { tasks })
    }

    /// Runs `task` on a worker and waits for its result without blocking
    /// the caller's thread. If the caller stops waiting, the worker still
    /// finishes the task (SQLite statements run to completion and any
    /// transaction ends), and the result is dropped.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        task: impl FnOnce(&Db) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        send(&self.tasks, task).await
    }
}

/// A worker kept for one transaction: its tasks run in it, in order, until
/// the lease is dropped; a transaction still open then is rolled back.
#[derive(Clone)]
pub(super) struct Lease {
    tasks: Sender<Task>,
}

impl Workers {
    /// Begins a transaction on a worker and keeps that worker for it.
    pub(super) async fn lease(&self) -> Result<Lease> {
        let (tasks, queue) = channel::<Task>();
        let (begun, begin_answered) = tokio::sync::oneshot::channel();
        self.tasks
            .send(Box::new(move |db| {
                let result = db.execute_batch("BEGIN");
                let ok = result.is_ok();
                let _ = begun.send(result);
                if !ok {
                    return;
                }
                for task in queue {
                    let _ = std::panic::catch_unwind(AssertUnwindSafe(|| task(db)));
                }
                if db.sqlite().is_some_and(|conn| !conn.is_autocommit()) {
                    let _ = db.execute_batch("ROLLBACK");
                }
            }))
            .map_err(|_| stopped())?;
        begin_answered.await.map_err(|_| stopped())??;
        Ok(Lease { tasks })
    }
}

impl Lease {
    /// Runs `task` in the transaction.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        task: impl FnOnce(&Db) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        send(&self.tasks, task).await
    }
}

/// Sends `task` to whichever worker serves `tasks` and waits for its answer.
async fn send<T: Send + 'static>(
    tasks: &Sender<Task>,
    task: impl FnOnce(&Db) -> Result<T> + Send + 'static,
) -> Result<T> {
    let (answer, answered) = tokio::sync::oneshot::channel();
    tasks
        .send(Box::new(move |db| {
            let _ = answer.send(task(db));
        }))
        .map_err(|_| stopped())?;
    answered.await.map_err(|_| stopped())?
}

/// Runs the user's batch on a worker's connection, which must stay out of
/// a transaction for the jobs that follow on it: one left open is rolled
/// back and reported.
pub(super) fn execute_batch(db: &Db, sql: &str) -> Result<()> {
    let result = db.execute_batch(sql);
    if db.sqlite().is_some_and(|conn| !conn.is_autocommit()) {
        db.execute_batch("ROLLBACK")?;
        result?;
        return Err(Error::Database(
            "the batch left a transaction open on a worker's connection, so it was rolled back: use `AsyncDb::begin` or `AsyncDb::transaction` for transactions".into(),
        ));
    }
    result
}

/// A worker's loop: take tasks until the handle is dropped.
fn work(
    db: Result<Db>,
    queue: &Mutex<Receiver<Task>>,
    ready: tokio::sync::oneshot::Sender<Result<()>>,
) {
    let db = match db {
        Ok(db) => {
            let _ = ready.send(Ok(()));
            db
        }
        Err(error) => {
            let _ = ready.send(Err(error));
            return;
        }
    };
    loop {
        let task = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok(task) = task else { return };
        // A panicking task (in user code it calls) loses its answer, not
        // the worker.
        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| task(&db)));
    }
}
