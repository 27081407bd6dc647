//! `many_to_many`: a join table holds both keys; one JOIN loads the targets
//! of every owner, and a target shared by several owners is decoded once.

use std::sync::Arc;

use super::keys::{KeyMap, RelatedStatements, group_runs, owner_index, read_related};
use super::{ManyToMany, Target};
use crate::db::{Db, decode};
use crate::entity::{Entity, Keyed};
use crate::error::{Error, Result};
use crate::loaded::Loaded;
use crate::preload::{ManyShared, PreloadList};
use crate::row::Row;
use crate::scope::{Param, Scope, SelectParts};

/// The targets of one owner, with one query.
#[track_caller]
pub fn lazy_many_to_many<R: ManyToMany>(db: &Db, owner: &R::Owner) -> Result<Vec<R::Target>> {
    db.lazy_load(<R::Owner as Entity>::META.name, R::NAME)?;
    db.fetch(R::SQL.lazy.text(db.backend()), &[Param::of(owner.key())])
}

/// Preloads a `many_to_many` for every owner with one query.
pub fn preload_many_to_many<R: ManyToMany, N: PreloadList<R::Target>>(
    db: &Db,
    owners: &[R::Owner],
    whole: bool,
    scope: &Scope<R::Target>,
    nested: &N,
) -> Result<Vec<ManyShared<Target<R, N>>>> {
    if owners.is_empty() {
        return Ok(Vec::new());
    }
    let owner_index = owner_index(owners);
    let target_meta = &<R::Target as Entity>::META;
    // The target's key columns, after the owner key in column 0.
    let target_key_column = 1 + target_meta.primary_key.first().copied().unwrap_or(0);

    let mut targets: Vec<R::Target> = Vec::new();
    let mut target_index: KeyMap<<R::Target as Keyed>::Key, usize> = KeyMap::default();
    let mut owner_of: Vec<usize> = Vec::new();
    let mut target_of: Vec<usize> = Vec::new();
    let mut read = |row: &Row<'_>, sql: &str| -> Result<()> {
        let owner_key: <R::Owner as Keyed>::Key = row.get(0).map_err(|source| Error::Decode {
            entity: <R::Owner as Entity>::META.name,
            column: "key of the join table",
            key: None,
            sql: sql.to_owned().into(),
            source: source.into_source(),
        })?;
        // A keyless read also sees join rows of no loaded owner.
        let Some(&owner) = owner_index.get(&owner_key) else {
            return Ok(());
        };
        let target_key: <R::Target as Keyed>::Key = match row.get(target_key_column) {
            Ok(key) => key,
            // Let the full decode report the problem with the row's context.
            Err(_) => decode::<R::Target>(row, 1, sql)?.key().clone(),
        };
        let target = match target_index.get(&target_key) {
            Some(&index) => index,
            None => {
                targets.push(decode(row, 1, sql)?);
                target_index.insert(target_key, targets.len() - 1);
                targets.len() - 1
            }
        };
        owner_of.push(owner);
        target_of.push(target);
        Ok(())
    };
    let statements = RelatedStatements {
        entity: target_meta.name,
        whole: R::SQL.whole,
        keyed: R::SQL.keyed,
        parts: SelectParts {
            columns: target_meta.sql.column_list,
            from: R::SQL.from,
            table: target_meta.sql.table,
            owner: Some(R::SQL.owner_key),
            owner_column: true,
            primary_key: target_meta.sql.primary_key,
        },
    };
    read_related(db, statements, owners, whole, scope, &mut read)?;
    drop(target_index);

    let values = nested.load(db, &targets, false)?;
    let loaded: Vec<Loaded<R::Target, N>> = targets
        .into_iter()
        .zip(values)
        .map(|(target, values)| Loaded::new(target, values))
        .collect();
    let (target_of, ranges) = group_runs(target_of, owner_of, owners.len());
    let all = Arc::new(loaded);
    let order = Arc::new(target_of);
    let usage = db.usage(<R::Owner as Entity>::META.name, R::NAME, scope.site);
    Ok(ranges
        .into_iter()
        .map(|(start, end)| {
            ManyShared::new(
                Arc::clone(&all),
                Arc::clone(&order),
                start,
                end,
                usage.clone(),
            )
        })
        .collect())
}
