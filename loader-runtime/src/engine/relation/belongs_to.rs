//! `belongs_to`: the owner holds the foreign key.

use std::borrow::Cow;
use std::sync::Arc;

use super::level::{Kind, Level, Plan, Read, Received};
use crate::engine::keys::{KeyMap, KeySet, key_array};
use crate::engine::select::{OwnerFilter, SelectParts, select};
use crate::engine::{Decoded, Io, Owners};
use crate::entity::{Entity, Keyed};
use crate::error::Result;
use crate::preload::{Node, One, PreloadList, With};
use crate::relation::{BelongsTo, SharedTarget, missing};
use crate::scope::{Param, Scope};

/// Reads the targets the owners' keys refer to, each once.
struct Targets<R>(std::marker::PhantomData<R>);

impl<R: BelongsTo> Kind<R::Owner> for Targets<R> {
    type Target = R::Target;
    type Sink = Decoded<R::Target>;
    type Links = ();

    fn plan(&self, owners: Owners<'_, R::Owner>, io: &Io) -> Result<Plan<Self::Sink>> {
        let target = &<R::Target as Entity>::META;
        let parts = SelectParts {
            columns: target.sql.column_list,
            from: target.sql.from,
            table: target.sql.table,
            owner: Some(target.sql.primary_key),
            owner_column: false,
            primary_key: target.sql.primary_key,
        };
        if let Some(rows) = owners.rows {
            // Each distinct key once; `NULL` keys are never asked for.
            let mut distinct: KeySet<&<R::Target as Keyed>::Key> =
                KeySet::with_capacity_and_hasher(rows.len(), Default::default());
            distinct.extend(rows.iter().filter_map(R::foreign_key));
            if distinct.is_empty() {
                return Ok(Plan::Nothing);
            }
            let keys = key_array(distinct.into_iter())?;
            return Ok(Plan::Send(Read {
                entity: target.name,
                sql: Cow::Borrowed(target.sql.select_by_keys.text(io.backend)),
                params: vec![Param::Array(keys)],
                sink: Decoded::new(),
                owners: None,
                whole: false,
                per_run: false,
            }));
        }
        let Some(owners) = owners.sql else {
            return Ok(Plan::Wait);
        };
        let filter = OwnerFilter::Subquery {
            owners,
            column: R::FOREIGN_KEY,
        };
        let select = select(io.backend, &parts, filter, &Scope::<R::Target>::default());
        Ok(Plan::Send(Read {
            entity: target.name,
            owners: Some(select.owner_sql()),
            sql: Cow::Owned(select.sql),
            params: select.params,
            sink: Decoded::new(),
            whole: false,
            per_run: true,
        }))
    }

    fn receive(&self, sink: Decoded<R::Target>, _: &[R::Owner]) -> Result<Received<R::Target, ()>> {
        Ok(Received {
            targets: sink.rows,
            links: (),
            complete: true,
        })
    }
}

/// The engine's state for a `belongs_to` preload whose key may be `NULL`
/// or dangling: `None` for those owners.
pub struct OptionalBelongsToNode<R: BelongsTo, N: PreloadList<R::Target>> {
    level: Level<R::Target, (), N>,
}

impl<R: BelongsTo, N: PreloadList<R::Target>> Node<R::Owner> for OptionalBelongsToNode<R, N>
where
    R::Target: Send,
{
    type Handle = With<R, N>;
    type Output = Option<SharedTarget<R, N>>;

    fn start(handle: &With<R, N>) -> Self {
        OptionalBelongsToNode {
            level: Level::start(handle.nested()),
        }
    }

    fn step(
        &mut self,
        handle: &With<R, N>,
        owners: Owners<'_, R::Owner>,
        io: &mut Io,
    ) -> Result<()> {
        let kind = Targets::<R>(std::marker::PhantomData);
        self.level.step(&kind, R::NAME, handle.nested(), owners, io)
    }

    fn waiting(&self) -> bool {
        self.level.waiting()
    }

    fn finish(self, handle: &With<R, N>, owners: &[R::Owner]) -> Result<Vec<Self::Output>> {
        let usage = handle.usage(self.level.track_usage);
        let (loaded, _) = self.level.finish(handle.nested())?;
        let all = Arc::new(loaded);
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
}

/// The engine's state for a `belongs_to` preload whose key must refer to a
/// row: a `NULL` or dangling key is
/// [`Error::MissingRelated`](crate::Error::MissingRelated).
pub struct BelongsToNode<R: BelongsTo, N: PreloadList<R::Target>> {
    inner: OptionalBelongsToNode<R, N>,
    backend: crate::sql::Backend,
}

impl<R: BelongsTo, N: PreloadList<R::Target>> Node<R::Owner> for BelongsToNode<R, N>
where
    R::Target: Send,
{
    type Handle = With<R, N>;
    type Output = SharedTarget<R, N>;

    fn start(handle: &With<R, N>) -> Self {
        BelongsToNode {
            inner: OptionalBelongsToNode::start(handle),
            backend: crate::sql::Backend::Sqlite,
        }
    }

    fn step(
        &mut self,
        handle: &With<R, N>,
        owners: Owners<'_, R::Owner>,
        io: &mut Io,
    ) -> Result<()> {
        self.backend = io.backend;
        self.inner.step(handle, owners, io)
    }

    fn waiting(&self) -> bool {
        self.inner.waiting()
    }

    fn finish(self, handle: &With<R, N>, owners: &[R::Owner]) -> Result<Vec<Self::Output>> {
        let sql = <R::Target as Entity>::META
            .sql
            .select_by_keys
            .text(self.backend);
        self.inner
            .finish(handle, owners)?
            .into_iter()
            .zip(owners)
            .map(|(target, owner)| target.ok_or_else(|| missing::<R>(R::foreign_key(owner), sql)))
            .collect()
    }
}
