//! The async handle (cargo feature `async`): the same jobs as [`Db`], sent
//! from tokio tasks.
//!
//! PostgreSQL (with the `postgres` feature) runs on tokio-postgres through
//! a deadpool pool, and sends each wave of statements pipelined on one
//! connection; SQLite runs each whole job on a worker thread that owns a
//! connection, so a preload crosses to that thread once.

mod dataloader;
mod sqlite;

#[cfg(feature = "postgres")]
mod postgres;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub use dataloader::{DEFAULT_BATCH_DELAY, RelationLoader};

use crate::db::Db;
use crate::engine::Job;
use crate::error::{Error, Result};
use crate::executor::Executor;
use crate::monitor::Monitor;
use crate::sql::Backend;

/// A boxed `Send` future, as the async API returns them.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// A pool of connections for async code (cargo feature `async`): `Clone`,
/// `Send` and `Sync`, so it can live in an axum `State`, and every future
/// it returns is `Send`, so handlers and `tokio::spawn` accept it.
///
/// The same entities, preloads, filters and lazy loaders as with a [`Db`]
/// run on it; `.await` what they return:
///
/// ```
/// use loader_runtime::{AsyncDb, Entity};
///
/// #[derive(Entity, Debug)]
/// #[entity(table = "users")]
/// #[has_many(Post, fk = "author_id")]
/// struct User { id: i64, username: String }
///
/// #[derive(Entity, Debug)]
/// #[entity(table = "posts")]
/// struct Post { id: i64, author_id: i64, title: String }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let db = AsyncDb::connect("sqlite::memory:").await?;
/// db.execute_batch(
///     "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL);
///      CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL, title TEXT NOT NULL);
///      INSERT INTO users VALUES (1, 'ada'), (2, 'grace');
///      INSERT INTO posts VALUES (1, 1, 'Notes'), (2, 2, 'Compilers'), (3, 1, 'Engines');",
/// ).await?;
/// let users = User::query().preload(User::posts()).all(&db).await?;
/// assert_eq!(users[0].posts().len(), 2);
/// assert_eq!(db.query_count(), 2);
/// let posts = users[1].load_posts(&db).await?; // the lazy path: one query
/// assert_eq!(posts[0].title, "Compilers");
/// # Ok::<(), loader_runtime::Error>(())
/// # }).unwrap();
/// ```
///
/// Statements of one preload run on one connection, in one read
/// transaction. On PostgreSQL, statements that do not depend on each
/// other's rows go out together (pipelined); a query for few roots (a
/// `limit` of at most 1,000, `find`, or every row of a table known to
/// hold no more; see [`Form::Subquery`](crate::Form::Subquery)) names
/// each level's owners by a subquery, so the whole tree, with `BEGIN` and
/// `COMMIT`, is one round trip. Its query log counts every statement of
/// every task that uses this handle or a clone of it;
/// [`AsyncDb::with_new_log`] gives a request a log of its own.
///
/// Dropping a future half way (a timeout, a client that went away) leaves
/// nothing behind: a PostgreSQL connection with a statement in flight is
/// closed rather than returned to the pool, and a SQLite worker finishes
/// the job and discards its result.
#[derive(Clone)]
pub struct AsyncDb {
    pool: Arc<Pool>,
    monitor: Arc<Monitor>,
    /// Whether PostgreSQL statements are prepared (and kept) before they run.
    prepare: bool,
}

enum Pool {
    Sqlite(sqlite::Workers),
    #[cfg(feature = "postgres")]
    Postgres(deadpool_postgres::Pool),
}

impl AsyncDb {
    /// Opens the database `url` names (the URLs of [`Db::connect`]):
    /// a pool of PostgreSQL connections (feature `postgres`), or SQLite
    /// worker threads (one for `sqlite::memory:`, whose database lives in
    /// one connection; four for a file).
    pub async fn connect(url: &str) -> Result<AsyncDb> {
        if Db::is_postgres_url(url) {
            return AsyncDb::connect_postgres(url).await;
        }
        let memory = matches!(url, ":memory:" | "sqlite::memory:" | "sqlite://:memory:");
        let workers = if memory { 1 } else { 4 };
        let url = url.to_owned();
        let workers = sqlite::Workers::open(workers, move || Db::connect(&url)).await?;
        Ok(AsyncDb::new(Pool::Sqlite(workers)))
    }

    #[cfg(feature = "postgres")]
    async fn connect_postgres(url: &str) -> Result<AsyncDb> {
        let (url, prepare) = crate::backend::postgres::take_prepared_option(url);
        let config: tokio_postgres::Config = url.parse()?;
        let db = AsyncDb::from_postgres_config(config)?;
        Ok(if prepare {
            db
        } else {
            db.without_prepared_statements()
        })
    }

