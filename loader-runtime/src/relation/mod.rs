//! Relations between entities, as the derive declares them, and their lazy
//! loaders (one query per owner). Preloading them (one query for all
//! owners) is the engine's work.

mod lazy;
mod target;

use std::borrow::Cow;

#[doc(hidden)]
pub use target::{NotAnEntity, Pick, Probe, ProbeFallback, Select};

pub use lazy::{
    lazy_belongs_to, lazy_belongs_to_optional, lazy_has_many, lazy_has_one, lazy_many_to_many,
    lazy_polymorphic, lazy_unknown_type,
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
    /// Every child, in primary-key order: used when the owners are every
    /// row of their table (the engine groups the children by owner).
    pub whole: Sql,
    /// The children of one owner (`?1`), ordered by primary key.
    pub lazy: Sql,
    /// The qualified foreign key column, for statements assembled at run
    /// time (scoped preloads and counts).
    pub foreign_key: &'static str,
    /// ` FROM "posts"`; for the inverse of a polymorphic relation, the
    /// target's rows of the owner's type only, under the target table's
    /// name (` FROM (SELECT * FROM "comments" WHERE ... = 'post') AS
    /// "comments"`), so every statement and scope reads the same rows.
    pub from: &'static str,
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

/// The statements of a `many_to_many` or a `has_many` through other
/// relations, emitted by the derive as constants. Each selects the owner key
/// (from the join table or the last relation gone through), then the
/// target's columns.
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
    /// The qualified column that holds the owner key.
    pub owner_key: &'static str,
    /// ` FROM <target> JOIN <join table> ON ...`; for a relation through
    /// others whose owner can reach a target by several paths, the target
    /// joined to the distinct (owner, target key) pairs, so no row repeats.
    pub from: &'static str,
    /// Whether a target can belong to several owners (a tag of many posts):
    /// each is then decoded once and shared. A `has_many` through
    /// `has_many` relations has none such, and skips the lookup.
    pub shared: bool,
    /// The join table read alone, for a `many_to_many`; for a relation
    /// through a `has_many` to a `belongs_to` of the middle entity, the
    /// middle table as the join table; none for other relations through
    /// others.
    pub links: Option<LinksSql>,
    /// The middle table and the targets read apart, for a `has_many`
    /// through a `has_many` (or `has_one`) whose relation followed is a
    /// `has_many` (or `has_one`) of the middle entity; none for the others.
    pub middle: Option<MiddleSql>,
}

/// A `has_many` through a `has_many` read without joining the middle table
/// to the targets: each middle row's key and owner key, then the targets
/// with the middle key they refer to, linked by hashing in the engine (see
/// `engine::relation::many_to_many`). The JOIN looks each target's middle
/// row up in the middle table's index: 2.5x the time of reading the two
/// apart on SQLite (`benches/relations.rs`).
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct MiddleSql {
    /// The middle entity's name, for errors.
    pub middle: &'static str,
    /// Its key column, qualified, for errors.
    pub middle_key: &'static str,
    /// Its column holding the owner's key, qualified, for errors.
    pub owner_key: &'static str,
    /// The target's column holding the middle key, qualified, for errors.
    pub target_key: &'static str,
    /// `SELECT <middle key>, <owner key>` of the middle rows of the owners
    /// whose keys are bound to `?1` as one array.
    pub pairs_keyed: Sql,
    /// The same for every middle row.
    pub pairs_whole: Sql,
    /// `SELECT <middle key the target refers to>, <target columns>` of the
    /// targets of the middle rows whose keys are bound to `?1` as one
    /// array, ordered by target key.
    pub targets_keyed: Sql,
    /// The same for every target row.
    pub targets_whole: Sql,
}

/// A `many_to_many`'s join table read apart from the targets: its two key
/// columns only, each target then read once (see
/// `engine::relation::many_to_many`).
#[derive(Debug, Clone, Copy)]
pub struct LinksSql {
    /// `SELECT <owner key>, <target key>` of the owners whose keys are bound
    /// to `?1` as one array, ordered by both.
    pub keyed: Sql,
    /// The same for every row of the join table.
    pub whole: Sql,
    /// The targets some row of the join table links to, ordered by key.
    pub linked: Sql,
    /// `linked` without its `ORDER BY`, as the owners of nested levels.
    pub linked_body: &'static str,
}

