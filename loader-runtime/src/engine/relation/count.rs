//! Related counts: how many targets each owner has, without loading them.

use std::any::Any;
use std::borrow::Cow;

use super::level::{Facts, Kind, LevelNode, Marker, Plan, Read, Received, name_owners};
use crate::engine::keys::owner_index;
use crate::engine::select::count;
use crate::engine::{Io, Owners, Sink};
use crate::entity::{Entity, Keyed};
use crate::error::{Error, Result};
use crate::loaded::Loaded;
use crate::preload::Count;
use crate::relation::Counted;
use crate::row::Row;

/// Each owner key the statement grouped by, with its count.
pub struct Counts<K> {
    counts: Vec<(Option<K>, i64)>,
    entity: &'static str,
}

impl<K: crate::entity::Key> Sink for Counts<K> {
    fn row(&mut self, row: &Row<'_>, sql: &str) -> Result<()> {
        let entity = self.entity;
        let decode_error = |source: crate::row::FieldError| Error::Decode {
            entity,
            column: "COUNT(*)",
            key: None,
            sql: sql.to_owned().into(),
            source: source.into_source(),
        };
        // A NULL owner key groups rows that belong to no owner.
        let key: Option<K> = row.get(0).map_err(decode_error)?;
        let count: i64 = row.get(1).map_err(decode_error)?;
        self.counts.push((key, count));
        Ok(())
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
}

/// A counted relation: how many targets each owner has.
pub struct Counting<R>(Marker<R>);

/// The engine's state for a counted relation.
pub type CountNode<R> = LevelNode<Counting<R>>;

impl<R: Counted> Kind for Counting<R> {
    type Owner = R::Owner;
    type Target = R::Target;
    type Nested = ();
    type Handle = Count<R>;
    type Sink = Counts<<R::Owner as Keyed>::Key>;
    /// Each owner's count.
    type Links = Vec<usize>;
    type Output = usize;
    const NAME: &'static str = R::NAME;

    fn nested(_: &Count<R>) -> &() {
        &()
    }

    fn plan(handle: &Count<R>, owners: Owners<'_, R::Owner>, io: &Io) -> Result<Plan<Self::Sink>> {
        let filter = match name_owners(owners, true)?.filter() {
            Ok(filter) => filter,
            Err(pending) => return Ok(pending.into()),
        };
        let per_run = filter.plans_per_run();
        let (sql, params) = count(
            io.backend,
            R::COUNT.owner,
            R::COUNT.from,
            Some((
                <R::Target as Entity>::META.sql.table,
                <R::Target as Entity>::META.sql.primary_key,
            )),
            filter,
            handle.scope(),
        );
        let entity = <R::Target as Entity>::META.name;
        Ok(Plan::Send(Read {
            entity,
            sql: Cow::Owned(sql),
            params,
            sink: Counts {
                counts: Vec::new(),
                entity,
            },
            owners: None,
            whole: false,
            per_run,
            follows: false,
        }))
    }

    fn receive(
        _: &Count<R>,
        sink: Self::Sink,
        owners: &[R::Owner],
    ) -> Result<Received<R::Target, Vec<usize>>> {
        let owner_index = owner_index(owners);
        let mut counts = vec![0usize; owners.len()];
        for (key, count) in sink.counts {
            if let Some(&index) = key.as_ref().and_then(|key| owner_index.get(key)) {
                counts[index] = usize::try_from(count).unwrap_or(0);
            }
        }
        Ok(Received {
            targets: Vec::new(),
            links: counts,
            complete: true,
        })
    }

    fn assemble(
        _: &Count<R>,
        _: Vec<Loaded<R::Target, ()>>,
        counts: Option<Vec<usize>>,
        owners: &[R::Owner],
        _: Facts,
    ) -> Result<impl ExactSizeIterator<Item = usize> + use<R>> {
        Ok(counts.unwrap_or_else(|| vec![0; owners.len()]).into_iter())
    }
}
