//! What `#[derive(Entity)]` implements: the table mapping of one struct.

use std::fmt::Debug;
use std::hash::Hash;

use crate::preload::PreloadList;
use crate::row::{FieldError, Row};
use crate::sql::Sql;
use crate::types::{Field, ToValue};

/// A struct mapped to a table by `#[derive(Entity)]`.
///
/// Implement it with the derive, never by hand: the derive emits the SQL, the
/// row decoder and the relation code from the struct's attributes, and the
/// items of this trait are how the generated code of *other* entities refers
/// to this one. Users call the inherent functions the derive adds instead
/// (`User::all`, `User::find`, `User::query`, the relation handles).
///
/// ```
/// use loader_runtime::{Db, Entity};
///
/// #[derive(Entity, Debug, PartialEq)]
/// #[entity(table = "users")]
/// struct User {
///     id: i64,
///     #[entity(column = "UserName")]
///     name: String,
/// }
///
/// let db = Db::open_in_memory()?;
/// db.execute_batch(
///     "CREATE TABLE users (id INTEGER PRIMARY KEY, UserName TEXT NOT NULL);
///      INSERT INTO users VALUES (1, 'ada'), (2, 'grace');",
/// )?;
/// assert_eq!(User::all(&db)?.len(), 2);
/// assert_eq!(User::find(&db, &2)?, Some(User { id: 2, name: "grace".into() }));
/// assert_eq!(User::find(&db, &3)?, None);
/// assert_eq!(<User as Entity>::META.table, "users");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an entity",
    label = "`{Self}` does not derive `Entity`",
    note = "add `#[derive(loader_runtime::Entity)]` to the struct `{Self}`"
)]
pub trait Entity: Sized + Send + Sync + 'static {
    /// A struct with one [`Column`](crate::Column) per field, named like the fields.
    type Columns: 'static;
    /// The value behind [`Loaded<Self, P>`](crate::Loaded): this entity plus
    /// the relations `P` preloaded for it, with one accessor per relation.
    type View<P: PreloadList<Self>>: Send + Sync;

    /// Table, columns and the statements that read this entity.
    const META: EntityMeta;
    /// The typed columns of this entity.
    const COLUMNS: Self::Columns;

    /// Decodes one row whose columns are [`EntityMeta::columns`] in order,
    /// starting at column `offset`.
    fn decode(row: &Row<'_>, offset: usize) -> Result<Self, FieldError>;

    /// Joins an entity with its preloaded relations.
    #[doc(hidden)]
    fn into_view<P: PreloadList<Self>>(self, values: P::Values) -> Self::View<P>;
    /// The entity part of a view.
    #[doc(hidden)]
    fn view_entity<P: PreloadList<Self>>(view: &Self::View<P>) -> &Self;
    /// The preloaded part of a view.
    #[doc(hidden)]
    fn view_values<P: PreloadList<Self>>(view: &Self::View<P>) -> &P::Values;
    /// Splits a view into its parts.
    #[doc(hidden)]
    fn view_into_parts<P: PreloadList<Self>>(view: Self::View<P>) -> (Self, P::Values);
}

/// An entity with a single-column primary key: every entity except those
/// whose table has a composite key (which can still be read, hold
/// `belongs_to` relations and serve as join tables).
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no single-column primary key",
    label = "`{Self}` has a composite primary key",
    note = "`has_many`, `has_one` and `many_to_many` need their owner to have a single-column primary key, and every relation needs one on its target"
)]
pub trait Keyed: Entity {
    /// The primary key's type.
    type Key: Key;
    /// This row's primary key.
    fn key(&self) -> &Self::Key;
}

/// Static facts about an entity, emitted by the derive at compile time.
#[derive(Debug, Clone, Copy)]
pub struct EntityMeta {
    /// The Rust struct's name, for messages.
    pub name: &'static str,
    /// The table name, unquoted.
    pub table: &'static str,
    /// The column names in field order, unquoted.
    pub columns: &'static [&'static str],
    /// The positions of the primary key's columns in `columns` (more than
    /// one for a composite key).
    pub primary_key: &'static [usize],
    /// The statements of this entity.
    pub sql: EntitySql,
}

/// The statements of an entity, emitted by the derive as string constants.
#[derive(Debug, Clone, Copy)]
pub struct EntitySql {
    /// The quoted table name, e.g. `"users"`.
    pub table: &'static str,
    /// ` FROM "users"`, for statements assembled at run time.
    pub from: &'static str,
    /// The quoted, comma-separated column list, e.g. `"users"."id", "users"."name"`.
    pub column_list: &'static str,
    /// The quoted primary key column(s), e.g. `"users"."id"`.
    pub primary_key: &'static str,
    /// Every row, ordered by primary key.
    pub select_all: Sql,
    /// One row by primary key (one parameter per key column).
    pub select_by_key: Sql,
    /// The rows whose primary key is in the array bound to the first
    /// parameter, in no particular order (each row is matched to its key;
    /// an `ORDER BY` cost SQLite a sort); empty for a composite key.
    pub select_by_keys: Sql,
}

/// A type usable as a primary key: integers, text, UUIDs, newtype ids,
/// anything that can be read from a row ([`Field`]), bound as a parameter
/// ([`ToValue`]) and hashed.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a primary key",
    note = "a primary key must implement `Clone + Eq + Hash + Debug`, `loader_runtime::Field` and `loader_runtime::ToValue` (integers, `String`, `uuid::Uuid` do; a newtype can with `#[derive(SqlType)]`)"
)]
pub trait Key: Clone + Eq + Hash + Debug + ToValue + Field + Send + Sync + 'static {}
// The key's own message, not each of its missing parts.
#[diagnostic::do_not_recommend]
impl<T: Clone + Eq + Hash + Debug + ToValue + Field + Send + Sync + 'static> Key for T {}

/// A field that can refer to a primary key of type `K`: `K` itself, or
/// `Option<K>` for a nullable foreign key.
#[diagnostic::on_unimplemented(
    message = "a foreign key of type `{Self}` cannot refer to a primary key of type `{K}`",
    label = "this foreign key has type `{Self}`",
    note = "the foreign key field must have the referenced primary key's type `{K}`, or `Option<{K}>` if it is nullable"
)]
pub trait ForeignKey<K> {
    /// The referenced key, or `None` for SQL `NULL`.
    fn as_key(&self) -> Option<&K>;
}

#[diagnostic::do_not_recommend]
impl<K: Key> ForeignKey<K> for K {
    fn as_key(&self) -> Option<&K> {
        Some(self)
    }
}

#[diagnostic::do_not_recommend]
impl<K: Key> ForeignKey<K> for Option<K> {
    fn as_key(&self) -> Option<&K> {
        self.as_ref()
    }
}

impl EntityMeta {
    /// Metadata of an entity whose derive failed, so that the compile error
    /// is not followed by unrelated ones.
    #[doc(hidden)]
    pub const fn placeholder(name: &'static str) -> Self {
        EntityMeta {
            name,
            table: "",
            columns: &[],
            primary_key: &[],
            sql: EntitySql {
                table: "",
                from: "",
                column_list: "",
                primary_key: "",
                select_all: Sql::EMPTY,
                select_by_key: Sql::EMPTY,
                select_by_keys: Sql::EMPTY,
            },
        }
    }
}
