//! Relations between entities, as the derive declares them, and their lazy
//! loaders (one query per owner). Preloading them (one query for all
//! owners) is the engine's work.

mod lazy;

use std::borrow::Cow;

pub use lazy::{
    lazy_belongs_to, lazy_belongs_to_optional, lazy_has_many, lazy_has_one, lazy_many_to_many,
};

use crate::entity::{Entity, Keyed};
use crate::error::Error;
use crate::loaded::Loaded;
use crate::preload::{One, PreloadList};
use crate::sql::Sql;

/// A relation declared on entity `Owner` (`#[has_many]`, `#[belongs_to]`):
/// implemented by the derive for a marker type per relation.
pub trait Relation: Sized + 'static {
    /// The entity that declares the relation.
    type Owner: Entity;
    /// The related entity.
    type Target: Entity;
    /// What one owner holds once the relation is preloaded with nested
    /// preloads `N`.
    type Output<N: PreloadList<Self::Target>>;
    /// The relation's name (`posts`).
    const NAME: &'static str;
}

/// A relation whose targets can be filtered, ordered and limited per owner
/// (every kind but `belongs_to`, which loads the one row its key names).
#[diagnostic::on_unimplemented(
    message = "relation `{Self}` is a `belongs_to`: it loads the one row its key refers to",
    label = "cannot be filtered, ordered or limited",
    note = "filter the entity that holds the key instead, or declare the relation from the other side as `has_many`"
)]
pub trait Scoped: Relation {}

/// A relation whose targets can be counted per owner without loading them
/// (`has_many` and `many_to_many`).
#[diagnostic::on_unimplemented(
    message = "relation `{Self}` cannot be counted",
    label = "`.count()` needs a `has_many` or `many_to_many` relation",
    note = "a `belongs_to` or `has_one` relation has at most one target per owner"
)]
pub trait Counted: Relation<Owner: Keyed> {
    /// The column that holds the owner's key, and the `FROM` clause.
    const COUNT: CountSql;
}

/// How to count a relation's targets per owner.
#[derive(Debug, Clone, Copy)]
pub struct CountSql {
    /// The qualified column that holds the owner key.
    pub owner: &'static str,
    /// ` FROM "posts"`, or the join of a `many_to_many`.
    pub from: &'static str,
}

/// A loaded target of relation `R` with the nested preloads `N`.
pub type Target<R, N> = Loaded<<R as Relation>::Target, N>;
/// A loaded target of relation `R`, shared by the owners that refer to it.
pub type SharedTarget<R, N> = One<Target<R, N>>;

/// The statements of a `has_many`, emitted by the derive as constants.
#[derive(Debug, Clone, Copy)]
pub struct HasManySql {
    /// Children of the owners whose keys are bound to `?1` as one array,
    /// ordered by foreign key, then primary key.
    pub keyed: Sql,
    /// Every child, ordered by foreign key, then primary key: used when the
    /// owners are every row of their table.
    pub whole: Sql,
    /// The children of one owner (`?1`), ordered by primary key.
    pub lazy: Sql,
    /// The qualified foreign key column, for statements assembled at run
    /// time (scoped preloads and counts).
    pub foreign_key: &'static str,
}

/// A relation whose target rows hold a foreign key to the owner's primary
/// key (`#[has_many]`, `#[has_one]`).
pub trait HasMany: Relation<Owner: Keyed> {
    /// The statements.
    const SQL: HasManySql;
    /// The owner key a target row refers to (`None` for `NULL`).
    fn foreign_key(target: &Self::Target) -> Option<&<Self::Owner as Keyed>::Key>;
}

/// A relation whose owner holds a foreign key to the target's primary key
/// (`#[belongs_to]`).
pub trait BelongsTo: Relation<Target: Keyed> {
    /// The owner's qualified foreign key column.
    const FOREIGN_KEY: &'static str;
    /// The target key the owner refers to (`None` for `NULL`).
    fn foreign_key(owner: &Self::Owner) -> Option<&<Self::Target as Keyed>::Key>;
}

/// The statements of a `many_to_many`, emitted by the derive as constants.
/// Each selects the owner key from the join table, then the target's columns.
#[derive(Debug, Clone, Copy)]
pub struct ManyToManySql {
    /// The targets of the owners whose keys are bound to `?1` as one array,
    /// ordered by owner key, then target key.
    pub keyed: Sql,
    /// The targets of every owner, in the same order.
    pub whole: Sql,
    /// The targets of one owner (`?1`), ordered by target key, without the
    /// owner key column.
    pub lazy: Sql,
    /// The join table's qualified column that holds the owner key.
    pub owner_key: &'static str,
    /// The quoted join table, `"post_tags"`.
    pub through: &'static str,
    /// The join table's qualified column that holds the target key.
    pub target_key: &'static str,
    /// ` FROM <target> JOIN <join table> ON ...`.
    pub from: &'static str,
}

/// A relation through a join table holding both keys (`#[many_to_many]`).
pub trait ManyToMany: Relation<Owner: Keyed, Target: Keyed> {
    /// The statements.
    const SQL: ManyToManySql;
}

pub(crate) fn missing<R: Relation>(key: Option<&impl std::fmt::Debug>, sql: &'static str) -> Error {
    Error::MissingRelated {
        entity: <R::Owner as Entity>::META.name,
        relation: R::NAME,
        target: <R::Target as Entity>::META.name,
        key: key.map_or_else(|| "NULL".to_owned(), |key| format!("{key:?}")),
        sql: Cow::Borrowed(sql),
    }
}
