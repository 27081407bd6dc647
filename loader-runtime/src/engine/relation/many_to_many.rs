//! `many_to_many` and `has_many` through other relations.
//!
//! Two ways to read them. One JOIN of the targets to the join table: one
//! statement, but each target's columns come once per owner linking to it
//! (a tag of 10,000 posts, 10,000 times), and the database looks each up
//! once per join row. Or, for a `many_to_many` whose preload has no scope,
//! the join table alone (its two key columns, in its primary key's order)
//! and then each linked target once: the rows the fastest hand-written
//! code reads (1.3-1.7x faster than the JOIN for 100,000 posts with 3 of
//! 50 tags, `benches/loaders.rs`), for one more statement. The targets go
//! out in the same wave as the join table when every owner is read
//! (`WHERE pk IN (SELECT target key FROM join table)`, on PostgreSQL or in
//! the subquery form), or in the next one by the keys the join table named;
//! up to 1,000 owners named by key (a page), and owners named by a subquery, keep
//! the JOIN, which saves the round trip (a subquery on the join table
//! filtered by owner made PostgreSQL choose a nested loop 10x slower than
//! the JOIN).

use std::any::Any;
use std::sync::Arc;

use super::level::{
    Facts, Follow, Kind, LevelNode, Marker, Plan, Read, Received, name_owners, read,
};
use crate::engine::keys::{KeyMap, group_runs, key_array, owner_index};
use crate::engine::select::{OwnerFilter, SelectParts};
use crate::engine::sink::decode;
use crate::engine::{Form, Io, OwnerSql, Owners, Sink, internal};
use crate::entity::{Entity, Key, Keyed};
use crate::error::{Error, Result};
use crate::loaded::Loaded;
use crate::preload::{ManyShared, PreloadList, With};
use crate::relation::{LinksSql, ManyToMany, MiddleSql, Target};
use crate::row::Row;
use crate::scope::Param;
use crate::sql::Backend;
use crate::types::Field;

/// Up to how many owners a keyed read keeps the one JOIN: a page of owners
/// links few targets, and the JOIN's repeated columns cost less than a
/// round trip on PostgreSQL (on SQLite, less than a statement's fixed
/// cost). The same on both backends, so a preload runs the same statements
/// on each.
const JOIN_OWNERS: usize = 1_000;

/// What the rows of a statement are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rows {
    /// The owner key, then the target's columns.
    Joined,
    /// The owner key and the target key, from the join table.
    Links,
    /// The target's columns.
    Targets,
    /// The key of a middle row and its owner key (a `has_many` through a
    /// `has_many`, read apart).
    Middles,
    /// The middle key a target refers to, then the target's columns.
    Tagged,
}

/// What the statements of a preload through a join table read: each
/// link's owner key and target, the targets decoded once each (unless no
/// target can come twice); for a `has_many` through a `has_many` read
/// apart, each middle row's owner key and each target's middle key (`M`).
pub struct Joined<O: Keyed, T: Keyed, M> {
    rows: Rows,
    owner_keys: Vec<O::Key>,
    /// Each link's target: its index in `targets` for a JOIN; for links
    /// read apart, the order in which its key was first named.
    target_of: Vec<usize>,
    targets: Vec<T>,
    /// For a JOIN, each target's index in `targets`; for links read apart,
    /// each named key's order of first naming.
    target_index: KeyMap<T::Key, usize>,
    /// Whether a target can come in several rows (shared by owners).
    shared: bool,
    /// Each middle row's owner key, by middle key.
    middle_owner: KeyMap<M, O::Key>,
    /// Each target's middle key (`None` for `NULL`).
    middle_of: Vec<Option<M>>,
    /// The statements of a `has_many` through a `has_many` read apart,
    /// whose column names errors give.
    apart: Option<MiddleSql>,
}

impl<O: Keyed, T: Keyed, M: Key> Joined<O, T, M> {
    fn new(rows: Rows, shared: bool) -> Self {
        Joined {
            rows,
            owner_keys: Vec::new(),
            target_of: Vec::new(),
            targets: Vec::new(),
            target_index: KeyMap::default(),
            shared,
            middle_owner: KeyMap::default(),
            middle_of: Vec::new(),
            apart: None,
        }
    }

    /// A sink for the middle rows or the targets read apart.
    fn apart(rows: Rows, apart: MiddleSql) -> Self {
        let mut sink = Self::new(rows, false);
        sink.apart = Some(apart);
        sink
    }

