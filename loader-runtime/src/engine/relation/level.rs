//! What every relation kind does the same way: plan one statement when its
//! owners can be named, take its rows back, and let the nested preloads
//! plan theirs from those rows (or from its statement, as a subquery).

use std::borrow::Cow;

use super::super::keys::key_array;
use super::super::select::{OwnerFilter, SelectParts, select};
use super::super::{Form, Io, OwnerSql, Owners, Sink, Slot, Statement, internal};
use crate::entity::{Entity, Keyed};
use crate::error::Result;
use crate::preload::{Node, PreloadList};
use crate::scope::{Param, Scope};
use crate::sql::Sql;

/// What makes one relation kind: how it reads its targets, what it keeps
/// of the rows, and how it hands each owner its value. Everything else (the
/// phases, spans, nesting, forms) is [`LevelNode`]'s, the same for all.
pub trait Kind: Sized {
    /// The entity that declares the relation.
    type Owner: Entity;
    /// The related entity.
    type Target: Entity;
    /// The preloads below this relation.
    type Nested: PreloadList<Self::Target>;
    /// The preload handle (`With<R, N>`, `Count<R>`).
    type Handle;
    /// What the statement's rows are decoded into.
    type Sink: Sink;
    /// What the kind keeps of the rows besides the targets (e.g. the owner
    /// of each).
    type Links: Send;
    /// What one owner holds.
    type Output;
    /// The relation's name, for spans.
    const NAME: &'static str;

    /// The nested preloads of `handle`.
    fn nested(handle: &Self::Handle) -> &Self::Nested;

    /// The statement that reads the targets of `owners`, if they can be
    /// named now.
    fn plan(
        handle: &Self::Handle,
        owners: Owners<'_, Self::Owner>,
        io: &Io,
    ) -> Result<Plan<Self::Sink>>;

    /// The targets and their links out of a filled sink, given the owners'
    /// rows.
    fn receive(
        handle: &Self::Handle,
        sink: Self::Sink,
        owners: &[Self::Owner],
    ) -> Result<Received<Self::Target, Self::Links>>;

    /// One sink out of those of two statements sent together
    /// ([`Plan::SendBoth`]); only kinds that plan two statements have one.
    fn join(first: Self::Sink, second: Self::Sink) -> Result<Self::Sink> {
        drop((first, second));
        Err(internal("a preload sent two statements it cannot join"))
    }

    /// Once a statement's rows are here, the statement they call for, if
    /// any: a kind that reads in two steps (keys first, then the rows they
    /// name) plans the second here, its sink carrying what the first read.
    fn follow(handle: &Self::Handle, sink: Self::Sink, io: &Io) -> Result<Follow<Self::Sink>> {
        let _ = (handle, io);
        Ok(Follow::Done(sink))
    }

    /// Each owner's value, one for each in the owners' order, from the
    /// loaded targets and the links (none when the level read nothing):
    /// what needs the owners is worked out here, the values are made as
    /// they are taken (see [`Node::finish`]).
    fn assemble(
        handle: &Self::Handle,
        targets: Vec<crate::Loaded<Self::Target, Self::Nested>>,
        links: Option<Self::Links>,
        owners: &[Self::Owner],
        facts: Facts,
    ) -> Result<impl ExactSizeIterator<Item = Self::Output> + use<Self>>;
}

/// What a level learnt of its connection while it planned.
#[derive(Debug, Clone, Copy)]
pub struct Facts {
    /// Whether the loaded values track if they are read.
    pub track_usage: bool,
    pub backend: crate::sql::Backend,
}

/// The engine's state for one preloaded relation of kind `K`.
pub struct LevelNode<K: Kind> {
    level: Level<K::Target, K::Links, K::Nested>,
}

