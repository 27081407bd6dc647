//! A dataloader per relation: separate callers (GraphQL resolvers, one per
//! field) ask for one owner's children each; every call made before the
//! batch is dispatched joins it, and the batch runs one statement.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::AsyncDb;
use crate::engine::batch::ChildrenOf;
use crate::entity::Keyed;
use crate::error::{Error, Result};
use crate::executor::Executor;
use crate::preload::With;
use crate::relation::HasMany;
use crate::scope::Scope;

type Answer<T> = std::result::Result<Vec<T>, Arc<Error>>;
/// Where one caller waits for its answer.
type Waiter<K, T> = (K, tokio::sync::oneshot::Sender<Answer<T>>);

/// The keys asked for so far and who waits for each.
struct Batch<R: HasMany> {
    keys: Vec<<R::Owner as Keyed>::Key>,
    waiters: Vec<Waiter<<R::Owner as Keyed>::Key, R::Target>>,
}

/// Loads the targets of one `has_many` relation for one owner at a time,
/// coalescing the calls made together into one statement (the GraphQL
/// dataloader pattern):
///
/// ```
/// use loader_runtime::{AsyncDb, Entity, RelationLoader};
///
/// #[derive(Entity, Debug, Clone)]
/// #[entity(table = "users")]
/// #[has_many(Post, fk = "author_id")]
/// struct User { id: i64 }
///
/// #[derive(Entity, Debug, Clone)]
/// #[entity(table = "posts")]
/// struct Post { id: i64, author_id: i64 }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let db = AsyncDb::connect("sqlite::memory:").await?;
/// db.execute_batch("CREATE TABLE users (id INTEGER PRIMARY KEY);
///                   CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL);
///                   INSERT INTO users VALUES (1), (2);
///                   INSERT INTO posts VALUES (1, 1), (2, 2), (3, 1);").await?;
/// let posts = RelationLoader::new(&db, User::posts());
/// // Two resolvers, each asking for one user's posts: one statement.
/// let (first, second) = tokio::join!(posts.load(1), posts.load(2));
/// assert_eq!(first?.len(), 2);
/// assert_eq!(second?.len(), 1);
/// assert_eq!(db.query_count(), 1);
/// # Ok::<(), loader_runtime::Error>(())
/// # }).unwrap();
/// ```
///
/// The calls made while a batch waits (one resolver pass: until a fifth
/// of its window, at least a millisecond, passes without a call; at most
/// 5 ms by default) join it. The relation's scope (`User::posts().filter(...)
/// .order_by(...)`) is the loader's: loaders with different scopes never
/// share a statement. A
/// failed statement is an [`Error::Batched`] for every caller of its batch;
/// a caller that stops waiting does not cancel the others (the batch runs
/// in a task of its own).
pub struct RelationLoader<R: HasMany> {
    db: AsyncDb,
    scope: Scope<R::Target>,
    delay: Duration,
    batch: Arc<Mutex<Option<Batch<R>>>>,
    /// How many calls were made, ever: what the waiting batch watches
    /// (without taking the batch's lock, which callers need).
    calls: Arc<AtomicUsize>,
}

/// How long a batch waits at most for more calls once its first arrived,
/// unless told otherwise ([`RelationLoader::with_delay`]). It goes out
/// sooner once calls stop arriving.
pub const DEFAULT_BATCH_DELAY: Duration = Duration::from_millis(5);

impl<R: HasMany> Clone for RelationLoader<R> {
    fn clone(&self) -> Self {
        RelationLoader {
            db: self.db.clone(),
            scope: self.scope.clone(),
            delay: self.delay,
            batch: Arc::clone(&self.batch),
            calls: Arc::clone(&self.calls),
        }
    }
}

