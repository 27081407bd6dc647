//! `belongs_to`: the owner holds the foreign key.

use std::sync::Arc;

use super::keys::{KeyMap, KeySet, key_array};
use super::{BelongsTo, SharedTarget, missing};
use crate::db::Db;
use crate::entity::{Entity, Keyed};
use crate::error::Result;
use crate::loaded::Loaded;
use crate::preload::{One, PreloadList};
use crate::scope::{Param, Scope};

/// The target an owner refers to, with one query; `Ok(None)` without a
/// query when the foreign key is `NULL`, and when it refers to no row.
#[track_caller]
pub fn lazy_belongs_to_optional<R: BelongsTo>(
    db: &Db,
    owner: &R::Owner,
) -> Result<Option<R::Target>> {
    let Some(key) = R::foreign_key(owner) else {
        return Ok(None);
    };
    db.lazy_load(<R::Owner as Entity>::META.name, R::NAME)?;
    let sql = <R::Target as Entity>::META
        .sql
        .select_by_key
        .text(db.backend());
    Ok(db.fetch(sql, &[Param::of(key)])?.into_iter().next())
}

/// The target an owner refers to, with one query; a dangling or `NULL` key
/// is [`Error::MissingRelated`](crate::Error::MissingRelated).
#[track_caller]
pub fn lazy_belongs_to<R: BelongsTo>(db: &Db, owner: &R::Owner) -> Result<R::Target> {
    let sql = <R::Target as Entity>::META
        .sql
        .select_by_key
        .text(db.backend());
    lazy_belongs_to_optional::<R>(db, owner)?
        .ok_or_else(|| missing::<R>(R::foreign_key(owner), sql))
}

/// Preloads a `belongs_to` for every owner with one query; each distinct key
/// is asked for once and its target shared by every owner that refers to it.
/// `None` for a `NULL` key or one that refers to no row.
pub fn preload_belongs_to_optional<R: BelongsTo, N: PreloadList<R::Target>>(
    db: &Db,
    owners: &[R::Owner],
    scope: &Scope<R::Target>,
    nested: &N,
) -> Result<Vec<Option<SharedTarget<R, N>>>> {
    let mut distinct: KeySet<&<R::Target as Keyed>::Key> =
        KeySet::with_capacity_and_hasher(owners.len(), Default::default());
    for owner in owners {
        if let Some(key) = R::foreign_key(owner) {
            distinct.insert(key);
        }
    }
    if distinct.is_empty() {
        return Ok(owners.iter().map(|_| None).collect());
    }
    let sql = <R::Target as Entity>::META
        .sql
        .select_by_keys
        .text(db.backend());
    let keys = key_array(distinct.iter().copied())?;
    let targets: Vec<R::Target> = db.fetch(sql, &[Param::Array(keys)])?;
    drop(distinct);

    let nested_values = nested.load(db, &targets, false)?;
    let loaded: Vec<Loaded<R::Target, N>> = targets
        .into_iter()
        .zip(nested_values)
        .map(|(target, values)| Loaded::new(target, values))
        .collect();
    let all = Arc::new(loaded);
    let usage = db.usage(<R::Owner as Entity>::META.name, R::NAME, scope.site);
    let target_index: KeyMap<&<R::Target as Keyed>::Key, usize> = all
        .iter()
        .enumerate()
        .map(|(index, target)| (target.entity().key(), index))
        .collect();
    Ok(owners
        .iter()
        .map(|owner| {
            let index = R::foreign_key(owner).and_then(|key| target_index.get(key));
            index.map(|&index| One::new(Arc::clone(&all), index, usage.clone()))
        })
        .collect())
}

/// Like [`preload_belongs_to_optional`], for a foreign key that must refer
/// to a row: a `NULL` or dangling key is
/// [`Error::MissingRelated`](crate::Error::MissingRelated).
pub fn preload_belongs_to<R: BelongsTo, N: PreloadList<R::Target>>(
    db: &Db,
    owners: &[R::Owner],
    scope: &Scope<R::Target>,
    nested: &N,
) -> Result<Vec<SharedTarget<R, N>>> {
    let sql = <R::Target as Entity>::META
        .sql
        .select_by_keys
        .text(db.backend());
    preload_belongs_to_optional::<R, N>(db, owners, scope, nested)?
        .into_iter()
        .zip(owners)
        .map(|(target, owner)| target.ok_or_else(|| missing::<R>(R::foreign_key(owner), sql)))
        .collect()
}
