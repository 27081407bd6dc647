//! How a relation names its target so that a target that is not an entity
//! (or, for a `belongs_to`, has no single-column key) is one error.
//!
//! The derive cannot know whether `Post` in `#[has_many(Post, ...)]`
//! derives `Entity`. Written as `Post` in every item that needs it, a
//! non-entity is reported once per item (the marker's `Relation` impl, the
//! preload impl, the accessor, ...). Instead the marker's `Relation::Target`
//! is `<Select<{ Probe::<Post>::ENTITY }> as Pick<Post, K, M>>::Target`: `Post`
//! when it is an entity, else [`NotAnEntity`], which is one; every other
//! item names `<Marker as Relation>::Target`, so none of them fails. The one
//! error is then the derive's own reference to `<Post as Entity>::COLUMNS`,
//! always written the same way at the same span, so rustc prints it once.

use std::marker::PhantomData;

use crate::entity::{Entity, EntityMeta, Key, Keyed};
use crate::preload::PreloadList;
use crate::row::{FieldError, Row};

/// Asks, without an error either way, whether `T` is an entity: the
/// inherent constants exist when the bound holds, and the path falls back to
/// [`ProbeFallback`]'s `false` when it does not.
pub struct Probe<T: ?Sized>(PhantomData<T>);

/// The `false` answers of [`Probe`].
pub trait ProbeFallback {
    /// `T` is not an entity.
    const ENTITY: bool = false;
    /// `T` has no single-column primary key (or is not an entity).
    const KEYED: bool = false;
}

impl<T: ?Sized> ProbeFallback for Probe<T> {}

impl<T: Entity> Probe<T> {
    /// `T` is an entity.
    pub const ENTITY: bool = true;
}

impl<T: Keyed> Probe<T> {
    /// `T` has a single-column primary key.
    pub const KEYED: bool = true;
}

/// Chooses a relation's target type from a [`Probe`] answer.
pub struct Select<const OK: bool>;

/// `T` for `Select<true>`, [`NotAnEntity<K, M>`] for `Select<false>`.
pub trait Pick<T: ?Sized, K, M> {
    /// The chosen type.
    type Target: Entity;
}

impl<T: Entity, K, M> Pick<T, K, M> for Select<true> {
    type Target = T;
}

impl<T: ?Sized, K: Key, M: 'static> Pick<T, K, M> for Select<false> {
    type Target = NotAnEntity<K, M>;
}

/// Stands in for a relation target that is not an entity, in a crate that
/// does not compile: an entity whose key has the type `K` the relation's
/// foreign key refers to, so that nothing else is reported. `M` is the
/// relation's marker, so that two stand-ins are never the same type.
///
/// No value of it can be made (its field is private and nothing returns
/// one), so the methods that take one cannot be reached.
pub struct NotAnEntity<K, M>(PhantomData<fn() -> (K, M)>);

#[diagnostic::do_not_recommend]
impl<K: Key, M: 'static> Entity for NotAnEntity<K, M> {
    type Columns = ();
    type View<P: PreloadList<Self>> = Self;
    const META: EntityMeta = EntityMeta::placeholder("NotAnEntity");
    const COLUMNS: () = ();

    fn decode(_: &Row<'_>, offset: usize) -> Result<Self, FieldError> {
        Err(FieldError::new(
            offset,
            "`NotAnEntity` stands in for a relation target that is not an entity; it has no rows",
        ))
    }
    fn into_view<P: PreloadList<Self>>(self, _: P::Values) -> Self {
        self
    }
    fn view_entity<P: PreloadList<Self>>(view: &Self) -> &Self {
        view
    }
    fn view_values<P: PreloadList<Self>>(_: &Self) -> &P::Values {
        unreachable!("no `NotAnEntity` value exists")
    }
    fn view_into_parts<P: PreloadList<Self>>(_: Self) -> (Self, P::Values) {
        unreachable!("no `NotAnEntity` value exists")
    }
}

#[diagnostic::do_not_recommend]
impl<K: Key, M: 'static> Keyed for NotAnEntity<K, M> {
    type Key = K;
    fn key(&self) -> &K {
        unreachable!("no `NotAnEntity` value exists")
    }
}

#[cfg(feature = "serde")]
impl<K, M> serde::Serialize for NotAnEntity<K, M> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_unit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Plain;

    #[test]
    fn probes_answer_without_errors() {
        const { assert!(!<Probe<Plain>>::ENTITY) };
        const { assert!(!<Probe<Plain>>::KEYED) };
        let _: fn() -> <Select<false> as Pick<Plain, i64, Plain>>::Target =
            || NotAnEntity(PhantomData);
    }
}