impl<R: HasMany> RelationLoader<R>
where
    R::Target: Clone,
{
    /// A loader of `relation` (a relation handle, with its scope) on `db`.
    pub fn new(db: &AsyncDb, relation: With<R>) -> Self {
        RelationLoader {
            db: db.clone(),
            scope: relation.scope().clone(),
            delay: DEFAULT_BATCH_DELAY,
            batch: Arc::new(Mutex::new(None)),
            calls: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Waits at most `delay` after the first call of a batch for the
    /// others to join (5 ms by default); the batch goes out as soon as a
    /// fifth of it (at least a millisecond, tokio's timer tick) passes
    /// without a call. A longer window batches slower resolver passes (a
    /// debug build's) at the price of latency.
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// The targets of the owner whose key is `key`, in the relation's order.
    pub async fn load(&self, key: <R::Owner as Keyed>::Key) -> Result<Vec<R::Target>> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let first = {
            let mut batch = self.batch.lock().unwrap_or_else(|e| e.into_inner());
            let first = batch.is_none();
            let batch = batch.get_or_insert_with(|| Batch {
                keys: Vec::new(),
                waiters: Vec::new(),
            });
            batch.keys.push(key.clone());
            batch.waiters.push((key, answer));
            first
        };
        self.calls.fetch_add(1, Ordering::SeqCst);
        if first {
            tokio::spawn(dispatch(
                self.db.clone(),
                self.scope.clone(),
                self.delay,
                Arc::clone(&self.batch),
                Arc::clone(&self.calls),
            ));
        }
        match answered.await {
            Ok(answer) => answer.map_err(Error::Batched),
            Err(_) => Err(Error::Database(
                "the batch's task stopped before answering".into(),
            )),
        }
    }
}

/// Lets the other calls made within `delay` join, then runs the batch and
/// answers every caller.
async fn dispatch<R: HasMany>(
    db: AsyncDb,
    scope: Scope<R::Target>,
    delay: Duration,
    batch: Arc<Mutex<Option<Batch<R>>>>,
    calls: Arc<AtomicUsize>,
) where
    R::Target: Clone,
{
    // Wait until the calls stop coming (none for a fifth of `delay`, at
    // least a millisecond), at most `delay`: the resolvers of one pass
    // register back to back. Sleeping (not spinning) leaves the cores to
    // the tasks and threads that register them; a tokio timer ticks every
    // millisecond.
    let started = std::time::Instant::now();
    let quiet = (delay / 5).max(Duration::from_millis(1));
    let (mut seen, mut changed) = (calls.load(Ordering::SeqCst), std::time::Instant::now());
    loop {
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(1)).await;
        let now = calls.load(Ordering::SeqCst);
        if now != seen {
            (seen, changed) = (now, std::time::Instant::now());
        }
        if changed.elapsed() >= quiet || started.elapsed() >= delay {
            break;
        }
    }
    let Some(Batch { mut keys, waiters }) = batch.lock().unwrap_or_else(|e| e.into_inner()).take()
    else {
        return;
    };
    let mut seen = crate::engine::keys::KeySet::default();
    keys.retain(|key| seen.insert(key.clone()));
    let result = (&db).run(ChildrenOf::<R>::new(keys, scope)).await;
    match result {
        Ok(mut children) => {
            let mut waiting = crate::engine::keys::KeyMap::<_, usize>::default();
            for (key, _) in &waiters {
                *waiting.entry(key.clone()).or_default() += 1;
            }
            for (key, answer) in waiters {
                let left = waiting.get_mut(&key).map(|n| {
                    *n -= 1;
                    *n
                });
                // The last caller of a key takes the rows, the others a copy.
                let rows = if left == Some(0) {
                    children.remove(&key).unwrap_or_default()
                } else {
                    children.get(&key).cloned().unwrap_or_default()
                };
                let _ = answer.send(Ok(rows));
            }
        }
        Err(error) => {
            let error = Arc::new(error);
            for (_, answer) in waiters {
                let _ = answer.send(Err(Arc::clone(&error)));
            }
        }
    }
}
