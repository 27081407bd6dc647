//! Relations between entities and the code that loads them, lazily (one
//! query per owner) or preloaded (one query for all owners).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::sync::Arc;

use rusqlite::types::{ToSql, ToSqlOutput, Value};

use crate::db::{Db, decode};
use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::loaded::Loaded;
use crate::preload::{Many, One, PreloadList};

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

    /// Loads the relation for every owner with one query, then the nested
    /// preloads `N` with one query each.
    #[doc(hidden)]
    fn load<N: PreloadList<Self::Target>>(
        db: &Db,
        owners: &[Self::Owner],
        whole: bool,
        nested: &N,
    ) -> Result<Vec<Self::Output<N>>>;
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
    pub keyed: &'static str,
    /// Every child, ordered by foreign key, then primary key: used when the
    /// owners are every row of their table.
    pub whole: &'static str,
    /// The children of one owner (`?1`), ordered by primary key.
    pub lazy: &'static str,
}

/// A relation whose target rows hold a foreign key to the owner's primary
/// key (`#[has_many]`).
pub trait HasMany: Relation {
    /// The statements.
    const SQL: HasManySql;
    /// The owner key a target row refers to (`None` for `NULL`).
    fn foreign_key(target: &Self::Target) -> Option<&<Self::Owner as Entity>::Key>;
}

/// A relation whose owner holds a foreign key to the target's primary key
/// (`#[belongs_to]`).
pub trait BelongsTo: Relation {
    /// The target key the owner refers to (`None` for `NULL`).
    fn foreign_key(owner: &Self::Owner) -> Option<&<Self::Target as Entity>::Key>;
}

/// The children of one owner, with one query.
pub fn lazy_has_many<R: HasMany>(db: &Db, owner: &R::Owner) -> Result<Vec<R::Target>> {
    db.fetch(R::SQL.lazy, [owner.key()], 1)
}

/// The target an owner refers to, with one query; `Ok(None)` without a
/// query when the foreign key is `NULL`, and when it refers to no row.
pub fn lazy_belongs_to_optional<R: BelongsTo>(
    db: &Db,
    owner: &R::Owner,
) -> Result<Option<R::Target>> {
    let Some(key) = R::foreign_key(owner) else {
        return Ok(None);
    };
    let sql = <R::Target as Entity>::META.sql.select_by_key;
    Ok(db.fetch(sql, [key], 1)?.into_iter().next())
}

/// The target an owner refers to, with one query; a dangling or `NULL` key
/// is [`Error::MissingRelated`].
pub fn lazy_belongs_to<R: BelongsTo>(db: &Db, owner: &R::Owner) -> Result<R::Target> {
    let sql = <R::Target as Entity>::META.sql.select_by_key;
    lazy_belongs_to_optional::<R>(db, owner)?
        .ok_or_else(|| missing::<R>(R::foreign_key(owner), sql))
}

fn missing<R: Relation>(key: Option<&impl std::fmt::Debug>, sql: &'static str) -> Error {
    Error::MissingRelated {
        entity: <R::Owner as Entity>::META.name,
        relation: R::NAME,
        target: <R::Target as Entity>::META.name,
        key: key.map_or_else(|| "NULL".to_owned(), |key| format!("{key:?}")),
        sql: Cow::Borrowed(sql),
    }
}

/// Preloads a `has_many` for every owner with one query.
pub fn preload_has_many<R: HasMany, N: PreloadList<R::Target>>(
    db: &Db,
    owners: &[R::Owner],
    whole: bool,
    nested: &N,
) -> Result<Vec<Many<Target<R, N>>>> {
    if owners.is_empty() {
        return Ok(Vec::new());
    }
    let owner_index: HashMap<&<R::Owner as Entity>::Key, usize> = owners
        .iter()
        .enumerate()
        .map(|(index, owner)| (owner.key(), index))
        .collect();

    let mut children: Vec<R::Target> = Vec::new();
    let mut owner_of: Vec<usize> = Vec::new();
    let mut dropped = 0usize;
    let mut read = |row: &rusqlite::Row<'_>, sql: &'static str| -> Result<()> {
        let child: R::Target = decode(row, 0, sql)?;
        // Rows come ordered by foreign key: look a key up once per run.
        let same_as_previous = children
            .last()
            .is_some_and(|previous| R::foreign_key(previous) == R::foreign_key(&child));
        let owner = if same_as_previous {
            owner_of.last().copied()
        } else {
            R::foreign_key(&child).and_then(|key| owner_index.get(key).copied())
        };
        match owner {
            Some(owner) => {
                children.push(child);
                owner_of.push(owner);
            }
            // Only a keyless (`whole`) read sees rows that belong to no
            // owner: NULL or dangling foreign keys.
            None => dropped += 1,
        }
        Ok(())
    };
    let entity = <R::Target as Entity>::META.name;
    if whole {
        let sql = R::SQL.whole;
        db.fetch_with(entity, sql, (), 0, |row| read(row, sql))?;
    } else {
        let sql = R::SQL.keyed;
        let keys = key_array(owners.iter().map(Entity::key))?;
        db.fetch_with(entity, sql, [keys], owners.len(), |row| read(row, sql))?;
    }

    let nested_values = nested.load(db, &children, whole && dropped == 0)?;
    let loaded: Vec<Loaded<R::Target, N>> = children
        .into_iter()
        .zip(nested_values)
        .map(|(child, values)| Loaded::new(child, values))
        .collect();
    let (loaded, ranges) = group_runs(loaded, owner_of, owners.len());
    let all = Arc::new(loaded);
    Ok(ranges
        .into_iter()
        .map(|(start, end)| Many::new(Arc::clone(&all), start, end))
        .collect())
}

