//! What runs the library's statements: a [`Db`] returns results, an
//! `AsyncDb` returns futures of them. Every query, lazy
//! loader and `find` takes either, so one set of entities and preloads
//! serves both.

use crate::db::Db;
use crate::engine::Job;
use crate::error::Result;

/// A connection the library can run statements on: `&Db` (synchronous,
/// returns `Result<T>`) or `&AsyncDb` (returns a `Send` future of
/// `Result<T>`, to `.await`).
///
/// ```
/// use loader_runtime::{Db, Entity};
///
/// #[derive(Entity)]
/// struct Note { id: i64 }
///
/// let db = Db::open_in_memory()?;
/// db.execute_batch("CREATE TABLE note (id INTEGER PRIMARY KEY); INSERT INTO note VALUES (1)")?;
/// let notes: Vec<Note> = Note::all(&db)?; // with an `AsyncDb`: `Note::all(&db).await?`
/// assert_eq!(notes.len(), 1);
/// # Ok::<(), loader_runtime::Error>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot run the library's queries",
    label = "expected `&Db` or `&AsyncDb`",
    note = "pass a reference to a connection: `&db` for a `Db` (returns a `Result`) or an `AsyncDb` (returns a future to `.await`)"
)]
pub trait Executor: Sized {
    /// What running a job that yields a `T` returns: `Result<T>`, or a
    /// future of it.
    type Output<T: Send + 'static>;

    /// Runs `job`.
    #[doc(hidden)]
    fn run<J: Job>(self, job: J) -> Self::Output<J::Output>;
}

impl Executor for &Db {
    type Output<T: Send + 'static> = Result<T>;

    fn run<J: Job>(self, job: J) -> Result<J::Output> {
        self.run_job(job)
    }
}

/// `&&Db` (a reference to a `&Db` variable) runs like `&Db`.
impl<X: Executor + Copy> Executor for &X {
    type Output<T: Send + 'static> = X::Output<T>;

    fn run<J: Job>(self, job: J) -> X::Output<J::Output> {
        (*self).run(job)
    }
}