impl<K: Kind> Node<K::Owner> for LevelNode<K>
where
    Level<K::Target, K::Links, K::Nested>: Send,
{
    type Handle = K::Handle;
    type Output = K::Output;

    fn start(handle: &K::Handle) -> Self {
        LevelNode {
            level: Level::start(K::nested(handle)),
        }
    }

    fn step(
        &mut self,
        handle: &K::Handle,
        owners: Owners<'_, K::Owner>,
        io: &mut Io,
    ) -> Result<()> {
        self.level.step::<K>(handle, owners, io)
    }

    fn waiting(&self) -> bool {
        self.level.waiting()
    }

    fn finish(
        self,
        handle: &K::Handle,
        owners: &[K::Owner],
    ) -> Result<impl ExactSizeIterator<Item = K::Output> + use<K>> {
        let facts = self.level.facts;
        let (targets, links) = self.level.finish(K::nested(handle))?;
        K::assemble(handle, targets, links, owners, facts)
    }
}

/// What a kind can do with its owners as they are now known.
pub enum Plan<S> {
    /// The owners are known to be none: nothing to read.
    Nothing,
    /// Not yet: the owners' rows are needed.
    Wait,
    /// This statement reads the targets.
    Send(Read<S>),
    /// These two go out in one wave; their sinks are joined
    /// ([`Kind::join`]) and the second's rows are the targets (its
    /// `owners` name them for the nested levels).
    SendBoth(Read<S>, Read<S>),
}

/// What a level does once a statement's rows are here.
pub enum Follow<S> {
    /// Nothing more to read: the sink holds the targets.
    Done(S),
    /// This statement reads the rest.
    Then(Read<S>),
}

/// The statement that reads a level's targets.
pub struct Read<S> {
    pub(crate) entity: &'static str,
    pub(crate) sql: std::borrow::Cow<'static, str>,
    pub(crate) params: Vec<crate::scope::Param>,
    pub(crate) sink: S,
    /// The statement as the owners of the nested levels (subquery form).
    pub(crate) owners: Option<OwnerSql>,
    /// Whether it reads every row of the target table.
    pub(crate) whole: bool,
    /// Whether it names its owners by a subquery (planned for each run).
    pub(crate) per_run: bool,
    /// Whether its rows may call for another statement ([`Kind::follow`]).
    pub(crate) follows: bool,
}

impl<S> Read<S> {
    /// One of the derive's statements for `entity`, bound to `params`: no
    /// owner subquery, not every row of the table, kept as a prepared
    /// statement and calling for none after it (set the fields that
    /// differ).
    pub(crate) fn fixed(
        entity: &'static str,
        sql: &'static str,
        params: Vec<Param>,
        sink: S,
    ) -> Self {
        Read {
            entity,
            sql: Cow::Borrowed(sql),
            params,
            sink,
            owners: None,
            whole: false,
            per_run: false,
            follows: false,
        }
    }
}

/// The targets of a level as the kind keeps them.
pub struct Received<T, L> {
    pub targets: Vec<T>,
    pub links: L,
    /// Whether no row was dropped (every row read belongs to an owner).
    pub complete: bool,
}

enum Phase {
    Waiting,
    /// The statement sent (two when planned together), and whether its rows
    /// may call for another.
    Sent(Slot, Option<Slot>, bool),
    Received,
    Nothing,
}

/// One preloaded relation's progress, and the nested preloads' state.
pub struct Level<T: Entity, L, N: PreloadList<T>> {
    phase: Phase,
    targets: Vec<T>,
    links: Option<L>,
    /// The level read every row of its table, and kept them all.
    whole: bool,
    complete: bool,
    owner_sql: Option<OwnerSql>,
    span: tracing::Span,
    facts: Facts,
    nested: N::State,
}

impl<T: Entity, L: Send, N: PreloadList<T>> Level<T, L, N> {
    pub(crate) fn start(nested: &N) -> Self {
        Level {
            phase: Phase::Waiting,
            targets: Vec::new(),
            links: None,
            whole: false,
            complete: false,
            owner_sql: None,
            span: tracing::Span::none(),
            facts: Facts {
                track_usage: false,
                backend: crate::sql::Backend::Sqlite,
            },
            nested: nested.start(),
        }
    }

