//! Related counts: how many targets each owner has, without loading them.

use std::any::Any;
use std::borrow::Cow;

use super::level::{Kind, Level, Naming, Plan, Read, Received, name_owners};
use crate::engine::keys::owner_index;
use crate::engine::select::count;
use crate::engine::{Io, Owners, Sink};
use crate::entity::{Entity, Keyed};
use crate::error::{Error, Result};
use crate::preload::{Count, Node};
use crate::relation::Counted;
use crate::row::Row;
use crate::scope::Scope;

/// Each owner key the statement grouped by, with its count.
pub(crate) struct Counts<K> {
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

struct Counting<'s, R: Counted> {
    scope: &'s Scope<R::Target>,
}

impl<R: Counted> Kind<R::Owner> for Counting<'_, R> {
    type Target = R::Target;
    type Sink = Counts<<R::Owner as Keyed>::Key>;
    type Links = Vec<usize>;

    fn plan(&self, owners: Owners<'_, R::Owner>, io: &Io) -> Result<Plan<Self::Sink>> {
        let filter = match name_owners(owners, true)? {
            Naming::Nothing => return Ok(Plan::Nothing),
            Naming::Wait => return Ok(Plan::Wait),
            Naming::By(filter) => filter,
        };
        let per_run = matches!(filter, crate::engine::select::OwnerFilter::Subquery { .. });
        let (sql, params) = count(
            io.backend,
            R::COUNT.owner,
            R::COUNT.from,
            filter,
            self.scope,
        );
        Ok(Plan::Send(Read {
            entity: <R::Target as Entity>::META.name,
            sql: Cow::Owned(sql),
            params,
            sink: Counts {
                counts: Vec::new(),
                entity: <R::Target as Entity>::META.name,
            },
            owners: None,
            whole: false,
            per_run,
        }))
    }

    fn receive(
        &self,
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
}

/// The engine's state for a counted relation.
pub struct CountNode<R: Counted> {
    level: Level<R::Target, Vec<usize>, ()>,
}

impl<R: Counted> Node<R::Owner> for CountNode<R>
where
    R::Target: Send,
{
    type Handle = Count<R>;
    type Output = usize;

    fn start(_: &Count<R>) -> Self {
        CountNode {
            level: Level::start(&()),
        }
    }

    fn step(&mut self, handle: &Count<R>, owners: Owners<'_, R::Owner>, io: &mut Io) -> Result<()> {
        let kind = Counting::<R> {
            scope: handle.scope(),
        };
        self.level.step(&kind, R::NAME, &(), owners, io)
    }

    fn waiting(&self) -> bool {
        self.level.waiting()
    }

    fn finish(self, _: &Count<R>, owners: &[R::Owner]) -> Result<Vec<usize>> {
        let (_, counts) = self.level.finish(&())?;
        Ok(counts.unwrap_or_else(|| vec![0; owners.len()]))
    }
}