    /// Runs every PostgreSQL statement unnamed, never preparing one: what a
    /// connection pooler in transaction mode, such as PgBouncer before
    /// 1.21, needs, since it may send each transaction to another server
    /// connection. Values then travel in text format for the server to
    /// type, as literals would; each statement is planned for each run (a
    /// preload still goes out pipelined, in one round trip for a page).
    /// Also `prepared_statements=false` in the URL given to
    /// [`AsyncDb::connect`].
    pub fn without_prepared_statements(mut self) -> AsyncDb {
        self.prepare = false;
        self
    }

    #[cfg(not(feature = "postgres"))]
    async fn connect_postgres(_: &str) -> Result<AsyncDb> {
        Err(Error::Database(
            "this is a PostgreSQL URL, but loader-runtime was built without its `postgres` feature: add `features = [\"postgres\", \"async\"]` to the dependency".into(),
        ))
    }

    /// A pool of PostgreSQL connections made with `config` (without TLS;
    /// for TLS or other settings, build a `deadpool_postgres::Pool` and use
    /// [`AsyncDb::from_postgres_pool`]). Connects lazily: the first query
    /// opens the first connection.
    #[cfg(feature = "postgres")]
    pub fn from_postgres_config(config: tokio_postgres::Config) -> Result<AsyncDb> {
        let manager = deadpool_postgres::Manager::from_config(
            config,
            tokio_postgres::NoTls,
            deadpool_postgres::ManagerConfig {
                recycling_method: deadpool_postgres::RecyclingMethod::Fast,
            },
        );
        let pool = deadpool_postgres::Pool::builder(manager)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| Error::Database(Box::new(e)))?;
        Ok(AsyncDb::from_postgres_pool(pool))
    }

    /// Wraps a deadpool pool of tokio-postgres clients.
    #[cfg(feature = "postgres")]
    pub fn from_postgres_pool(pool: deadpool_postgres::Pool) -> AsyncDb {
        AsyncDb::new(Pool::Postgres(pool))
    }

    fn new(pool: Pool) -> AsyncDb {
        AsyncDb {
            pool: Arc::new(pool),
            monitor: Arc::default(),
            prepare: true,
        }
    }

    /// The same connections with a query log (and N+1 scope) of its own:
    /// call it at the start of a request to count that request's
    /// statements while other requests run. What the handle learned about
    /// how many rows its root statements find (see
    /// [`Form::Subquery`](crate::Form::Subquery)) is shared with it.
    pub fn with_new_log(&self) -> AsyncDb {
        AsyncDb {
            pool: Arc::clone(&self.pool),
            monitor: Arc::new(self.monitor.with_new_log()),
            prepare: self.prepare,
        }
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        match &*self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            #[cfg(feature = "postgres")]
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Runs one or more statements separated by `;` (schema changes,
    /// writes) on one connection; not counted or logged, like
    /// [`Db::execute_batch`]. The connection goes back to the pool idle: a
    /// batch that leaves a transaction open (a `BEGIN` without its
    /// `COMMIT`) is rolled back and returns an `Err`; use
    /// [`AsyncDb::begin`] for transactions.
    pub async fn execute_batch(&self, sql: &str) -> Result<()> {
        match &*self.pool {
            Pool::Sqlite(workers) => {
                let sql = sql.to_owned();
                workers.run(move |db| sqlite::execute_batch(db, &sql)).await
            }
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => postgres::execute_batch(pool, &self.monitor, sql).await,
        }
    }

    /// Begins a read-write transaction on one connection: run queries on
    /// the returned handle, then [`commit`](AsyncTransaction::commit) it.
    /// Dropped without a commit, it rolls back. Preloads inside it read in
    /// it and see its writes.
    ///
    /// On an in-memory SQLite database (one connection), statements on the
    /// `AsyncDb` itself wait until the transaction ends: use the
    /// transaction's handle inside it.
    pub async fn begin(&self) -> Result<AsyncTransaction> {
        let conn = match &*self.pool {
            Pool::Sqlite(workers) => TransactionConn::Sqlite(workers.lease().await?),
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => TransactionConn::Postgres(
                postgres::Transaction::begin(pool, &self.monitor, self.prepare).await?,
            ),
        };
        Ok(AsyncTransaction {
            conn,
            monitor: Arc::clone(&self.monitor),
            backend: self.backend(),
        })
    }

    /// Runs `block` in a transaction: committed if it returns `Ok`, rolled
    /// back if it returns `Err`. The block returns its own error type (the
    /// library's errors convert into it with `?`), so a business rule can
    /// roll back without faking a database error.
    ///
    /// ```
    /// use loader_runtime::{AsyncDb, Entity};
    ///
    /// #[derive(Entity)]
    /// struct Account { id: i64, balance: i64 }
    ///
    /// #[derive(Debug)]
    /// enum Transfer { Overdrawn, Db(loader_runtime::Error) }
    /// impl From<loader_runtime::Error> for Transfer {
    ///     fn from(error: loader_runtime::Error) -> Self { Transfer::Db(error) }
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let db = AsyncDb::connect("sqlite::memory:").await?;
    /// db.execute_batch("CREATE TABLE account (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);
    ///                   INSERT INTO account VALUES (1, 10)").await?;
    /// let result = db
    ///     .transaction(async |tx| {
    ///         tx.execute_batch("UPDATE account SET balance = balance - 20").await?;
    ///         let account = Account::find(tx, &1).await?.unwrap();
    ///         if account.balance < 0 {
    ///             return Err(Transfer::Overdrawn);
    ///         }
    ///         Ok(account.balance)
    ///     })
    ///     .await;
    /// assert!(matches!(result, Err(Transfer::Overdrawn)));
    /// assert_eq!(Account::find(&db, &1).await?.unwrap().balance, 10); // rolled back
    /// # Ok::<(), loader_runtime::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn transaction<T, E, F>(&self, block: F) -> std::result::Result<T, E>
    where
        F: AsyncFnOnce(&AsyncTransaction) -> std::result::Result<T, E>,
        E: From<Error>,
    {
        let transaction = self.begin().await?;
        match block(&transaction).await {
            Ok(value) => {
                transaction.commit().await?;
                Ok(value)
            }
            Err(error) => {
                transaction.rollback().await?;
                Err(error)
            }
        }
    }

    async fn run_job<J: Job>(self, job: J) -> Result<J::Output> {
        match &*self.pool {
            Pool::Sqlite(workers) => {
                let monitor = Arc::clone(&self.monitor);
                workers
                    .run(move |db| db.run_job_logged(job, &monitor))
                    .await
            }
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => postgres::run(pool, &self.monitor, job, self.prepare).await,
        }
    }
}

impl std::ops::Deref for AsyncDb {
    type Target = Monitor;
    fn deref(&self) -> &Monitor {
        &self.monitor
    }
}

impl std::fmt::Debug for AsyncDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncDb")
            .field("backend", &self.backend())
            .field("query_count", &self.query_count())
            .finish_non_exhaustive()
    }
}