    /// A link of the join table: its target key, kept once.
    fn link(&mut self, row: &Row<'_>, owner_key: O::Key, sql: &str) -> Result<()> {
        let target_key: Option<T::Key> =
            key_at(row, 1, T::META.name, "target key of the join table", sql)?;
        // A NULL target key links nothing, as the JOIN would not match it.
        let Some(target_key) = target_key else {
            return Ok(());
        };
        let named = self.target_index.len();
        let index = *self.target_index.entry(target_key).or_insert(named);
        self.owner_keys.push(owner_key);
        self.target_of.push(index);
        Ok(())
    }
}

/// The key in column `index` of `row`, `None` for `NULL`; an error names
/// `entity` and `column`.
fn key_at<K>(
    row: &Row<'_>,
    index: usize,
    entity: &'static str,
    column: &'static str,
    sql: &str,
) -> Result<Option<K>>
where
    Option<K>: Field,
{
    row.get(index).map_err(|source| Error::Decode {
        entity,
        column,
        key: None,
        sql: sql.to_owned().into(),
        source: source.into_source(),
    })
}

impl<O: Keyed, T: Keyed, M: Key> Sink for Joined<O, T, M> {
    fn row(&mut self, row: &Row<'_>, sql: &str) -> Result<()> {
        match self.rows {
            Rows::Targets => {
                self.targets.push(decode(row, 0, sql)?);
                return Ok(());
            }
            Rows::Tagged => {
                // The column's name (not a copy of every statement) per row.
                let column = self
                    .apart
                    .as_ref()
                    .map(|apart| apart.target_key)
                    .ok_or_else(|| internal("targets read apart without their statements"))?;
                let middle: Option<M> = key_at(row, 0, T::META.name, column, sql)?;
                self.targets.push(decode(row, 1, sql)?);
                self.middle_of.push(middle);
                return Ok(());
            }
            Rows::Middles => {
                let apart = self
                    .apart
                    .as_ref()
                    .ok_or_else(|| internal("middle rows read without their statements"))?;
                let middle: Option<M> = key_at(row, 0, apart.middle, apart.middle_key, sql)?;
                let owner: Option<O::Key> = key_at(row, 1, apart.middle, apart.owner_key, sql)?;
                // A middle row of no owner links nothing.
                if let (Some(middle), Some(owner)) = (middle, owner) {
                    self.middle_owner.insert(middle, owner);
                }
                return Ok(());
            }
            Rows::Joined | Rows::Links => {}
        }
        // NULL where a relation gone through has a nullable key (a row
        // that belongs to no owner), read when the owners are every row.
        let owner_key: Option<O::Key> = key_at(row, 0, O::META.name, "owner key of the join", sql)?;
        let Some(owner_key) = owner_key else {
            return Ok(());
        };
        if self.rows == Rows::Links {
            return self.link(row, owner_key, sql);
        }
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
    type Sink = Joined<R::Owner, R::Target, R::MiddleKey>;
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
        if let Some(middle) = R::SQL.middle.filter(|_| handle.scope().is_empty()) {
            match filter {
                // Every middle row and every target, in one wave: the
                // targets refer to the middle rows by key, so neither
                // statement needs the other's rows.
                OwnerFilter::All => return Ok(middle_both::<R>(middle, io)),
                OwnerFilter::Keys(keys) if keys.len() > JOIN_OWNERS => {
                    let read = Read {
                        follows: true,
                        ..Read::fixed(
                            target.name,
                            middle.pairs_keyed.text(io.backend),
                            vec![Param::Array(keys)],
                            Joined::apart(Rows::Middles, middle),
                        )
                    };
                    return Ok(Plan::Send(read));
                }
                _ => {}
            }
        }
        // Links read apart need the join table's statements, no scope
        // (its filter and order are on the JOIN's columns) and a key-set
        // read of the target.
        let apart = R::SQL
            .links
            .filter(|_| handle.scope().is_empty() && !target.sql.select_by_keys.sqlite.is_empty());
        if let Some(links) = apart {
            match filter {
                // Both at once where round trips count or the caller asked
                // for every statement in the first wave; SQLite reads the
                // targets by the keys the join table named, which needs no
                // index on the join table's target key.
                OwnerFilter::All
                    if io.backend == Backend::Postgres || io.form == Form::Subquery =>
                {
                    return Ok(both::<R::Owner, R::Target, R::MiddleKey>(links, io));
                }
                OwnerFilter::All => {
                    let sql = links.whole.text(io.backend);
                    let read =
                        links_read::<R::Owner, R::Target, R::MiddleKey>(sql, Vec::new(), true);
                    return Ok(Plan::Send(read));
                }
                OwnerFilter::Keys(keys) if keys.len() > JOIN_OWNERS => {
                    let sql = links.keyed.text(io.backend);
                    let params = vec![Param::Array(keys)];
                    let read = links_read::<R::Owner, R::Target, R::MiddleKey>(sql, params, true);
                    return Ok(Plan::Send(read));
                }
                _ => {}
            }
        }
        Ok(Plan::Send(joined::<R, N>(handle, filter, io)))
    }

