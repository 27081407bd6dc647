//! Related counts: how many targets each owner has, without loading them.

use super::Counted;
use super::keys::{key_array, owner_index};
use crate::db::Db;
use crate::entity::{Entity, Keyed};
use crate::error::{Error, Result};
use crate::scope::{Scope, scoped_count};

/// Counts the targets of every owner with one `GROUP BY` statement,
/// honouring the scope's filter.
pub fn preload_count<R: Counted>(
    db: &Db,
    owners: &[R::Owner],
    whole: bool,
    scope: &Scope<R::Target>,
) -> Result<Vec<usize>> {
    if owners.is_empty() {
        return Ok(Vec::new());
    }
    let owner_index = owner_index(owners);
    let keys = if whole {
        None
    } else {
        Some(key_array(owners.iter().map(Keyed::key))?)
    };
    let (sql, params) = scoped_count(db.backend(), R::COUNT.owner, R::COUNT.from, keys, scope);
    let mut counts = vec![0usize; owners.len()];
    let entity = <R::Target as Entity>::META.name;
    db.fetch_with(entity, sql, &params, |row, sql| {
        let decode_error = |source: crate::row::FieldError| Error::Decode {
            entity,
            column: "COUNT(*)",
            key: None,
            sql: sql.to_owned().into(),
            source: source.into_source(),
        };
        // A NULL owner key groups rows that belong to no owner.
        let key: Option<<R::Owner as Keyed>::Key> = row.get(0).map_err(decode_error)?;
        let count: i64 = row.get(1).map_err(decode_error)?;
        if let Some(&index) = key.as_ref().and_then(|key| owner_index.get(key)) {
            counts[index] = usize::try_from(count).unwrap_or(0);
        }
        Ok(())
    })?;
    Ok(counts)
}