    /// Takes the rows of the last wave if they are this level's, plans its
    /// statement if it can, then lets the nested preloads do the same.
    fn step<K: Kind<Target = T, Links = L, Nested = N>>(
        &mut self,
        handle: &K::Handle,
        owners: Owners<'_, K::Owner>,
        io: &mut Io,
    ) -> Result<()> {
        if let (&Phase::Sent(first, second, _), Some(rows)) = (&self.phase, owners.rows) {
            let mut sink: K::Sink = io.take(first)?;
            if let Some(second) = second {
                sink = K::join(sink, io.take(second)?)?;
            }
            match K::follow(handle, sink, io)? {
                Follow::Then(read) => self.send(read, None, io),
                Follow::Done(sink) => {
                    let received = K::receive(handle, sink, rows)?;
                    self.targets = received.targets;
                    self.links = Some(received.links);
                    self.complete = received.complete;
                    self.phase = Phase::Received;
                }
            }
        }
        if let Phase::Waiting = self.phase {
            self.facts = Facts {
                track_usage: io.track_usage,
                backend: io.backend,
            };
            self.span = tracing::debug_span!(
                target: "loader::preload",
                parent: owners.span,
                "preload",
                entity = <K::Owner as Entity>::META.name,
                relation = K::NAME,
                owners = owners.len(),
            );
            match K::plan(handle, owners, io)? {
                Plan::Wait => {}
                Plan::Nothing => self.phase = Phase::Nothing,
                Plan::Send(read) => self.send(read, None, io),
                Plan::SendBoth(first, second) => self.send(first, Some(second), io),
            }
        }
        let targets = match self.phase {
            Phase::Waiting => return Ok(()),
            Phase::Sent(..) => None,
            Phase::Received | Phase::Nothing => Some(self.targets.as_slice()),
        };
        // In the key form the nested levels wait for these rows, and read
        // their tables whole only if this level kept every row of its own,
        // or, where a wave is one round trip, if it read its table whole
        // (they go out with it, and rows of owners it dropped are dropped
        // in turn); in the subquery form they go out now, named by this
        // statement.
        let (whole, sql) = match io.form {
            Form::Keys => (self.whole && (self.complete || io.pipelines()), None),
            Form::Subquery => (self.whole, self.owner_sql.as_ref()),
        };
        let nested_owners = Owners {
            rows: targets,
            whole,
            sql,
            span: &self.span,
        };
        K::nested(handle).step(&mut self.nested, nested_owners, io)
    }

    /// Adds `first` (and `second`, in the same wave) to the wave; the
    /// targets are the rows of the last one.
    fn send<S: Sink>(&mut self, first: Read<S>, second: Option<Read<S>>, io: &mut Io) {
        let follows = first.follows || second.as_ref().is_some_and(|read| read.follows);
        let first_slot = self.send_one(first, io);
        let second_slot = second.map(|read| self.send_one(read, io));
        self.phase = Phase::Sent(first_slot, second_slot, follows);
    }

    fn send_one<S: Sink>(&mut self, read: Read<S>, io: &mut Io) -> Slot {
        let statement = Statement::new(read.entity, read.sql, read.params, Box::new(read.sink))
            .in_span(&self.span)
            .planned_per_run(read.per_run);
        self.whole = read.whole;
        self.owner_sql = read.owners;
        io.send(statement)
    }

    /// Whether this level or one below it has not planned its statement,
    /// or may plan another once rows arrive.
    fn waiting(&self) -> bool {
        matches!(self.phase, Phase::Waiting | Phase::Sent(_, _, true)) || N::waiting(&self.nested)
    }

    /// The targets with their nested preloads, and the links; no links when
    /// the level read nothing (it had no owners).
    fn finish(self, nested: &N) -> Result<Finished<T, L, N>> {
        match self.phase {
            Phase::Received | Phase::Nothing => {}
            Phase::Waiting | Phase::Sent(..) => {
                return Err(internal("a preload finished before its rows arrived"));
            }
        }
        let values = nested.finish(self.nested, &self.targets)?;
        let loaded = crate::loaded::zip_loaded(self.targets, values)?;
        Ok((loaded, self.links))
    }
}

