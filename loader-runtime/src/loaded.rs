//! An entity together with the relations preloaded for it.

use std::fmt;
use std::ops::Deref;

use crate::entity::Entity;
use crate::preload::{DebugValues, PreloadList};

/// An entity `E` with the relations `P` preloaded for it, as returned by
/// [`Query::all`](crate::Query::all).
///
/// It dereferences to the entity, so fields read as usual (`user.username`),
/// and it has one accessor per preloaded relation (`user.posts()`), which
/// needs no [`Db`](crate::Db), cannot fail and borrows. An accessor for a
/// relation that is not in `P` does not compile:
///
/// ```
/// use loader_runtime::{Db, Entity};
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
/// let db = Db::open_in_memory()?;
/// db.execute_batch(
///     "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL);
///      CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL, title TEXT NOT NULL);
///      INSERT INTO users VALUES (1, 'ada');
///      INSERT INTO posts VALUES (1, 1, 'Notes'), (2, 1, 'Sketch');",
/// )?;
/// let users = User::query().preload(User::posts()).all(&db)?;
/// assert_eq!(users[0].username, "ada");
/// assert_eq!(users[0].posts().len(), 2);
/// assert_eq!(db.query_count(), 2);
/// # Ok::<(), loader_runtime::Error>(())
/// ```
///
/// ```compile_fail
/// # use loader_runtime::{Db, Entity};
/// # #[derive(Entity)] #[has_many(Post, fk = "author_id")] struct User { id: i64 }
/// # #[derive(Entity)] struct Post { id: i64, author_id: i64 }
/// # let db = Db::open_in_memory().unwrap();
/// let users = User::query().all(&db).unwrap();
/// users[0].posts(); // error: relation `posts` of `User` was not preloaded
/// ```
pub struct Loaded<E: Entity, P: PreloadList<E> = ()> {
    view: E::View<P>,
}

impl<E: Entity, P: PreloadList<E>> Loaded<E, P> {
    pub(crate) fn new(entity: E, values: P::Values) -> Self {
        Loaded {
            view: entity.into_view::<P>(values),
        }
    }

    /// The entity without its relations.
    pub fn entity(&self) -> &E {
        E::view_entity::<P>(&self.view)
    }

    /// The preloaded values, one per relation of `P`.
    #[cfg_attr(not(feature = "serde"), allow(dead_code))]
    pub(crate) fn values(&self) -> &P::Values {
        E::view_values::<P>(&self.view)
    }

    /// Takes the entity out, dropping its preloaded relations.
    pub fn into_entity(self) -> E {
        E::view_into_parts::<P>(self.view).0
    }

    /// The entity and its preloaded values, apart.
    pub(crate) fn into_parts(self) -> (E, P::Values) {
        E::view_into_parts::<P>(self.view)
    }
}

/// Each row with its values, in one pass; an internal error if the
/// preloads made a different number of values than there are rows.
pub(crate) fn zip_loaded<E: Entity, P: PreloadList<E>>(
    rows: Vec<E>,
    values: impl ExactSizeIterator<Item = P::Values>,
) -> crate::error::Result<Vec<Loaded<E, P>>> {
    if values.len() != rows.len() {
        return Err(crate::engine::internal(
            "a preload made a value for a different number of rows",
        ));
    }
    Ok(rows
        .into_iter()
        .zip(values)
        .map(|(entity, values)| Loaded::new(entity, values))
        .collect())
}

impl<E: Entity, P: PreloadList<E>> Deref for Loaded<E, P> {
    type Target = E::View<P>;
    fn deref(&self) -> &E::View<P> {
        &self.view
    }
}

impl<E: Entity, P: PreloadList<E>> AsRef<E> for Loaded<E, P> {
    fn as_ref(&self) -> &E {
        self.entity()
    }
}

impl<E, P> Clone for Loaded<E, P>
where
    E: Entity + Clone,
    P: PreloadList<E>,
    P::Values: Clone,
{
    fn clone(&self) -> Self {
        Loaded::new(
            self.entity().clone(),
            E::view_values::<P>(&self.view).clone(),
        )
    }
}

impl<E, P> fmt::Debug for Loaded<E, P>
where
    E: Entity + fmt::Debug,
    P: DebugValues<E>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct(E::META.name);
        out.field("entity", self.entity());
        P::debug_values(E::view_values::<P>(&self.view), &mut out);
        out.finish()
    }
}
