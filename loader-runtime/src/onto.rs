//! Preloading onto entities the program already holds: rows read with raw
//! SQL, from a cache, from an `INSERT ... RETURNING`, or from another
//! library. One statement per relation, as for a query.

use std::marker::PhantomData;

use crate::distinct::Lacks;
use crate::engine::{Form, Io, Job, Owners, internal};
use crate::entity::{Entity, Keyed};
use crate::error::Result;
use crate::executor::Executor;
use crate::loaded::Loaded;
use crate::preload::{Checked, Preload, PreloadList};

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
///
/// Values already loaded gain the new relations and keep theirs; the type
/// grows, so the new accessors compile only after the preload:
///
/// ```
/// # use loader_runtime::{Db, Entity, onto};
/// # #[derive(Entity, Debug, Clone)] #[entity(table = "users")] #[has_many(Post, fk = "author_id")] struct User { id: i64 }
/// # #[derive(Entity, Debug, Clone)] #[entity(table = "posts")] #[belongs_to(User, fk = "author_id", name = "author")] struct Post { id: i64, author_id: i64 }
/// # let db = Db::open_in_memory()?;
/// # db.execute_batch("CREATE TABLE users (id INTEGER PRIMARY KEY);
/// #   CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL);
/// #   INSERT INTO users VALUES (1); INSERT INTO posts VALUES (1, 1), (2, 1);")?;
/// let users = User::query().preload(User::posts()).all(&db)?;
/// // ... later, the same values need their post counts too:
/// let users = onto(users).preload(User::posts().count()).all(&db)?;
/// assert_eq!(users[0].posts().len(), 2); // kept
/// assert_eq!(users[0].posts_count(), 2); // added
/// # Ok::<(), loader_runtime::Error>(())
/// ```
pub fn onto<H: Held>(rows: impl IntoIterator<Item = H>) -> Onto<H::Entity, (), H::Preloaded> {
    Onto {
        rows: rows.into_iter().map(Held::into_parts).collect(),
        preloads: (),
    }
}

/// What [`onto`] takes: an entity, or an entity with relations already
/// preloaded ([`Loaded`]).
pub trait Held: Send + 'static {
    /// The entity.
    type Entity: Keyed;
    /// The relations it already holds.
    type Preloaded: PreloadList<Self::Entity>;
    /// The entity and the values it holds.
    #[doc(hidden)]
    fn into_parts(
        self,
    ) -> (
        Self::Entity,
        <Self::Preloaded as PreloadList<Self::Entity>>::Values,
    );
}

impl<E: Keyed> Held for E {
    type Entity = E;
    type Preloaded = ();
    fn into_parts(self) -> (E, ()) {
        (self, ())
    }
}

impl<E: Keyed, P: PreloadList<E>> Held for Loaded<E, P> {
    type Entity = E;
    type Preloaded = P;
    fn into_parts(self) -> (E, P::Values) {
        Loaded::into_parts(self)
    }
}

/// A list of new preloads `Self` put in front of the list `B` the values
/// already hold: `(W2, (W1, ()))` in front of `B` is `(W2, (W1, B))`.
#[doc(hidden)]
pub trait Prepend<E: Entity, B: PreloadList<E>>: PreloadList<E> {
    /// The whole list.
    type Output: PreloadList<E>;
    /// The values of the whole list from the new ones and the held ones.
    fn prepend(new: Self::Values, held: B::Values) -> <Self::Output as PreloadList<E>>::Values;
}

impl<E: Entity, B: PreloadList<E>> Prepend<E, B> for () {
    type Output = B;
    fn prepend(_: (), held: B::Values) -> B::Values {
        held
    }
}

impl<E: Entity, B: PreloadList<E>, W: Preload<E>, T: Prepend<E, B>> Prepend<E, B> for (W, T) {
    type Output = (W, T::Output);
    fn prepend(
        new: Self::Values,
        held: B::Values,
    ) -> (W::Output, <T::Output as PreloadList<E>>::Values) {
        (new.0, T::prepend(new.1, held))
    }
}

