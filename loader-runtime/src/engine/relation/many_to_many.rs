//! `many_to_many`: a join table holds both keys; one JOIN reads the targets
//! of every owner, and a target shared by several owners is decoded once.

use std::any::Any;
use std::sync::Arc;

use super::level::{Kind, Level, Naming, Plan, Received, name_owners, read};
use crate::engine::keys::{KeyMap, group_runs, owner_index};
use crate::engine::select::SelectParts;
use crate::engine::sink::decode;
use crate::engine::{Io, Owners, Sink};
use crate::entity::{Entity, Keyed};
use crate::error::{Error, Result};
use crate::preload::{ManyShared, Node, PreloadList, With};
use crate::relation::{ManyToMany, Target};
use crate::row::Row;
use crate::scope::Scope;

/// The rows of a join: each row's owner key and target, the targets
/// decoded once each.
pub(crate) struct Joined<O: Keyed, T: Keyed> {
    owner_keys: Vec<O::Key>,
    target_of: Vec<usize>,
    targets: Vec<T>,
    target_index: KeyMap<T::Key, usize>,
}

impl<O: Keyed, T: Keyed> Sink for Joined<O, T> {
    fn row(&mut self, row: &Row<'_>, sql: &str) -> Result<()> {
        let owner_key: O::Key = row.get(0).map_err(|source| Error::Decode {
            entity: O::META.name,
            column: "key of the join table",
            key: None,
            sql: sql.to_owned().into(),
            source: source.into_source(),
        })?;
        // The target's key columns, after the owner key in column 0.
        let key_column = 1 + T::META.primary_key.first().copied().unwrap_or(0);
        let target_key: T::Key = match row.get(key_column) {
            Ok(key) => key,
            // Let the full decode report the problem with the row's context.
            Err(_) => decode::<T>(row, 1, sql)?.key().clone(),
        };
        let target = match self.target_index.get(&target_key) {
            Some(&index) => index,
            None => {
                self.targets.push(decode(row, 1, sql)?);
                self.target_index.insert(target_key, self.targets.len() - 1);
                self.targets.len() - 1
            }
        };
        self.owner_keys.push(owner_key);
        self.target_of.push(target);
        Ok(())
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
}

/// Reads the targets of a set of owners through the join table.
struct Through<'s, R: ManyToMany> {
    scope: &'s Scope<R::Target>,
}

/// Which owner and which target each join row links.
pub(crate) struct Links {
    owner_of: Vec<usize>,
    target_of: Vec<usize>,
}

impl<R: ManyToMany> Kind<R::Owner> for Through<'_, R> {
    type Target = R::Target;
    type Sink = Joined<R::Owner, R::Target>;
    type Links = Links;

    fn plan(&self, owners: Owners<'_, R::Owner>, io: &Io) -> Result<Plan<Self::Sink>> {
        let filter = match name_owners(owners, true)? {
            Naming::Nothing => return Ok(Plan::Nothing),
            Naming::Wait => return Ok(Plan::Wait),
            Naming::By(filter) => filter,
        };
        let target = &<R::Target as Entity>::META;
        let parts = SelectParts {
            columns: target.sql.column_list,
            from: R::SQL.from,
            table: target.sql.table,
            owner: Some(R::SQL.owner_key),
            owner_column: true,
            primary_key: target.sql.primary_key,
        };
        let sink = Joined {
            owner_keys: Vec::new(),
            target_of: Vec::new(),
            targets: Vec::new(),
            target_index: KeyMap::default(),
        };
        let mut read = read(
            io,
            &parts,
            (R::SQL.whole, R::SQL.keyed),
            filter,
            self.scope,
            sink,
        );
        // The targets are those some owner links to, not the whole table.
        read.whole = false;
        Ok(Plan::Send(read))
    }

    fn receive(&self, sink: Self::Sink, owners: &[R::Owner]) -> Result<Received<R::Target, Links>> {
        let owner_index = owner_index(owners);
        let mut owner_of = Vec::with_capacity(sink.owner_keys.len());
        let mut target_of = Vec::with_capacity(sink.owner_keys.len());
        // A keyless read also sees join rows of no loaded owner.
        for (key, target) in sink.owner_keys.iter().zip(sink.target_of) {
            if let Some(&owner) = owner_index.get(key) {
                owner_of.push(owner);
                target_of.push(target);
            }
        }
        Ok(Received {
            targets: sink.targets,
            links: Links {
                owner_of,
                target_of,
            },
            complete: true,
        })
    }
}

/// The engine's state for a `many_to_many` preload.
pub struct ManyToManyNode<R: ManyToMany, N: PreloadList<R::Target>> {
    level: Level<R::Target, Links, N>,
}

impl<R: ManyToMany, N: PreloadList<R::Target>> Node<R::Owner> for ManyToManyNode<R, N>
where
    R::Target: Send,
{
    type Handle = With<R, N>;
    type Output = ManyShared<Target<R, N>>;

    fn start(handle: &With<R, N>) -> Self {
        ManyToManyNode {
            level: Level::start(handle.nested()),
        }
    }

    fn step(
        &mut self,
        handle: &With<R, N>,
        owners: Owners<'_, R::Owner>,
        io: &mut Io,
    ) -> Result<()> {
        let kind = Through::<R> {
            scope: handle.scope(),
        };
        self.level.step(&kind, R::NAME, handle.nested(), owners, io)
    }

    fn waiting(&self) -> bool {
        self.level.waiting()
    }

    fn finish(self, handle: &With<R, N>, owners: &[R::Owner]) -> Result<Vec<Self::Output>> {
        let usage = handle.usage(self.level.track_usage);
        let (loaded, links) = self.level.finish(handle.nested())?;
        let Links {
            owner_of,
            target_of,
        } = links.unwrap_or(Links {
            owner_of: Vec::new(),
            target_of: Vec::new(),
        });
        let (target_of, ranges) = group_runs(target_of, owner_of, owners.len());
        let all = Arc::new(loaded);
        let order = Arc::new(target_of);
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
}