/// A relation whose targets are found through a join: a join table holding
/// both keys (`#[many_to_many]`) or other relations
/// (`#[has_many(Comment, through = "posts")]`).
pub trait ManyToMany: Relation<Owner: Keyed, Target: Keyed> {
    /// The key of the middle entity of a relation read through
    /// [`ManyToManySql::middle`]; the target's key for the others, which do
    /// not use it.
    type MiddleKey: crate::entity::Key;
    /// The statements.
    const SQL: ManyToManySql;
}

/// How the rows of a relation's target table lead back to their owners'
/// keys: what a relation declared `through` it (or through a relation that
/// goes through it) joins. Relative to the target table, unaliased; every
/// other table is aliased after the relation's marker, so a chain can pass
/// through one table several times.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Link {
    /// What follows ` FROM <target>`: empty for a `has_many`, the join
    /// table or owner table for the other kinds.
    pub joins: &'static str,
    /// The column that then holds the owner's key.
    pub owner_key: &'static str,
    /// What must also hold for a row to belong to that owner, as
    /// ` AND <condition>` for the join that compares `owner_key` (the type
    /// column of a polymorphic relation's inverse), or empty.
    pub condition: &'static str,
    /// Whether an owner reaches each target at most once.
    pub unique: bool,
    /// Whether each target has at most one owner.
    pub single_owner: bool,
    /// The alias under which `joins` already joins the owner's own table
    /// (a `belongs_to`'s), whose key `owner_key` is: a relation going
    /// through this one reads the owner's other columns there instead of
    /// joining the table again.
    pub owner_alias: Option<&'static str>,
    /// For a `belongs_to`: the owner table's column holding the target's
    /// key, quoted and unqualified (`"category_id"`), so that a relation
    /// going through it can read the owner table's two keys alone; empty
    /// for the other kinds.
    pub target_fk: &'static str,
}

/// The alias a relation going through `link` reads the middle entity's
/// columns under: the one `link` already joined, or `own`.
#[doc(hidden)]
pub const fn middle_alias(link: &Link, own: &'static str) -> &'static str {
    match link.owner_alias {
        Some(alias) => alias,
        None => own,
    }
}

/// A relation that others can go through: `through = "..."` names it on its
/// owner, or it is the relation followed on the middle entity. Implemented
/// by the derive for every relation of an entity with a single-column key.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "relation `{Self}` cannot be gone through: its owner has no single-column primary key",
    note = "a `has_many` through other relations groups its targets by the key of each entity on the way"
)]
pub trait Linked: Relation<Owner: Keyed> {
    /// The joins from the target back to the owner's key.
    const LINK: Link;
}

/// What a `has_many` through another relation needs of the relation it
/// follows on the entity gone through.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Source {
    /// Its joins back to the middle entity's key.
    pub link: Link,
    /// How a relation filter finds its targets.
    pub correlation: &'static crate::related::Correlation,
}

/// The [`Source`] of the relation whose preload handle is `handle`
/// (`Post::comments`), which must lead to `T`. The derive of the entity that
/// goes through names the handle, a function of the middle entity: a
/// relation it lacks is rustc's "no function or associated item named
/// `comments` found for struct `Post`", and one to another entity is
/// "type mismatch resolving `<PostAuthor as Relation>::Target == Comment`",
/// each on the `source` literal.
#[doc(hidden)]
pub const fn source<T, R>(handle: fn() -> crate::preload::With<R>) -> Source
where
    R: Linked<Target = T> + crate::related::Correlated,
{
    let _ = handle;
    Source {
        link: R::LINK,
        correlation: const { &R::CORRELATION },
    }
}

/// `."author_id"` from `"posts"."author_id"` and the table `"posts"`: a
/// qualified column's part after its table, for writing the column with
/// another alias at compile time.
#[doc(hidden)]
pub const fn column_after_table(qualified: &'static str, table: &'static str) -> &'static str {
    let (q, t) = (qualified.as_bytes(), table.as_bytes());
    if q.len() <= t.len() {
        panic!("a qualified column must start with its table");
    }
    let mut index = 0;
    while index < t.len() {
        if q[index] != t[index] {
            panic!("a qualified column must start with its table");
        }
        index += 1;
    }
    let (_, rest) = q.split_at(t.len());
    match core::str::from_utf8(rest) {
        Ok(rest) => rest,
        Err(_) => panic!("a qualified column must start with its table"),
    }
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