/// A transaction on one connection of an [`AsyncDb`] (from
/// [`AsyncDb::begin`] or [`AsyncDb::transaction`]): queries, lazy loaders
/// and `find`s take `&transaction` like `&db`. Rolled back unless
/// committed.
pub struct AsyncTransaction {
    conn: TransactionConn,
    monitor: Arc<Monitor>,
    backend: Backend,
}

#[derive(Clone)]
enum TransactionConn {
    Sqlite(sqlite::Lease),
    #[cfg(feature = "postgres")]
    Postgres(postgres::Transaction),
}

impl AsyncTransaction {
    /// Commits the transaction.
    pub async fn commit(self) -> Result<()> {
        self.end("COMMIT").await
    }

    /// Rolls the transaction back.
    pub async fn rollback(self) -> Result<()> {
        self.end("ROLLBACK").await
    }

    async fn end(self, sql: &'static str) -> Result<()> {
        match &self.conn {
            TransactionConn::Sqlite(lease) => lease.run(move |db| db.execute_batch(sql)).await,
            #[cfg(feature = "postgres")]
            TransactionConn::Postgres(transaction) => transaction.end(sql).await,
        }
    }

    /// Runs one or more statements separated by `;` in the transaction.
    pub async fn execute_batch(&self, sql: &str) -> Result<()> {
        match &self.conn {
            TransactionConn::Sqlite(lease) => {
                let sql = sql.to_owned();
                lease.run(move |db| db.execute_batch(&sql)).await
            }
            #[cfg(feature = "postgres")]
            TransactionConn::Postgres(transaction) => transaction.execute_batch(sql).await,
        }
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }
}

impl std::ops::Deref for AsyncTransaction {
    type Target = Monitor;
    fn deref(&self) -> &Monitor {
        &self.monitor
    }
}

impl std::fmt::Debug for AsyncTransaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncTransaction")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl Executor for &AsyncTransaction {
    type Output<T: Send + 'static> = BoxFuture<Result<T>>;

    fn run<J: Job>(self, job: J) -> BoxFuture<Result<J::Output>> {
        let conn = self.conn.clone();
        let monitor = Arc::clone(&self.monitor);
        Box::pin(async move {
            match conn {
                TransactionConn::Sqlite(lease) => {
                    let logged = Arc::clone(&monitor);
                    lease.run(move |db| db.run_job_logged(job, &logged)).await
                }
                #[cfg(feature = "postgres")]
                TransactionConn::Postgres(transaction) => transaction.run(&monitor, job).await,
            }
        })
    }
}

impl Executor for &AsyncDb {
    type Output<T: Send + 'static> = BoxFuture<Result<T>>;

    fn run<J: Job>(self, job: J) -> BoxFuture<Result<J::Output>> {
        Box::pin(self.clone().run_job(job))
    }
}
