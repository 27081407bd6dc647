//! Conditions on related rows: `u.posts().any(|p| p.published.eq(true))`,
//! each an `EXISTS` subquery (never a join that repeats rows, never a
//! count), its values bound like any other.

use std::marker::PhantomData;
use std::sync::Arc;

use crate::entity::Entity;
use crate::relation::Relation;
use crate::scope::{Alias, Expr, Params, Piece, render};

/// How a relation's target rows are found from an owner row, for the
/// subquery of a relation filter. Emitted by the derive.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum Correlation {
    /// The target's qualified foreign key holds the owner's key
    /// (`has_many`, `has_one`).
    Child {
        /// `"posts"."author_id"`.
        target_fk: &'static str,
    },
    /// Like `Child`, for the inverse of a polymorphic relation: the
    /// target's type column must also name the owner's type.
    TypedChild {
        /// `"comments"."commentable_id"`.
        target_fk: &'static str,
        /// `"comments"."commentable_type"`.
        type_column: &'static str,
        /// The owner's type as an SQL string literal, `'post'`.
        type_sql: &'static str,
    },
    /// Like `Parent`, for one target type of a polymorphic relation: the
    /// owner's type column must also name the target's type.
    TypedParent {
        /// `"comments"."commentable_id"`.
        owner_fk: &'static str,
        /// `"comments"."commentable_type"`.
        type_column: &'static str,
        /// The target's type as an SQL string literal, `'post'`.
        type_sql: &'static str,
    },
    /// The owner's qualified foreign key holds the target's key
    /// (`belongs_to`).
    Parent {
        /// `"posts"."author_id"`.
        owner_fk: &'static str,
    },
    /// A join table holds both keys (`many_to_many`).
    Through {
        /// The quoted join table, `"post_tags"`.
        through: &'static str,
        /// Its qualified column holding the owner's key.
        owner_key: &'static str,
        /// Its qualified column holding the target's key.
        target_key: &'static str,
    },
    /// Through a middle entity (`#[has_many(Comment, through = "posts")]`):
    /// the owner's relation `first` to the middle, then the middle's
    /// relation `second` to the target, each an `EXISTS` of its own.
    Via {
        /// The middle entity's quoted table.
        middle_table: &'static str,
        /// Its qualified primary key.
        middle_key: &'static str,
        /// From the owner to the middle.
        first: &'static Correlation,
        /// From the middle to the target.
        second: &'static Correlation,
    },
}

/// A relation that can be filtered on. Implemented by the derive.
#[doc(hidden)]
pub trait Correlated: Relation {
    /// How its targets are found.
    const CORRELATION: Correlation;
}

/// A relation with any number of targets per owner (`has_many`,
/// `many_to_many`, and `has_one`): filtered with [`any`](RelationFilter::any),
/// [`none`](RelationFilter::none) and [`every`](RelationFilter::every).
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "relation `{Self}` has one target per owner",
    label = "`any`, `none`, `every` and `is_empty` are for relations with many targets",
    note = "filter a `belongs_to` with `.is(|target| ...)` or `.exists()`"
)]
pub trait ToMany: Correlated {}

/// A relation with one target per owner (`belongs_to`): filtered with
/// [`is`](RelationFilter::is).
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "relation `{Self}` can have many targets per owner",
    label = "`is` is for a `belongs_to`",
    note = "filter it with `.any(|target| ...)`, `.none(...)`, `.every(...)`, `.exists()` or `.is_empty()`"
)]
pub trait ToOne: Correlated {}

/// A relation of the entity being filtered, reached in a `filter` closure
/// as `u.posts()`: its methods make a condition on the related rows.
///
/// ```
/// use loader_runtime::{Db, Entity};
///
/// #[derive(Entity)]
/// #[entity(table = "users")]
/// #[has_many(Post, fk = "author_id")]
/// struct User { id: i64, name: String }
///
/// #[derive(Entity)]
/// #[entity(table = "posts")]
/// #[belongs_to(User, fk = "author_id", name = "author")]
/// struct Post { id: i64, author_id: i64, published: bool }
///
/// let db = Db::open_in_memory()?;
/// db.execute_batch(
///     "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
///      CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL, published BOOLEAN NOT NULL);
///      INSERT INTO users VALUES (1, 'ada'), (2, 'grace'), (3, 'edsger');
///      INSERT INTO posts VALUES (1, 1, 1), (2, 2, 0), (3, 2, 0);",
/// )?;
/// let names = |users: Vec<loader_runtime::Loaded<User>>| users.iter().map(|u| u.name.clone()).collect::<Vec<_>>();
/// // Users with a published post: EXISTS (SELECT 1 FROM "posts" ... AND published = ?1).
/// let published = User::query().filter(|u| u.posts().any(|p| p.published.eq(true))).all(&db)?;
/// assert_eq!(names(published), ["ada"]);
/// // Users all of whose posts are drafts (edsger has none, so all of his are).
/// let drafts = User::query().filter(|u| u.posts().every(|p| p.published.eq(false))).all(&db)?;
/// assert_eq!(names(drafts), ["grace", "edsger"]);
/// // Users without posts.
/// let idle = User::query().filter(|u| u.posts().none(|_| true.into())).all(&db)?;
/// assert_eq!(names(idle), ["edsger"]);
/// // Posts whose author is grace.
/// let hers = Post::query().filter(|p| p.author().is(|u| u.name.eq("grace"))).all(&db)?;
/// assert_eq!(hers.len(), 2);
/// # Ok::<(), loader_runtime::Error>(())
/// ```
pub struct RelationFilter<R> {
    relation: PhantomData<fn() -> R>,
}

