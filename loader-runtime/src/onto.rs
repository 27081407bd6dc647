//! Preloading onto entities the program already holds: rows read with raw
//! SQL, from a cache, from an `INSERT ... RETURNING`, or from another
//! library. One statement per relation, as for a query.

use std::marker::PhantomData;

use crate::engine::{Form, Io, Job, Owners, internal};
use crate::entity::{Entity, Keyed};
use crate::error::Result;
use crate::executor::Executor;
use crate::loaded::Loaded;
use crate::preload::{Preload, PreloadList};

/// Preloads relations onto entities you already hold (like Ecto's
/// `Repo.preload` or Django's `prefetch_related_objects`), with one
/// statement per relation whatever their number:
///
/// ```
/// use loader_runtime::{Db, Entity, onto};
///
/// #[derive(Entity, Debug, Clone)]
/// #[entity(table = "users")]
/// struct User { id: i64, username: String }
///
/// #[derive(Entity, Debug, Clone)]
/// #[entity(table = "posts")]
/// #[belongs_to(User, fk = "author_id", name = "author")]
/// struct Post { id: i64, author_id: i64, title: String }
///
/// let db = Db::open_in_memory()?;
/// db.execute_batch(
///     "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL);
///      CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL, title TEXT NOT NULL);
///      INSERT INTO users VALUES (1, 'ada'), (2, 'grace');",
/// )?;
/// // Values that did not come from a query of the library's.
/// let posts = vec![
///     Post { id: 10, author_id: 2, title: "A-0".into() },
///     Post { id: 11, author_id: 1, title: "Notes".into() },
/// ];
/// let posts = onto(posts).preload(Post::author()).all(&db)?;
/// assert_eq!(posts[0].author().username, "grace");
/// assert_eq!(db.query_count(), 1);
/// # Ok::<(), loader_runtime::Error>(())
/// ```
///
/// Entities with equal primary keys share one load (each keeps its own
/// fields). With an `AsyncDb`, `.all(&db).await`.
pub fn onto<E: Keyed>(rows: impl IntoIterator<Item = E>) -> Onto<E, ()> {
    Onto {
        rows: rows.into_iter().collect(),
        preloads: (),
    }
}

/// Entities you hold and the relations to preload onto them (made by
/// [`onto`]).
#[must_use = "nothing is loaded until `.all(&db)` runs it"]
pub struct Onto<E: Entity, P> {
    rows: Vec<E>,
    preloads: P,
}

impl<E: Keyed, P: PreloadList<E>> Onto<E, P> {
    /// Also preloads `relation` onto every entity: one more statement.
    pub fn preload<W: Preload<E>>(self, relation: W) -> Onto<E, (W, P)> {
        Onto {
            rows: self.rows,
            preloads: (relation, self.preloads),
        }
    }

    /// Loads the relations: the entities in the order given, each with its
    /// preloaded values. With a [`Db`](crate::Db) it returns them; with an
    /// `AsyncDb`, a future of them.
    pub fn all<X: Executor>(self, db: X) -> X::Output<Vec<Loaded<E, P>>>
    where
        P::Values: Clone,
    {
        db.run(OntoJob::new(self.rows, self.preloads))
    }
}

impl<E: Entity + std::fmt::Debug, P: std::fmt::Debug> std::fmt::Debug for Onto<E, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Onto")
            .field("rows", &self.rows.len())
            .field("preloads", &self.preloads)
            .finish()
    }
}

/// The job of [`Onto::all`]: the held rows are the owners of the first
/// level, known from the start; a key held twice is loaded once.
struct OntoJob<E: Keyed, P: PreloadList<E>> {
    /// The first entity of each key, in the order given.
    unique: Vec<E>,
    /// Every entity given that repeats an earlier key: its position in the
    /// input and the position of that key in `unique`.
    repeats: Vec<(usize, usize, E)>,
    /// The position of each of `unique` in the input.
    positions: Vec<usize>,
    preloads: P,
    nested: Option<P::State>,
    span: tracing::Span,
    _entity: PhantomData<fn() -> E>,
}

impl<E: Keyed, P: PreloadList<E>> OntoJob<E, P> {
    fn new(rows: Vec<E>, preloads: P) -> Self {
        let mut first: crate::engine::keys::KeyMap<E::Key, usize> =
            crate::engine::keys::KeyMap::default();
        let (mut unique, mut repeats, mut positions) = (Vec::new(), Vec::new(), Vec::new());
        for (position, row) in rows.into_iter().enumerate() {
            match first.get(row.key()) {
                Some(&at) => repeats.push((position, at, row)),
                None => {
                    first.insert(row.key().clone(), unique.len());
                    positions.push(position);
                    unique.push(row);
                }
            }
        }
        let nested = Some(preloads.start());
        OntoJob {
            unique,
            repeats,
            positions,
            preloads,
            nested,
            span: tracing::Span::none(),
            _entity: PhantomData,
        }
    }
}

impl<E: Keyed, P: PreloadList<E>> Job for OntoJob<E, P>
where
    P::Values: Clone,
{
    type Output = Vec<Loaded<E, P>>;

    fn step(&mut self, io: &mut Io) -> Result<Option<Self::Output>> {
        let Some(nested) = self.nested.as_mut() else {
            return Err(internal("a finished preload was stepped"));
        };
        if self.span.is_none() {
            self.span = tracing::debug_span!(
                target: "loader::query",
                "preload onto held values",
                entity = E::META.name,
                rows = self.unique.len() + self.repeats.len(),
            );
        }
        let owners = Owners {
            rows: Some(&self.unique),
            whole: false,
            sql: None,
            span: &self.span,
        };
        self.preloads.step(nested, owners, io)?;
        if !io.wave_is_empty() {
            return Ok(None);
        }
        let nested = self
            .nested
            .take()
            .ok_or_else(|| internal("no preload state"))?;
        let values = self.preloads.finish(nested, &self.unique)?;
        let total = self.unique.len() + self.repeats.len();
        let mut out: Vec<Option<Loaded<E, P>>> = (0..total).map(|_| None).collect();
        for (position, at, row) in std::mem::take(&mut self.repeats) {
            out[position] = Some(Loaded::new(row, values[at].clone()));
        }
        let unique = std::mem::take(&mut self.unique);
        for ((row, values), position) in unique.into_iter().zip(values).zip(&self.positions) {
            out[*position] = Some(Loaded::new(row, values));
        }
        out.into_iter()
            .map(|loaded| loaded.ok_or_else(|| internal("a held value was lost")))
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    fn snapshot(&self) -> bool {
        P::LEN > 0
    }

    fn planned_all(&self) -> bool {
        self.nested
            .as_ref()
            .is_some_and(|nested| !P::waiting(nested))
    }

    fn form(&self) -> Option<Form> {
        // The held rows are no statement to name them by.
        Some(Form::Keys)
    }

    fn restart(&mut self) -> bool {
        self.nested = Some(self.preloads.start());
        true
    }
}
