//! The databases: each runs the statements of a wave and feeds their rows
//! to the statements' sinks. Nothing here knows what a relation is.

#[cfg(feature = "postgres")]
pub(crate) mod postgres;
pub(crate) mod sqlite;

/// The synchronous PostgreSQL client blocks on a runtime of its own, which
/// panics on a thread that already runs an async one: refuse instead.
#[cfg(feature = "postgres")]
pub(crate) fn refuse_inside_async_runtime() -> crate::error::Result<()> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(crate::error::Error::Database(
            "the synchronous `Db` cannot talk to PostgreSQL on a thread that runs an async (tokio) runtime: it would block the runtime's thread. Use `AsyncDb` in async code, or run the synchronous `Db` on a thread of your own".into(),
        ));
    }
    Ok(())
}
