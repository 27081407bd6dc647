//! `belongs_to`: the owner holds the foreign key.

use std::borrow::Cow;
use std::sync::Arc;

use super::level::{Facts, Kind, LevelNode, Marker, Plan, Read, Received};
use crate::diagnostics::Usage;
use crate::engine::keys::{KeyMap, KeySet, key_array};
use crate::engine::select::{OwnerFilter, SelectParts, select};
use crate::engine::{Decoded, Io, Owners};
use crate::entity::{Entity, Keyed};
use crate::error::Result;
use crate::loaded::Loaded;
use crate::preload::{One, PreloadList, With};
use crate::relation::{BelongsTo, SharedTarget, Target, missing};
use crate::scope::{Param, Scope};
use crate::sql::Backend;

/// A `belongs_to` preload: each distinct key is asked for once and its
/// target shared by every owner that refers to it. `G` says what a `NULL`
/// or dangling key gives.
pub struct Targets<R, N, G>(Marker<(R, N, G)>);

/// The target of a key that may be `NULL` or dangling: `None`.
pub struct Optional;
/// The target of a key that must refer to a row: a `NULL` or dangling key
/// is [`Error::MissingRelated`](crate::Error::MissingRelated).
pub struct Required;

/// What an owner holds for the target its key names, if any.
pub trait Found<R: BelongsTo, N: PreloadList<R::Target>> {
    /// Where an owner's target is among the loaded targets, once checked.
    type Index: Copy;
    /// What one owner holds.
    type Output: Send + Sync;
    /// Where the target of `owner` is: `at` (`None` if its key is `NULL`
    /// or names nothing), or why it cannot be.
    fn index(owner: &R::Owner, at: Option<usize>, backend: Backend) -> Result<Self::Index>;
    /// The value of an owner whose target is at `index` among `all`.
    fn output(
        all: &Arc<Vec<Target<R, N>>>,
        index: Self::Index,
        usage: &Option<Arc<Usage>>,
    ) -> Self::Output;
}

impl<R: BelongsTo, N: PreloadList<R::Target>> Found<R, N> for Optional {
    type Index = Option<usize>;
    type Output = Option<SharedTarget<R, N>>;

    fn index(_: &R::Owner, at: Option<usize>, _: Backend) -> Result<Option<usize>> {
        Ok(at)
    }

    fn output(
        all: &Arc<Vec<Target<R, N>>>,
        index: Option<usize>,
        usage: &Option<Arc<Usage>>,
    ) -> Self::Output {
        index.map(|index| One::new(Arc::clone(all), index, usage.clone()))
    }
}

impl<R: BelongsTo, N: PreloadList<R::Target>> Found<R, N> for Required {
    type Index = usize;
    type Output = SharedTarget<R, N>;

    fn index(owner: &R::Owner, at: Option<usize>, backend: Backend) -> Result<usize> {
        let sql = <R::Target as Entity>::META.sql.select_by_keys.text(backend);
        at.ok_or_else(|| missing::<R>(R::foreign_key(owner), sql))
    }

    fn output(
        all: &Arc<Vec<Target<R, N>>>,
        index: usize,
        usage: &Option<Arc<Usage>>,
    ) -> Self::Output {
        One::new(Arc::clone(all), index, usage.clone())
    }
}

/// The engine's state for a `belongs_to` preload whose key may be `NULL`.
pub type OptionalBelongsToNode<R, N> = LevelNode<Targets<R, N, Optional>>;
/// The engine's state for a `belongs_to` preload whose key must refer to a row.
pub type BelongsToNode<R, N> = LevelNode<Targets<R, N, Required>>;

impl<R: BelongsTo, N: PreloadList<R::Target>, G: Found<R, N>> Kind for Targets<R, N, G> {
    type Owner = R::Owner;
    type Target = R::Target;
    type Nested = N;
    type Handle = With<R, N>;
    type Sink = Decoded<R::Target>;
    type Links = ();
    type Output = G::Output;
    const NAME: &'static str = R::NAME;

    fn nested(handle: &With<R, N>) -> &N {
        handle.nested()
    }

    fn plan(_: &With<R, N>, owners: Owners<'_, R::Owner>, io: &Io) -> Result<Plan<Self::Sink>> {
        let target = &<R::Target as Entity>::META;
        if let Some(rows) = owners.rows {
            // Each distinct key once; `NULL` keys are never asked for.
            let mut distinct: KeySet<&<R::Target as Keyed>::Key> =
                KeySet::with_capacity_and_hasher(rows.len(), Default::default());
            distinct.extend(rows.iter().filter_map(R::foreign_key));
            if distinct.is_empty() {
                return Ok(Plan::Nothing);
            }
            let keys = key_array(distinct.into_iter());
            return Ok(Plan::Send(Read::fixed(
                target.name,
                target.sql.select_by_keys.text(io.backend),
                vec![Param::Array(keys)],
                Decoded::new(),
            )));
        }
        let Some(owners) = owners.sql else {
            return Ok(Plan::Wait);
        };
        let parts = SelectParts {
            columns: target.sql.column_list,
            from: target.sql.from,
            table: target.sql.table,
            owner: Some(target.sql.primary_key),
            owner_column: false,
            primary_key: target.sql.primary_key,
        };
        let filter = OwnerFilter::Subquery {
            owners,
            column: R::FOREIGN_KEY,
        };
        let per_run = filter.plans_per_run();
        let select = select(io.backend, &parts, filter, &Scope::<R::Target>::default());
        Ok(Plan::Send(Read {
            entity: target.name,
            owners: Some(select.owner_sql()),
            sql: Cow::Owned(select.sql),
            params: select.params,
            sink: Decoded::new(),
            whole: false,
            per_run,
            follows: false,
        }))
    }

    fn receive(
        _: &With<R, N>,
        sink: Decoded<R::Target>,
        _: &[R::Owner],
    ) -> Result<Received<R::Target, ()>> {
        Ok(Received {
            targets: sink.rows,
            links: (),
            complete: true,
        })
    }

    fn assemble(
        handle: &With<R, N>,
        targets: Vec<Loaded<R::Target, N>>,
        _: Option<()>,
        owners: &[R::Owner],
        facts: Facts,
    ) -> Result<impl ExactSizeIterator<Item = G::Output> + use<R, N, G>> {
        let usage = handle.usage(facts.track_usage);
        let target_index: KeyMap<&<R::Target as Keyed>::Key, usize> = targets
            .iter()
            .enumerate()
            .map(|(index, target)| (target.entity().key(), index))
            .collect();
        let indexes = owners
            .iter()
            .map(|owner| {
                let at = R::foreign_key(owner).and_then(|key| target_index.get(key).copied());
                G::index(owner, at, facts.backend)
            })
            .collect::<Result<Vec<_>>>()?;
        drop(target_index);
        let all = Arc::new(targets);
        Ok(indexes
            .into_iter()
            .map(move |index| G::output(&all, index, &usage)))
    }
}