impl<R> RelationFilter<R> {
    #[doc(hidden)]
    pub const fn new() -> Self {
        RelationFilter {
            relation: PhantomData,
        }
    }
}

impl<R> Default for RelationFilter<R> {
    fn default() -> Self {
        RelationFilter::new()
    }
}

/// The condition on one target that the subquery tests.
type Condition<R> = Expr<<R as Relation>::Target>;
/// What builds it from the target's columns.
type Columns<R> = <<R as Relation>::Target as Entity>::Columns;

impl<R: Correlated> RelationFilter<R> {
    /// Owners with at least one target matching `condition` (SQL
    /// `EXISTS`).
    pub fn any(self, condition: impl FnOnce(&Columns<R>) -> Condition<R>) -> Expr<R::Owner>
    where
        R: ToMany,
    {
        exists::<R>(Mode::Any, Some(condition(&<R::Target as Entity>::COLUMNS)))
    }

    /// Owners with no target matching `condition` (SQL `NOT EXISTS`),
    /// owners without targets included.
    pub fn none(self, condition: impl FnOnce(&Columns<R>) -> Condition<R>) -> Expr<R::Owner>
    where
        R: ToMany,
    {
        exists::<R>(Mode::None, Some(condition(&<R::Target as Entity>::COLUMNS)))
    }

    /// Owners without targets.
    pub fn is_empty(self) -> Expr<R::Owner>
    where
        R: ToMany,
    {
        exists::<R>(Mode::None, None)
    }

    /// Owners whose every target matches `condition`, owners without
    /// targets included (no target fails it). A target for which the
    /// condition is `NULL` does not match.
    pub fn every(self, condition: impl FnOnce(&Columns<R>) -> Condition<R>) -> Expr<R::Owner>
    where
        R: ToMany,
    {
        exists::<R>(
            Mode::Every,
            Some(condition(&<R::Target as Entity>::COLUMNS)),
        )
    }
}

impl<R: Correlated> RelationFilter<R> {
    /// Owners whose target matches `condition`; an owner whose key is
    /// `NULL` or refers to no row does not.
    pub fn is(self, condition: impl FnOnce(&Columns<R>) -> Condition<R>) -> Expr<R::Owner>
    where
        R: ToOne,
    {
        exists::<R>(Mode::Any, Some(condition(&<R::Target as Entity>::COLUMNS)))
    }
}

impl<R: Correlated> RelationFilter<R> {
    /// Owners with at least one target: for a `belongs_to`, whose key
    /// refers to a row (not `NULL`, not dangling).
    pub fn exists(self) -> Expr<R::Owner> {
        exists::<R>(Mode::Any, None)
    }
}