/// Entities you hold and the relations to preload onto them (made by
/// [`onto`]): `N` the new relations, `B` those the values already hold.
#[must_use = "nothing is loaded until `.all(&db)` runs it"]
pub struct Onto<E: Entity, N, B: PreloadList<E> = ()> {
    rows: Vec<(E, B::Values)>,
    preloads: N,
}

impl<E: Keyed, N: Prepend<E, B>, B: PreloadList<E>> Onto<E, N, B> {
    /// Also preloads `relation` onto every entity: one more statement.
    pub fn preload<W: Preload<E>>(self, relation: W) -> Onto<E, (Checked<W, E>, N), B>
    where
        N: Lacks<E, W>,
        B: Lacks<E, W>,
    {
        Onto {
            rows: self.rows,
            preloads: (relation, self.preloads),
        }
    }

    /// Loads the relations: the entities in the order given, each with the
    /// values it held and the new ones. With a [`Db`](crate::Db) it returns
    /// them; with an `AsyncDb`, a future of them.
    pub fn all<X: Executor>(self, db: X) -> X::Output<Vec<Loaded<E, N::Output>>>
    where
        N::Values: Clone,
    {
        db.run(OntoJob::<E, N, B>::new(self.rows, self.preloads))
    }
}

impl<E: Entity, N: std::fmt::Debug, B: PreloadList<E>> std::fmt::Debug for Onto<E, N, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Onto")
            .field("rows", &self.rows.len())
            .field("preloads", &self.preloads)
            .finish()
    }
}

/// The job of [`Onto::all`]: the held rows are the owners of the first
/// level, known from the start; a key held twice is loaded once. Only the
/// new relations `P` are loaded; the values held for `B` are put back.
struct OntoJob<E: Keyed, P: Prepend<E, B>, B: PreloadList<E>> {
    /// The first entity of each key, in the order given.
    unique: Vec<E>,
    /// The values each of `unique` already holds.
    held: Vec<B::Values>,
    /// Every entity given that repeats an earlier key: its position in the
    /// input, the position of that key in `unique`, and what it holds.
    repeats: Vec<(usize, usize, E, B::Values)>,
    /// The position of each of `unique` in the input.
    positions: Vec<usize>,
    preloads: P,
    nested: Option<P::State>,
    span: tracing::Span,
    _entity: PhantomData<fn() -> E>,
}

impl<E: Keyed, P: Prepend<E, B>, B: PreloadList<E>> OntoJob<E, P, B> {
    fn new(rows: Vec<(E, B::Values)>, preloads: P) -> Self {
        let mut first: crate::engine::keys::KeyMap<E::Key, usize> =
            crate::engine::keys::KeyMap::default();
        let (mut unique, mut held, mut repeats, mut positions) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (position, (row, values)) in rows.into_iter().enumerate() {
            match first.get(row.key()) {
                Some(&at) => repeats.push((position, at, row, values)),
                None => {
                    first.insert(row.key().clone(), unique.len());
                    positions.push(position);
                    unique.push(row);
                    held.push(values);
                }
            }
        }
        let nested = Some(preloads.start());
        OntoJob {
            unique,
            held,
            repeats,
            positions,
            preloads,
            nested,
            span: tracing::Span::none(),
            _entity: PhantomData,
        }
    }
}

impl<E: Keyed, P: Prepend<E, B>, B: PreloadList<E>> Job for OntoJob<E, P, B>
where
    P::Values: Clone,
{
    type Output = Vec<Loaded<E, P::Output>>;

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
        // Repeated rows share a value: these are looked up by position.
        let values: Vec<_> = self.preloads.finish(nested, &self.unique)?.collect();
        let total = self.unique.len() + self.repeats.len();
        let mut out: Vec<Option<Loaded<E, P::Output>>> = (0..total).map(|_| None).collect();
        for (position, at, row, held) in std::mem::take(&mut self.repeats) {
            out[position] = Some(Loaded::new(row, P::prepend(values[at].clone(), held)));
        }
        let unique = std::mem::take(&mut self.unique);
        let held = std::mem::take(&mut self.held);
        for (((row, new), held), position) in unique
            .into_iter()
            .zip(values)
            .zip(held)
            .zip(&self.positions)
        {
            out[*position] = Some(Loaded::new(row, P::prepend(new, held)));
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
