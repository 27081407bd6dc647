//! `many_to_many` and `has_many` through other relations: one JOIN reads
//! the targets of every owner, and a target shared by several owners is
//! decoded once.

use std::any::Any;
use std::sync::Arc;

use super::level::{Facts, Kind, LevelNode, Marker, Plan, Received, name_owners, read};
use crate::engine::keys::{KeyMap, group_runs, owner_index};
use crate::engine::select::SelectParts;
use crate::engine::sink::decode;
use crate::engine::{Io, Owners, Sink};
use crate::entity::{Entity, Keyed};
use crate::error::{Error, Result};
use crate::loaded::Loaded;
use crate::preload::{ManyShared, PreloadList, With};
use crate::relation::{ManyToMany, Target};
use crate::row::Row;

/// The rows of a join: each row's owner key and target, the targets
/// decoded once each (unless no target can come twice).
pub struct Joined<O: Keyed, T: Keyed> {
    owner_keys: Vec<O::Key>,
    target_of: Vec<usize>,
    targets: Vec<T>,
    target_index: KeyMap<T::Key, usize>,
    /// Whether a target can come in several rows (shared by owners).
    shared: bool,
}

impl<O: Keyed, T: Keyed> Sink for Joined<O, T> {
    fn row(&mut self, row: &Row<'_>, sql: &str) -> Result<()> {
        // NULL where a relation gone through has a nullable key (a row
        // that belongs to no owner), read when the owners are every row.
        let owner_key: Option<O::Key> = row.get(0).map_err(|source| Error::Decode {
            entity: O::META.name,
            column: "owner key of the join",
            key: None,
            sql: sql.to_owned().into(),
            source: source.into_source(),
        })?;
        let Some(owner_key) = owner_key else {
            return Ok(());
        };
        if !self.shared {
            self.targets.push(decode(row, 1, sql)?);
            self.owner_keys.push(owner_key);
            self.target_of.push(self.targets.len() - 1);
            return Ok(());
        }
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

/// A `many_to_many` preload: the targets of each owner through the join table.
pub struct Through<R, N>(Marker<(R, N)>);

/// The engine's state for a `many_to_many` preload.
pub type ManyToManyNode<R, N> = LevelNode<Through<R, N>>;

/// Which owner and which target each join row links.
pub struct Links {
    owner_of: Vec<usize>,
    target_of: Vec<usize>,
}

impl<R: ManyToMany, N: PreloadList<R::Target>> Kind for Through<R, N> {
    type Owner = R::Owner;
    type Target = R::Target;
    type Nested = N;
    type Handle = With<R, N>;
    type Sink = Joined<R::Owner, R::Target>;
    type Links = Links;
    type Output = ManyShared<Target<R, N>>;
    const NAME: &'static str = R::NAME;

    fn nested(handle: &With<R, N>) -> &N {
        handle.nested()
    }

    fn plan(
        handle: &With<R, N>,
        owners: Owners<'_, R::Owner>,
        io: &Io,
    ) -> Result<Plan<Self::Sink>> {
        let filter = match name_owners(owners, true)?.filter() {
            Ok(filter) => filter,
            Err(pending) => return Ok(pending.into()),
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
            shared: R::SQL.shared,
        };
        let constants = (R::SQL.whole, R::SQL.keyed);
        let mut read = read(io, &parts, constants, filter, handle.scope(), sink);
        // The targets are those some owner links to, not the whole table.
        read.whole = false;
        Ok(Plan::Send(read))
    }

    fn receive(
        _: &With<R, N>,
        sink: Self::Sink,
        owners: &[R::Owner],
    ) -> Result<Received<R::Target, Links>> {
        let owner_index = owner_index(owners);
        let mut owner_of = Vec::with_capacity(sink.owner_keys.len());
        let mut target_of = Vec::with_capacity(sink.owner_keys.len());
        // A keyless read also sees join rows of no loaded owner. Rows come
        // ordered by owner key: look a key up once per run.
        let mut previous: Option<(&<R::Owner as Keyed>::Key, Option<usize>)> = None;
        for (key, target) in sink.owner_keys.iter().zip(sink.target_of) {
            let owner = match previous {
                Some((previous_key, owner)) if previous_key == key => owner,
                _ => owner_index.get(key).copied(),
            };
            previous = Some((key, owner));
            if let Some(owner) = owner {
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

    fn assemble(
        handle: &With<R, N>,
        targets: Vec<Loaded<R::Target, N>>,
        links: Option<Links>,
        owners: &[R::Owner],
        facts: Facts,
    ) -> Result<Vec<Self::Output>> {
        let usage = handle.usage(facts.track_usage);
        let Links {
            owner_of,
            target_of,
        } = links.unwrap_or(Links {
            owner_of: Vec::new(),
            target_of: Vec::new(),
        });
        let (target_of, ranges) = group_runs(target_of, owner_of, owners.len());
        let all = Arc::new(targets);
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