impl<E: Entity> From<bool> for Expr<E> {
    /// A constant condition: `TRUE` or `FALSE` (`1 = 1`, `1 = 0`, which
    /// both databases read).
    fn from(value: bool) -> Self {
        Expr::from_pieces(vec![Piece::Sql(if value { "1 = 1" } else { "1 = 0" })])
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// `EXISTS (... AND (cond))`.
    Any,
    /// `NOT EXISTS (... AND (cond))`.
    None,
    /// `NOT EXISTS (... AND (cond) IS NOT TRUE)`.
    Every,
    /// `EXISTS (... AND (cond) IS NOT TRUE)`: the inner half of `Every`
    /// through a middle entity.
    AnyFailing,
}

/// One relation filter, as a piece of its owner's condition.
#[derive(Debug)]
pub(crate) struct Exists {
    mode: Mode,
    correlation: Correlation,
    owner_table: &'static str,
    owner_key: &'static str,
    target_table: &'static str,
    target_key: &'static str,
    condition: Option<Vec<Piece>>,
}

fn exists<R: Correlated>(mode: Mode, condition: Option<Condition<R>>) -> Expr<R::Owner> {
    let owner = <R::Owner as Entity>::META.sql;
    let target = <R::Target as Entity>::META.sql;
    Expr::from_pieces(vec![Piece::Related(Arc::new(Exists {
        mode,
        correlation: R::CORRELATION,
        owner_table: owner.table,
        owner_key: owner.primary_key,
        target_table: target.table,
        target_key: target.primary_key,
        condition: condition.map(Expr::into_pieces),
    }))])
}

impl Exists {
    /// `EXISTS (SELECT 1 FROM "posts" AS "r1" WHERE "r1"."author_id" =
    /// "users"."id" AND (...))`, the owner's columns written as `owner`
    /// writes them, the target's with an alias of this depth.
    pub(crate) fn render(&self, owner: &Alias, sql: &mut String, params: &mut Params) {
        if let Correlation::Via {
            middle_table,
            middle_key,
            first,
            second,
        } = self.correlation
        {
            // Owners with a middle row that has a matching target: `every`
            // becomes "no middle row has a target that fails".
            let (outer, inner) = match self.mode {
                Mode::Any => (Mode::Any, Mode::Any),
                Mode::None => (Mode::None, Mode::Any),
                Mode::Every => (Mode::None, Mode::AnyFailing),
                Mode::AnyFailing => (Mode::Any, Mode::AnyFailing),
            };
            let inner = Exists {
                mode: inner,
                correlation: *second,
                owner_table: middle_table,
                owner_key: middle_key,
                target_table: self.target_table,
                target_key: self.target_key,
                condition: self.condition.clone(),
            };
            let outer = Exists {
                mode: outer,
                correlation: *first,
                owner_table: self.owner_table,
                owner_key: self.owner_key,
                target_table: middle_table,
                target_key: middle_key,
                condition: Some(vec![Piece::Related(Arc::new(inner))]),
            };
            return outer.render(owner, sql, params);
        }
        let depth = owner.depth + 1;
        let target = Alias {
            table: self.target_table,
            alias: Some(format!("\"r{depth}\"")),
            depth,
        };
        let target_alias = target.alias.as_deref().unwrap_or_default();
        sql.push_str(if matches!(self.mode, Mode::Any | Mode::AnyFailing) {
            "EXISTS (SELECT 1 FROM "
        } else {
            "NOT EXISTS (SELECT 1 FROM "
        });
        match self.correlation {
            Correlation::Child { target_fk } => {
                push_table(sql, self.target_table, target_alias);
                sql.push_str(" WHERE ");
                target.column(target_fk, sql);
                sql.push_str(" = ");
                owner_column(owner, self.owner_table, self.owner_key, sql);
            }
            Correlation::TypedChild {
                target_fk,
                type_column,
                type_sql,
            } => {
                push_table(sql, self.target_table, target_alias);
                sql.push_str(" WHERE ");
                target.column(target_fk, sql);
                sql.push_str(" = ");
                owner_column(owner, self.owner_table, self.owner_key, sql);
                sql.push_str(" AND ");
                target.column(type_column, sql);
                sql.push_str(" = ");
                sql.push_str(type_sql);
            }
            Correlation::TypedParent {
                owner_fk,
                type_column,
                type_sql,
            } => {
                push_table(sql, self.target_table, target_alias);
                sql.push_str(" WHERE ");
                target.column(self.target_key, sql);
                sql.push_str(" = ");
                owner_column(owner, self.owner_table, owner_fk, sql);
                sql.push_str(" AND ");
                owner_column(owner, self.owner_table, type_column, sql);
                sql.push_str(" = ");
                sql.push_str(type_sql);
            }
            Correlation::Parent { owner_fk } => {
                push_table(sql, self.target_table, target_alias);
                sql.push_str(" WHERE ");
                target.column(self.target_key, sql);
                sql.push_str(" = ");
                owner_column(owner, self.owner_table, owner_fk, sql);
            }
            Correlation::Through {
                through,
                owner_key,
                target_key,
            } => {
                let join = Alias {
                    table: through,
                    alias: Some(format!("\"j{depth}\"")),
                    depth,
                };
                push_table(sql, through, join.alias.as_deref().unwrap_or_default());
                sql.push_str(" JOIN ");
                push_table(sql, self.target_table, target_alias);
                sql.push_str(" ON ");
                target.column(self.target_key, sql);
                sql.push_str(" = ");
                join.column(target_key, sql);
                sql.push_str(" WHERE ");
                join.column(owner_key, sql);
                sql.push_str(" = ");
                owner_column(owner, self.owner_table, self.owner_key, sql);
            }
            // Rendered above as two nested subqueries.
            Correlation::Via { .. } => {}
        }
        if let Some(condition) = &self.condition {
            sql.push_str(" AND (");
            render(condition, &target, sql, params);
            sql.push_str(if matches!(self.mode, Mode::Every | Mode::AnyFailing) {
                ") IS NOT TRUE"
            } else {
                ")"
            });
        }
        sql.push(')');
    }
}

/// `"posts" AS "r1"`.
fn push_table(sql: &mut String, table: &str, alias: &str) {
    sql.push_str(table);
    sql.push_str(" AS ");
    sql.push_str(alias);
}

/// An owner column, aliased if the owner is itself a subquery's target.
fn owner_column(owner: &Alias, table: &'static str, qualified: &'static str, sql: &mut String) {
    let aliased = Alias {
        table,
        alias: owner.alias.clone(),
        depth: owner.depth,
    };
    aliased.column(qualified, sql);
}
