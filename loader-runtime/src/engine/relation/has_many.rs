//! `has_many` and `has_one`: the target rows hold the foreign key.

use std::sync::Arc;

use super::level::{Facts, Kind, LevelNode, Marker, Plan, Received, name_owners, read};
use crate::engine::keys::{group_runs, owner_index};
use crate::engine::select::SelectParts;
use crate::engine::{Decoded, Io, Owners};
use crate::entity::Entity;
use crate::error::Result;
use crate::loaded::Loaded;
use crate::preload::{Many, One, PreloadList, With};
use crate::relation::{HasMany, SharedTarget, Target};

/// A preload of a relation whose targets hold the foreign key; `G` says
/// which children each owner gets.
pub struct Children<R, N, G>(Marker<(R, N, G)>);

/// Which of its children an owner gets, and as what.
pub trait Gather<R: HasMany, N: PreloadList<R::Target>> {
    /// Whether each owner keeps only its first child.
    const FIRST_ONLY: bool;
    /// What one owner holds.
    type Output: Send + Sync;
    /// Each owner's value from the loaded children and the owner of each,
    /// made as it is taken.
    fn gather(
        children: Vec<Target<R, N>>,
        owner_of: Vec<usize>,
        owners: usize,
        usage: Option<Arc<crate::diagnostics::Usage>>,
    ) -> impl ExactSizeIterator<Item = Self::Output> + use<Self, R, N>;
}

/// `has_many`: every child of each owner.
pub struct All;
/// `has_one`: the child with the smallest primary key (or first in the
/// scope's order), as the lazy loader returns.
pub struct First;

/// The engine's state for a `has_many` preload.
pub type HasManyNode<R, N> = LevelNode<Children<R, N, All>>;
/// The engine's state for a `has_one` preload.
pub type HasOneNode<R, N> = LevelNode<Children<R, N, First>>;

impl<R: HasMany, N: PreloadList<R::Target>> Gather<R, N> for All {
    const FIRST_ONLY: bool = false;
    type Output = Many<Target<R, N>>;

    fn gather(
        children: Vec<Target<R, N>>,
        owner_of: Vec<usize>,
        owners: usize,
        usage: Option<Arc<crate::diagnostics::Usage>>,
    ) -> impl ExactSizeIterator<Item = Self::Output> + use<R, N> {
        let (children, ranges) = group_runs(children, owner_of, owners);
        let all = Arc::new(children);
        ranges
            .into_iter()
            .map(move |(start, end)| Many::new(Arc::clone(&all), start, end, usage.clone()))
    }
}

impl<R: HasMany, N: PreloadList<R::Target>> Gather<R, N> for First {
    const FIRST_ONLY: bool = true;
    type Output = Option<SharedTarget<R, N>>;

    fn gather(
        children: Vec<Target<R, N>>,
        owner_of: Vec<usize>,
        owners: usize,
        usage: Option<Arc<crate::diagnostics::Usage>>,
    ) -> impl ExactSizeIterator<Item = Self::Output> + use<R, N> {
        let mut child_of = vec![None; owners];
        for (index, owner) in owner_of.into_iter().enumerate() {
            child_of[owner] = Some(index);
        }
        let all = Arc::new(children);
        child_of
            .into_iter()
            .map(move |index| index.map(|index| One::new(Arc::clone(&all), index, usage.clone())))
    }
}

/// The statement reading the children of `owners`.
fn plan<R: HasMany, N: PreloadList<R::Target>>(
    handle: &With<R, N>,
    owners: Owners<'_, R::Owner>,
    io: &Io,
    first_only: bool,
) -> Result<Plan<Decoded<R::Target>>> {
    let filter = match name_owners(owners, true)?.filter() {
        Ok(filter) => filter,
        Err(pending) => return Ok(pending.into()),
    };
    let parts = select_parts::<R>();
    let constants = (R::SQL.whole, R::SQL.keyed);
    let mut read = read(
        io,
        &parts,
        constants,
        filter,
        handle.scope(),
        Decoded::new(),
    );
    // Reading a table whole for has_one still drops later children.
    read.whole &= !first_only;
    Ok(Plan::Send(read))
}

/// The children that belong to an owner, with the owner of each; with
/// `first_only`, only each owner's first.
fn receive<R: HasMany>(
    sink: Decoded<R::Target>,
    owners: &[R::Owner],
    first_only: bool,
) -> Result<Received<R::Target, Vec<usize>>> {
    let mut rows = sink.rows;
    let owner_index = owner_index(owners);
    let mut taken = vec![false; if first_only { owners.len() } else { 0 }];
    let mut owner_of = Vec::with_capacity(rows.len());
    // Which rows to keep, made only once a row is dropped: a keyless read
    // also sees rows of no owner (NULL or dangling keys), and has_one drops
    // an owner's later children.
    let mut keep: Option<Vec<bool>> = None;
    let mut previous = None;
    for (index, child) in rows.iter().enumerate() {
        let key = R::foreign_key(child);
        // Rows by key set come ordered by foreign key: look a key up once
        // per run (a whole table comes in primary-key order).
        let owner = match previous {
            Some((previous_key, owner)) if previous_key == key => owner,
            _ => key.and_then(|key| owner_index.get(key).copied()),
        };
        previous = Some((key, owner));
        match owner {
            Some(owner) if !first_only || !std::mem::replace(&mut taken[owner], true) => {
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

impl<R: HasMany, N: PreloadList<R::Target>, G: Gather<R, N>> Kind for Children<R, N, G> {
    type Owner = R::Owner;
    type Target = R::Target;
    type Nested = N;
    type Handle = With<R, N>;
    type Sink = Decoded<R::Target>;
    /// The owner of each kept child.
    type Links = Vec<usize>;
    type Output = G::Output;
    const NAME: &'static str = R::NAME;

    fn nested(handle: &With<R, N>) -> &N {
        handle.nested()
    }

    fn plan(
        handle: &With<R, N>,
        owners: Owners<'_, R::Owner>,
        io: &Io,
    ) -> Result<Plan<Self::Sink>> {
        plan(handle, owners, io, G::FIRST_ONLY)
    }

    fn receive(
        _: &With<R, N>,
        sink: Self::Sink,
        owners: &[R::Owner],
    ) -> Result<Received<R::Target, Vec<usize>>> {
        receive::<R>(sink, owners, G::FIRST_ONLY)
    }

    fn assemble(
        handle: &With<R, N>,
        targets: Vec<Loaded<R::Target, N>>,
        owner_of: Option<Vec<usize>>,
        owners: &[R::Owner],
        facts: Facts,
    ) -> Result<impl ExactSizeIterator<Item = G::Output> + use<R, N, G>> {
        let usage = handle.usage(facts.track_usage);
        Ok(G::gather(
            targets,
            owner_of.unwrap_or_default(),
            owners.len(),
            usage,
        ))
    }
}

/// The pieces of a statement reading `R`'s targets, grouped by their
/// foreign key (for scoped preloads and the dataloader's batches).
pub(crate) fn select_parts<R: HasMany>() -> SelectParts<'static> {
    let target = &<R::Target as Entity>::META;
    SelectParts {
        columns: target.sql.column_list,
        from: R::SQL.from,
        table: target.sql.table,
        owner: Some(R::SQL.foreign_key),
        owner_column: false,
        primary_key: target.sql.primary_key,
    }
}
