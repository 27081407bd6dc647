//! Lazy loaders: one statement for one owner's relation, counted by the
//! N+1 detection.

use std::panic::Location;

use super::{BelongsTo, HasMany, ManyToMany, Relation, missing};
use crate::engine::{FetchJob, Map, Ready};
use crate::entity::{Entity, Keyed};
use crate::executor::Executor;
use crate::scope::Param;
use crate::sql::Sql;

/// A fetch of `R`'s targets with `sql` and `key`, as a lazy load of `R`
/// called at `location`.
fn lazy<R: Relation>(
    sql: Sql,
    key: Param,
    location: &'static Location<'static>,
) -> FetchJob<R::Target> {
    FetchJob::new(sql, vec![key]).lazy(<R::Owner as Entity>::META.name, R::NAME, location)
}

fn first<T>(rows: Vec<T>, _: crate::sql::Backend) -> crate::Result<Option<T>> {
    Ok(rows.into_iter().next())
}

/// The targets of `owner` with `sql`, which binds the owner's key.
#[track_caller]
fn by_owner_key<R: Relation<Owner: Keyed>, X: Executor>(
    db: X,
    sql: Sql,
    owner: &R::Owner,
) -> X::Output<Vec<R::Target>> {
    db.run(lazy::<R>(sql, Param::of(owner.key()), Location::caller()))
}

/// The children of one owner, with one query.
#[track_caller]
pub fn lazy_has_many<R: HasMany, X: Executor>(
    db: X,
    owner: &R::Owner,
) -> X::Output<Vec<R::Target>> {
    by_owner_key::<R, X>(db, R::SQL.lazy, owner)
}

/// The first child (by primary key) of one owner, with one query.
#[track_caller]
pub fn lazy_has_one<R: HasMany, X: Executor>(
    db: X,
    owner: &R::Owner,
) -> X::Output<Option<R::Target>> {
    let job = lazy::<R>(R::SQL.lazy, Param::of(owner.key()), Location::caller());
    db.run(Map::new(job, first))
}

/// The targets of one owner, with one query.
#[track_caller]
pub fn lazy_many_to_many<R: ManyToMany, X: Executor>(
    db: X,
    owner: &R::Owner,
) -> X::Output<Vec<R::Target>> {
    by_owner_key::<R, X>(db, R::SQL.lazy, owner)
}

/// The target an owner refers to, with one query; `Ok(None)` without a
/// query when the foreign key is `NULL`, and when it refers to no row.
#[track_caller]
pub fn lazy_belongs_to_optional<R: BelongsTo, X: Executor>(
    db: X,
    owner: &R::Owner,
) -> X::Output<Option<R::Target>> {
    let Some(key) = R::foreign_key(owner) else {
        return db.run(Ready::new(None));
    };
    let sql = <R::Target as Entity>::META.sql.select_by_key;
    db.run(Map::new(
        lazy::<R>(sql, Param::of(key), Location::caller()),
        first,
    ))
}

/// The target an owner refers to, with one query; a dangling or `NULL` key
/// is [`Error::MissingRelated`](crate::Error::MissingRelated).
#[track_caller]
pub fn lazy_belongs_to<R: BelongsTo, X: Executor>(db: X, owner: &R::Owner) -> X::Output<R::Target> {
    let sql = <R::Target as Entity>::META.sql.select_by_key;
    let key = R::foreign_key(owner).cloned();
    let Some(param) = key.as_ref().map(Param::of) else {
        let missing = Map::new(Ready::new(()), move |(), backend| {
            Err(missing::<R>(
                None::<&<R::Target as Keyed>::Key>,
                sql.text(backend),
            ))
        });
        return db.run(missing);
    };
    let job = lazy::<R>(sql, param, Location::caller());
    db.run(Map::new(job, move |rows: Vec<R::Target>, backend| {
        rows.into_iter()
            .next()
            .ok_or_else(|| missing::<R>(key.as_ref(), sql.text(backend)))
    }))
}

/// The target of one type of a polymorphic relation, wrapped in the
/// relation's enum by `wrap`; `Ok(None)` without a query when the key is
/// `NULL` or the type column names another target.
#[track_caller]
pub fn lazy_polymorphic<R: BelongsTo, X: Executor, T: Send + 'static>(
    db: X,
    owner: &R::Owner,
    wrap: fn(R::Target) -> T,
) -> X::Output<Option<T>> {
    let Some(key) = R::foreign_key(owner) else {
        return db.run(Ready::new(None));
    };
    let sql = <R::Target as Entity>::META.sql.select_by_key;
    db.run(Map::new(
        lazy::<R>(sql, Param::of(key), Location::caller()),
        move |rows: Vec<R::Target>, _| Ok(rows.into_iter().next().map(wrap)),
    ))
}

/// A polymorphic relation's lazy load when the type column names none of
/// its targets: [`Error::UnknownType`](crate::Error::UnknownType), without a
/// query.
pub fn lazy_unknown_type<M: crate::polymorphic::Polymorphic, X: Executor, T: Send + 'static>(
    db: X,
    owner: &M::Owner,
) -> X::Output<Option<T>> {
    let error = crate::polymorphic::unknown_type::<M>(owner);
    db.run(Map::new(Ready::new(()), move |(), _| Err(error)))
}