/// Makes each owner's children one contiguous run and returns the run of
/// each owner. Rows ordered by foreign key are already grouped; a collation
/// that orders keys differently from Rust's equality (e.g. `NOCASE`) is put
/// right with a stable sort, which keeps the order within each owner.
fn group_runs<T>(
    items: Vec<T>,
    owner_of: Vec<usize>,
    owners: usize,
) -> (Vec<T>, Vec<(usize, usize)>) {
    let mut ranges = vec![(0usize, 0usize); owners];
    let mut seen = vec![false; owners];
    let mut grouped = true;
    let mut start = 0;
    while start < owner_of.len() {
        let owner = owner_of[start];
        let mut end = start + 1;
        while end < owner_of.len() && owner_of[end] == owner {
            end += 1;
        }
        if seen[owner] {
            grouped = false;
            break;
        }
        seen[owner] = true;
        ranges[owner] = (start, end);
        start = end;
    }
    if grouped {
        return (items, ranges);
    }
    let mut pairs: Vec<(usize, T)> = owner_of.into_iter().zip(items).collect();
    pairs.sort_by_key(|(owner, _)| *owner);
    let (owner_of, items): (Vec<usize>, Vec<T>) = pairs.into_iter().unzip();
    group_runs(items, owner_of, owners)
}

/// Preloads a `belongs_to` for every owner with one query; each distinct key
/// is asked for once and its target shared by every owner that refers to it.
/// `None` for a `NULL` key or one that refers to no row.
pub fn preload_belongs_to_optional<R: BelongsTo, N: PreloadList<R::Target>>(
    db: &Db,
    owners: &[R::Owner],
    nested: &N,
) -> Result<Vec<Option<SharedTarget<R, N>>>> {
    let mut distinct: HashSet<&<R::Target as Entity>::Key> = HashSet::new();
    for owner in owners {
        if let Some(key) = R::foreign_key(owner) {
            distinct.insert(key);
        }
    }
    if distinct.is_empty() {
        return Ok(owners.iter().map(|_| None).collect());
    }
    let sql = <R::Target as Entity>::META.sql.select_by_keys;
    let keys = key_array(distinct.iter().copied())?;
    let targets: Vec<R::Target> = db.fetch(sql, [keys], distinct.len())?;
    drop(distinct);

    let nested_values = nested.load(db, &targets, false)?;
    let loaded: Vec<Loaded<R::Target, N>> = targets
        .into_iter()
        .zip(nested_values)
        .map(|(target, values)| Loaded::new(target, values))
        .collect();
    let all = Arc::new(loaded);
    let target_index: HashMap<&<R::Target as Entity>::Key, usize> = all
        .iter()
        .enumerate()
        .map(|(index, target)| (target.entity().key(), index))
        .collect();
    Ok(owners
        .iter()
        .map(|owner| {
            let index = R::foreign_key(owner).and_then(|key| target_index.get(key));
            index.map(|&index| One::new(Arc::clone(&all), index))
        })
        .collect())
}

/// Like [`preload_belongs_to_optional`], for a foreign key that must refer
/// to a row: a `NULL` or dangling key is [`Error::MissingRelated`].
pub fn preload_belongs_to<R: BelongsTo, N: PreloadList<R::Target>>(
    db: &Db,
    owners: &[R::Owner],
    nested: &N,
) -> Result<Vec<One<Target<R, N>>>> {
    let sql = <R::Target as Entity>::META.sql.select_by_keys;
    preload_belongs_to_optional::<R, N>(db, owners, nested)?
        .into_iter()
        .zip(owners)
        .map(|(target, owner)| target.ok_or_else(|| missing::<R>(R::foreign_key(owner), sql)))
        .collect()
}

/// Binds a key set as one `rarray` parameter: one statement for any number
/// of keys, and no bound-variable limit.
fn key_array<'k, K: ToSql + 'k>(keys: impl Iterator<Item = &'k K>) -> Result<Rc<Vec<Value>>> {
    let values = keys
        .map(|key| match key.to_sql()? {
            ToSqlOutput::Borrowed(value) => Value::try_from(value).map_err(rusqlite::Error::from),
            ToSqlOutput::Owned(value) => Ok(value),
            _ => Err(rusqlite::Error::ToSqlConversionFailure(
                "a key must convert to a plain SQL value".into(),
            )),
        })
        .collect::<rusqlite::Result<Vec<Value>>>()?;
    Ok(Rc::new(values))
}
