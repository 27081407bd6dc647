//! `has_many` and `has_one`: the target rows hold the foreign key.

use std::sync::Arc;

use super::keys::{RelatedStatements, group_runs, owner_index, read_related};
use super::{HasMany, SharedTarget, Target};
use crate::db::{Db, decode};
use crate::entity::{Entity, Keyed};
use crate::error::Result;
use crate::loaded::Loaded;
use crate::preload::{Many, One, PreloadList};
use crate::row::Row;
use crate::scope::{Param, Scope, SelectParts};

/// The children of one owner, with one query.
#[track_caller]
pub fn lazy_has_many<R: HasMany>(db: &Db, owner: &R::Owner) -> Result<Vec<R::Target>> {
    db.lazy_load(<R::Owner as Entity>::META.name, R::NAME)?;
    db.fetch(R::SQL.lazy.text(db.backend()), &[Param::of(owner.key())])
}

/// The first child (by primary key) of one owner, with one query.
#[track_caller]
pub fn lazy_has_one<R: HasMany>(db: &Db, owner: &R::Owner) -> Result<Option<R::Target>> {
    Ok(lazy_has_many::<R>(db, owner)?.into_iter().next())
}

/// Preloads a `has_many` for every owner with one query.
pub fn preload_has_many<R: HasMany, N: PreloadList<R::Target>>(
    db: &Db,
    owners: &[R::Owner],
    whole: bool,
    scope: &Scope<R::Target>,
    nested: &N,
) -> Result<Vec<Many<Target<R, N>>>> {
    if owners.is_empty() {
        return Ok(Vec::new());
    }
    let Children {
        rows,
        owner_of,
        whole,
    } = read_children::<R>(db, owners, whole, scope, false)?;
    let loaded = load_nested::<R, N>(db, rows, whole, nested)?;
    let (loaded, ranges) = group_runs(loaded, owner_of, owners.len());
    let all = Arc::new(loaded);
    let usage = db.usage(<R::Owner as Entity>::META.name, R::NAME, scope.site);
    Ok(ranges
        .into_iter()
        .map(|(start, end)| Many::new(Arc::clone(&all), start, end, usage.clone()))
        .collect())
}

/// Preloads a `has_one` for every owner with one query: the child with the
/// smallest primary key, as the lazy loader returns.
pub fn preload_has_one<R: HasMany, N: PreloadList<R::Target>>(
    db: &Db,
    owners: &[R::Owner],
    whole: bool,
    scope: &Scope<R::Target>,
    nested: &N,
) -> Result<Vec<Option<SharedTarget<R, N>>>> {
    if owners.is_empty() {
        return Ok(Vec::new());
    }
    let Children {
        rows,
        owner_of,
        whole,
    } = read_children::<R>(db, owners, whole, scope, true)?;
    let loaded = load_nested::<R, N>(db, rows, whole, nested)?;
    let mut child_of = vec![None; owners.len()];
    for (index, owner) in owner_of.into_iter().enumerate() {
        child_of[owner] = Some(index);
    }
    let all = Arc::new(loaded);
    let usage = db.usage(<R::Owner as Entity>::META.name, R::NAME, scope.site);
    Ok(child_of
        .into_iter()
        .map(|index| index.map(|index| One::new(Arc::clone(&all), index, usage.clone())))
        .collect())
}

/// The children of a set of owners, each with the index of its owner.
struct Children<R: HasMany> {
    rows: Vec<R::Target>,
    owner_of: Vec<usize>,
    /// Whether `rows` holds every row of the target table (which lets the
    /// nested preloads read their tables whole too).
    whole: bool,
}

/// Loads the nested preloads of `rows` and joins each row with its values.
fn load_nested<R: HasMany, N: PreloadList<R::Target>>(
    db: &Db,
    rows: Vec<R::Target>,
    whole: bool,
    nested: &N,
) -> Result<Vec<Target<R, N>>> {
    let values = nested.load(db, &rows, whole)?;
    Ok(rows
        .into_iter()
        .zip(values)
        .map(|(child, values)| Loaded::new(child, values))
        .collect())
}

/// Reads the children of `owners` with one statement: the whole table when
/// the owners are every row of theirs, else the owners' keys as one array.
/// With `first_only`, keeps the first child of each owner.
fn read_children<R: HasMany>(
    db: &Db,
    owners: &[R::Owner],
    whole: bool,
    scope: &Scope<R::Target>,
    first_only: bool,
) -> Result<Children<R>> {
    let owner_index = owner_index(owners);
    let mut taken = vec![false; if first_only { owners.len() } else { 0 }];
    let mut rows: Vec<R::Target> = Vec::new();
    let mut owner_of: Vec<usize> = Vec::new();
    let mut skipped = 0usize;
    let mut read = |row: &Row<'_>, sql: &str| -> Result<()> {
        let child: R::Target = decode(row, 0, sql)?;
        // Rows come ordered by foreign key: look a key up once per run.
        let same_as_previous = rows
            .last()
            .is_some_and(|previous| R::foreign_key(previous) == R::foreign_key(&child));
        let owner = if same_as_previous {
            owner_of.last().copied()
        } else {
            R::foreign_key(&child).and_then(|key| owner_index.get(key).copied())
        };
        // A keyless read also sees rows that belong to no owner (NULL or
        // dangling keys); `first_only` skips an owner's later children.
        match owner {
            Some(owner) if !first_only || !std::mem::replace(&mut taken[owner], true) => {
                rows.push(child);
                owner_of.push(owner);
            }
            _ => skipped += 1,
        }
        Ok(())
    };
    let target = &<R::Target as Entity>::META;
    let statements = RelatedStatements {
        entity: target.name,
        whole: R::SQL.whole,
        keyed: R::SQL.keyed,
        parts: SelectParts {
            columns: target.sql.column_list,
            from: target.sql.from,
            table: target.sql.table,
            owner: Some(R::SQL.foreign_key),
            owner_column: false,
            primary_key: target.sql.primary_key,
        },
    };
    read_related(db, statements, owners, whole, scope, &mut read)?;
    Ok(Children {
        rows,
        owner_of,
        whole: whole && skipped == 0 && scope.selects_all(),
    })
}
