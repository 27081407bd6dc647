//! `has_many` and `has_one`: the target rows hold the foreign key.

use std::sync::Arc;

use super::level::{Kind, Level, Naming, Plan, Received, name_owners, read};
use crate::engine::keys::{group_runs, owner_index};
use crate::engine::select::SelectParts;
use crate::engine::{Decoded, Io, Owners};
use crate::entity::Entity;
use crate::error::Result;
use crate::preload::{Many, Node, One, PreloadList, With};
use crate::relation::{HasMany, SharedTarget, Target};
use crate::scope::Scope;

/// Reads the children of a set of owners; with `first_only`, keeps the
/// first child of each (has_one).
struct Children<'s, R: HasMany> {
    scope: &'s Scope<R::Target>,
    first_only: bool,
}

impl<R: HasMany> Kind<R::Owner> for Children<'_, R> {
    type Target = R::Target;
    type Sink = Decoded<R::Target>;
    /// The owner of each kept child.
    type Links = Vec<usize>;

    fn plan(&self, owners: Owners<'_, R::Owner>, io: &Io) -> Result<Plan<Self::Sink>> {
        let filter = match name_owners(owners, true)? {
            Naming::Nothing => return Ok(Plan::Nothing),
            Naming::Wait => return Ok(Plan::Wait),
            Naming::By(filter) => filter,
        };
        let target = &<R::Target as Entity>::META;
        let parts = SelectParts {
            columns: target.sql.column_list,
            from: target.sql.from,
            table: target.sql.table,
            owner: Some(R::SQL.foreign_key),
            owner_column: false,
            primary_key: target.sql.primary_key,
        };
        let mut read = read(
            io,
            &parts,
            (R::SQL.whole, R::SQL.keyed),
            filter,
            self.scope,
            Decoded::new(),
        );
        // Reading a table whole for has_one still drops later children.
        read.whole &= !self.first_only;
        Ok(Plan::Send(read))
    }

    fn receive(
        &self,
        sink: Decoded<R::Target>,
        owners: &[R::Owner],
    ) -> Result<Received<R::Target, Vec<usize>>> {
        let mut rows = sink.rows;
        let owner_index = owner_index(owners);
        let mut taken = vec![false; if self.first_only { owners.len() } else { 0 }];
        let mut owner_of = Vec::with_capacity(rows.len());
        // Which rows to keep, made only once a row is dropped: a keyless
        // read also sees rows of no owner (NULL or dangling keys), and
        // has_one drops an owner's later children.
        let mut keep: Option<Vec<bool>> = None;
        let mut previous = None;
        for (index, child) in rows.iter().enumerate() {
            let key = R::foreign_key(child);
            // Rows come ordered by foreign key: look a key up once per run.
            let owner = match previous {
                Some((previous_key, owner)) if previous_key == key => owner,
                _ => key.and_then(|key| owner_index.get(key).copied()),
            };
            previous = Some((key, owner));
            match owner {
                Some(owner) if !self.first_only || !std::mem::replace(&mut taken[owner], true) => {
                    owner_of.push(owner)
                }
                _ => keep.get_or_insert_with(|| vec![true; rows.len()])[index] = false,
            }
        }
        drop(owner_index);
        let complete = keep.is_none();
        if let Some(keep) = keep {
            let mut keep = keep.into_iter();
            rows.retain(|_| keep.next().unwrap_or(false));
        }
        Ok(Received {
            targets: rows,
            links: owner_of,
            complete,
        })
    }
}

/// The engine's state for a `has_many` preload.
pub struct HasManyNode<R: HasMany, N: PreloadList<R::Target>> {
    level: Level<R::Target, Vec<usize>, N>,
}

impl<R: HasMany, N: PreloadList<R::Target>> Node<R::Owner> for HasManyNode<R, N>
where
    R::Target: Send,
{
    type Handle = With<R, N>;
    type Output = Many<Target<R, N>>;

    fn start(handle: &With<R, N>) -> Self {
        HasManyNode {
            level: Level::start(handle.nested()),
        }
    }

    fn step(
        &mut self,
        handle: &With<R, N>,
        owners: Owners<'_, R::Owner>,
        io: &mut Io,
    ) -> Result<()> {
        let kind = Children::<R> {
            scope: handle.scope(),
            first_only: false,
        };
        self.level.step(&kind, R::NAME, handle.nested(), owners, io)
    }

    fn waiting(&self) -> bool {
        self.level.waiting()
    }

    fn finish(self, handle: &With<R, N>, owners: &[R::Owner]) -> Result<Vec<Self::Output>> {
        let usage = handle.usage(self.level.track_usage);
        let (loaded, owner_of) = self.level.finish(handle.nested())?;
        let (loaded, ranges) = group_runs(loaded, owner_of.unwrap_or_default(), owners.len());
        let all = Arc::new(loaded);
        Ok(ranges
            .into_iter()
            .map(|(start, end)| Many::new(Arc::clone(&all), start, end, usage.clone()))
            .collect())
    }
}

/// The engine's state for a `has_one` preload: the child with the smallest
/// primary key (or first in the scope's order), as the lazy loader returns.
pub struct HasOneNode<R: HasMany, N: PreloadList<R::Target>> {
    level: Level<R::Target, Vec<usize>, N>,
}

impl<R: HasMany, N: PreloadList<R::Target>> Node<R::Owner> for HasOneNode<R, N>
where
    R::Target: Send,
{
    type Handle = With<R, N>;
    type Output = Option<SharedTarget<R, N>>;

    fn start(handle: &With<R, N>) -> Self {
        HasOneNode {
            level: Level::start(handle.nested()),
        }
    }

    fn step(
        &mut self,
        handle: &With<R, N>,
        owners: Owners<'_, R::Owner>,
        io: &mut Io,
    ) -> Result<()> {
        let kind = Children::<R> {
            scope: handle.scope(),
            first_only: true,
        };
        self.level.step(&kind, R::NAME, handle.nested(), owners, io)
    }

    fn waiting(&self) -> bool {
        self.level.waiting()
    }

    fn finish(self, handle: &With<R, N>, owners: &[R::Owner]) -> Result<Vec<Self::Output>> {
        let usage = handle.usage(self.level.track_usage);
        let (loaded, owner_of) = self.level.finish(handle.nested())?;
        let mut child_of = vec![None; owners.len()];
        for (index, owner) in owner_of.unwrap_or_default().into_iter().enumerate() {
            child_of[owner] = Some(index);
        }
        let all = Arc::new(loaded);
        Ok(child_of
            .into_iter()
            .map(|index| index.map(|index| One::new(Arc::clone(&all), index, usage.clone())))
            .collect())
    }
}