    fn join(mut links: Self::Sink, targets: Self::Sink) -> Result<Self::Sink> {
        links.targets = targets.targets;
        if links.rows == Rows::Middles {
            links.middle_of = targets.middle_of;
            links.rows = Rows::Tagged;
        } else {
            links.rows = Rows::Targets;
        }
        Ok(links)
    }

    fn follow(_: &With<R, N>, mut sink: Self::Sink, io: &Io) -> Result<Follow<Self::Sink>> {
        if sink.rows == Rows::Middles {
            return Ok(match R::SQL.middle {
                Some(middle) if !sink.middle_owner.is_empty() => {
                    // The targets of the middle rows read, by their keys.
                    let keys = key_array(sink.middle_owner.keys());
                    sink.rows = Rows::Tagged;
                    Follow::Then(Read::fixed(
                        <R::Target as Entity>::META.name,
                        middle.targets_keyed.text(io.backend),
                        vec![Param::Array(keys)],
                        sink,
                    ))
                }
                _ => Follow::Done(sink),
            });
        }
        if sink.rows != Rows::Links || sink.target_index.is_empty() {
            return Ok(Follow::Done(sink));
        }
        // Each target the links name, once, by key.
        let target = &<R::Target as Entity>::META;
        let keys = key_array(sink.target_index.keys());
        sink.rows = Rows::Targets;
        Ok(Follow::Then(Read::fixed(
            target.name,
            target.sql.select_by_keys.text(io.backend),
            vec![Param::Array(keys)],
            sink,
        )))
    }