/// A level's loaded targets and its links (none if it read nothing).
pub(crate) type Finished<T, L, N> = (Vec<crate::Loaded<T, N>>, Option<L>);

/// How a level can name its owners now.
pub(crate) enum Naming<'a> {
    Nothing,
    Wait,
    By(OwnerFilter<'a>),
}

/// Why a level cannot name its owners yet.
pub(crate) enum Pending {
    Nothing,
    Wait,
}

impl<S> From<Pending> for Plan<S> {
    fn from(pending: Pending) -> Self {
        match pending {
            Pending::Nothing => Plan::Nothing,
            Pending::Wait => Plan::Wait,
        }
    }
}

impl<'a> Naming<'a> {
    /// The filter, or why there is none yet.
    pub(crate) fn filter(self) -> Result<OwnerFilter<'a>, Pending> {
        match self {
            Naming::By(filter) => Ok(filter),
            Naming::Nothing => Err(Pending::Nothing),
            Naming::Wait => Err(Pending::Wait),
        }
    }
}

/// A zero-sized stand-in for the type parameters of a kind.
pub type Marker<T> = std::marker::PhantomData<fn() -> T>;

/// Names the owners of a level whose rows refer to the owners' key
/// (`key`, qualified): every row when the owners are every row of their
/// table and the kind can read whole, their keys once their rows are here,
/// or their statement as a subquery.
pub(crate) fn name_owners<'a, O: Keyed>(
    owners: Owners<'a, O>,
    reads_whole: bool,
) -> Result<Naming<'a>> {
    let whole = owners.whole && reads_whole;
    if let Some(rows) = owners.rows {
        if rows.is_empty() {
            return Ok(Naming::Nothing);
        }
        if whole {
            return Ok(Naming::By(OwnerFilter::All));
        }
        return Ok(Naming::By(OwnerFilter::Keys(key_array(
            rows.iter().map(Keyed::key),
        ))));
    }
    if whole {
        return Ok(Naming::By(OwnerFilter::All));
    }
    Ok(match owners.sql {
        Some(sql) => Naming::By(OwnerFilter::Subquery {
            owners: sql,
            column: O::META.sql.primary_key,
        }),
        None => Naming::Wait,
    })
}

/// The statement reading a level's targets: the derive's constant when the
/// scope is empty and the owners are all rows or a key set, else one
/// assembled from `parts`; with the level as a subquery in that form.
pub(crate) fn read<T, S>(
    io: &Io,
    parts: &SelectParts<'_>,
    constants: (Sql, Sql),
    filter: OwnerFilter<'_>,
    scope: &Scope<T>,
    sink: S,
) -> Read<S>
where
    T: Entity,
{
    let subquery = io.form == Form::Subquery;
    let whole = matches!(filter, OwnerFilter::All) && scope.selects_all();
    let per_run = filter.plans_per_run();
    let (whole_sql, keyed_sql) = constants;
    let (sql, params, owners) = match (filter, scope.is_empty()) {
        (OwnerFilter::All, true) => (
            Cow::Borrowed(whole_sql.text(io.backend)),
            Vec::new(),
            subquery.then(|| select(io.backend, parts, OwnerFilter::All, scope).owner_sql()),
        ),
        (OwnerFilter::Keys(keys), true) => (
            Cow::Borrowed(keyed_sql.text(io.backend)),
            vec![Param::Array(keys)],
            None,
        ),
        (filter, _) => {
            let select = select(io.backend, parts, filter, scope);
            let owners = subquery.then(|| select.owner_sql());
            (Cow::Owned(select.sql), select.params, owners)
        }
    };
    Read {
        entity: T::META.name,
        sql,
        params,
        sink,
        owners,
        whole,
        per_run,
        follows: false,
    }
}