    fn receive(
        _: &With<R, N>,
        sink: Self::Sink,
        owners: &[R::Owner],
    ) -> Result<Received<R::Target, Links>> {
        let (owner_keys, target_of, targets) = match sink.rows {
            Rows::Joined => (sink.owner_keys, sink.target_of, sink.targets),
            Rows::Links | Rows::Targets => resolve(sink),
            Rows::Middles | Rows::Tagged => return Ok(through_middles(sink, owners)),
        };
        let owner_index = owner_index(owners);
        let mut owner_of = Vec::with_capacity(owner_keys.len());
        let mut kept = Vec::with_capacity(owner_keys.len());
        // A keyless read also sees join rows of no loaded owner. Rows come
        // ordered by owner key: look a key up once per run.
        let mut previous: Option<(&<R::Owner as Keyed>::Key, Option<usize>)> = None;
        for (key, target) in owner_keys.iter().zip(target_of) {
            let owner = match previous {
                Some((previous_key, owner)) if previous_key == key => owner,
                _ => owner_index.get(key).copied(),
            };
            previous = Some((key, owner));
            if let Some(owner) = owner
                && target != MISSING
            {
                owner_of.push(owner);
                kept.push(target);
            }
        }
        Ok(Received {
            targets,
            links: Links {
                owner_of,
                target_of: kept,
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
    ) -> Result<impl ExactSizeIterator<Item = Self::Output> + use<R, N>> {
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
        Ok(ranges.into_iter().map(move |(start, end)| {
            ManyShared::new(
                Arc::clone(&all),
                Arc::clone(&order),
                start,
                end,
                usage.clone(),
            )
        }))
    }
}

/// The JOIN of the targets to the join table (or the relations gone
/// through), decoded into one sink.
fn joined<R: ManyToMany, N: PreloadList<R::Target>>(
    handle: &With<R, N>,
    filter: OwnerFilter<'_>,
    io: &Io,
) -> Read<Joined<R::Owner, R::Target, R::MiddleKey>> {
    let target = &<R::Target as Entity>::META;
    let parts = SelectParts {
        columns: target.sql.column_list,
        from: R::SQL.from,
        table: target.sql.table,
        owner: Some(R::SQL.owner_key),
        owner_column: true,
        primary_key: target.sql.primary_key,
    };
    let sink = Joined::new(Rows::Joined, R::SQL.shared);
    let constants = (R::SQL.whole, R::SQL.keyed);
    let mut read = read(io, &parts, constants, filter, handle.scope(), sink);
    // The targets are those some owner links to, not the whole table.
    read.whole = false;
    read
}

/// The join table's rows (`sql`), whose target keys the next statement
/// reads (`follows`), or a statement sent with them.
fn links_read<O: Keyed, T: Keyed, M: Key>(
    sql: &'static str,
    params: Vec<Param>,
    follows: bool,
) -> Read<Joined<O, T, M>> {
    Read {
        follows,
        ..Read::fixed(T::META.name, sql, params, Joined::new(Rows::Links, true))
    }
}

/// Every row of the join table and, in the same wave, the targets it links
/// to (named by a subquery on the join table, which PostgreSQL answers from
/// an index on the target key, or one pass over the table without one).
fn both<O: Keyed, T: Keyed, M: Key>(links: LinksSql, io: &Io) -> Plan<Joined<O, T, M>> {
    let target = &T::META;
    let owners = (io.form == Form::Subquery).then(|| OwnerSql {
        text: links.linked_body.to_owned(),
        params: Vec::new(),
        table: target.sql.table,
    });
    let first = links_read(links.whole.text(io.backend), Vec::new(), false);
    let second = Read {
        owners,
        ..Read::fixed(
            target.name,
            links.linked.text(io.backend),
            Vec::new(),
            Joined::new(Rows::Targets, true),
        )
    };
    Plan::SendBoth(first, second)
}

/// A link whose target is not there (a dangling key).
const MISSING: usize = usize::MAX;

/// The links read apart, resolved against the targets read: each link's
/// owner key and target index ([`MISSING`] for a target that is not
/// there), and the targets.
fn resolve<O: Keyed, T: Keyed, M>(mut sink: Joined<O, T, M>) -> (Vec<O::Key>, Vec<usize>, Vec<T>) {
    // Where each named key's target is among the rows read.
    let mut position = vec![MISSING; sink.target_index.len()];
    for (index, target) in sink.targets.iter().enumerate() {
        if let Some(&named) = sink.target_index.get(target.key()) {
            position[named] = index;
        }
    }
    for target in &mut sink.target_of {
        *target = position[*target];
    }
    (sink.owner_keys, sink.target_of, sink.targets)
}

/// Every middle row's key and owner key and, in the same wave, every
/// target with the middle key it refers to: two plain reads, no join.
fn middle_both<R: ManyToMany>(
    middle: MiddleSql,
    io: &Io,
) -> Plan<Joined<R::Owner, R::Target, R::MiddleKey>> {
    let entity = <R::Target as Entity>::META.name;
    let pairs = Read::fixed(
        entity,
        middle.pairs_whole.text(io.backend),
        Vec::new(),
        Joined::apart(Rows::Middles, middle),
    );
    let targets = Read {
        // Every row of the target table: the nested levels may read
        // theirs whole too.
        whole: true,
        ..Read::fixed(
            entity,
            middle.targets_whole.text(io.backend),
            Vec::new(),
            Joined::apart(Rows::Tagged, middle),
        )
    };
    Plan::SendBoth(pairs, targets)
}

/// The targets read apart from the middle rows, each linked to the owner
/// of its middle row: targets of no loaded owner (a middle row of another
/// owner, a dangling or `NULL` key) are dropped. Each target has at most
/// one owner, so the links keep the targets' order (their key order).
fn through_middles<O: Keyed, T: Keyed, M: Key>(
    sink: Joined<O, T, M>,
    owners: &[O],
) -> Received<T, Links> {
    let Joined {
        mut targets,
        middle_owner,
        middle_of,
        ..
    } = sink;
    let owner_index = owner_index(owners);
    let mut owner_of = Vec::with_capacity(targets.len());
    let mut kept = Vec::with_capacity(targets.len());
    // The targets of one middle row usually come one after another: look
    // its owner up once per run.
    let mut previous: Option<(&M, Option<usize>)> = None;
    for (index, middle) in middle_of.iter().enumerate() {
        let Some(middle) = middle else { continue };
        let owner = match previous {
            Some((previous_middle, owner)) if previous_middle == middle => owner,
            _ => middle_owner
                .get(middle)
                .and_then(|key| owner_index.get(key).copied()),
        };
        previous = Some((middle, owner));
        if let Some(owner) = owner {
            owner_of.push(owner);
            kept.push(index);
        }
    }
    let complete = kept.len() == targets.len();
    if !complete {
        let mut keep = vec![false; targets.len()];
        for &index in &kept {
            keep[index] = true;
        }
        let mut index = 0;
        targets.retain(|_| {
            index += 1;
            keep[index - 1]
        });
        kept = (0..targets.len()).collect();
    }
    Received {
        targets,
        links: Links {
            owner_of,
            target_of: kept,
        },
        complete,
    }
}
