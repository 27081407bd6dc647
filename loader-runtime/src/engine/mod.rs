//! The preload engine, without IO.
//!
//! A [`Job`] (a root query with its preload tree, a lazy load, a `find`)
//! says which statements it needs, in *waves*: every statement whose inputs
//! are known goes out in one wave, the backend runs them and hands each
//! row to the statement's [`Sink`], and the job takes the filled sinks back
//! and plans the next wave. When nothing is left to send, the job
//! assembles its result.
//!
//! The backends (SQLite, PostgreSQL; sync or async) only run the statements
//! of a wave and feed rows: none of them knows what a relation is. Sibling
//! relations of one level share a wave. Where a level's statement can name
//! its owners without their rows (the owners are every row of their table,
//! or their own statement can be a subquery), it goes out in the same wave
//! as the owners' (see [`Form`]): on PostgreSQL the whole tree then costs
//! one round trip.

#[cfg(feature = "async")]
pub(crate) mod batch;
mod job;
pub(crate) mod keys;
mod owners;
pub(crate) mod relation;
pub(crate) mod select;
mod sink;

use std::any::Any;
use std::borrow::Cow;

pub use job::{FetchJob, Job, LazyLoad, Map, QueryJob, Ready};
pub(crate) use owners::{OwnerSql, Owners};
pub(crate) use sink::{Decoded, Sink};

use crate::error::{Error, Result};
use crate::scope::{Param, bound_values};
use crate::sql::Backend;

/// How the statement of a nested preload names its owners (see
/// [`Query::form`](crate::Query::form)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Form {
    /// By their keys, bound as one array, once their rows have arrived: one
    /// wave of statements per level (sibling relations share one; a
    /// `many_to_many` of more than 1,000 owners takes two, its join table
    /// and then the targets it names), and the database evaluates each
    /// level's conditions once. A level whose owners are every row of their
    /// table reads its own table whole, with no keys: on PostgreSQL it goes
    /// out in its owners' wave (one round trip for both, sent even if the
    /// owners turn out to be none); SQLite waits for them, as it costs
    /// nothing there.
    Keys,
    /// By their statement, as a subquery (`fk IN (SELECT pk FROM (...))`):
    /// every statement goes out in the first wave, at the price of the
    /// database evaluating the owners' conditions again for each level.
    ///
    /// On PostgreSQL the default for few roots: a `limit` of at most 1,000,
    /// `find`, every row of a table that had at most 1,000 rows the last
    /// time this handle (`Db` or `AsyncDb`) read it whole, or roots found
    /// by a filter whose statement (whatever its values) found at most 100
    /// rows the last time this handle ran it. So the first load of every
    /// post with its author, or of one user's posts with their comments,
    /// binds the keys, and the next ones, while the statement finds few
    /// rows, name the owners by subquery in the same round trip as the
    /// roots.
    Subquery,
}

/// Up to how many keys a key-set statement runs its kept (named) statement
/// on PostgreSQL rather than being planned again for each run: a page's
/// keys gain nothing from a plan of their own, and planning one cost about
/// 0.1 ms (1,000 posts' 100 authors: 1.18-1.25x the fastest hand-written
/// code re-planned, 1.04-1.18x kept, sync; 1.13-1.16x against 1.00-1.02x
/// async, `benches/loaders.rs --shape belongs_to --postgres-only`). The
/// kept statement sees no larger key set, so its generic plan, if
/// PostgreSQL adopts one, is made for a page of keys.
pub(crate) const KEPT_PLAN_KEYS: usize = 1_000;

/// One statement for a backend to run, with the sink its rows go to.
pub struct Statement {
    pub(crate) entity: &'static str,
    pub(crate) sql: Cow<'static, str>,
    pub(crate) params: Vec<Param>,
    pub(crate) sink: Box<dyn Sink>,
    /// The span the statement's event is reported in.
    pub(crate) span: tracing::Span,
    /// Whether its plan depends on its values enough that PostgreSQL must
    /// plan it for each run (see [`Statement::plans_per_run`]).
    per_run: bool,
}

impl Statement {
    pub(crate) fn new(
        entity: &'static str,
        sql: impl Into<Cow<'static, str>>,
        params: Vec<Param>,
        sink: Box<dyn Sink>,
    ) -> Self {
        Statement {
            entity,
            sql: sql.into(),
            params,
            sink,
            span: tracing::Span::current(),
            per_run: false,
        }
    }

    /// Marks it as one to plan for each run.
    pub(crate) fn planned_per_run(mut self, per_run: bool) -> Self {
        self.per_run = per_run;
        self
    }

    pub(crate) fn in_span(mut self, span: &tracing::Span) -> Self {
        self.span = span.clone();
        self
    }

    /// Whether PostgreSQL must plan it for the values of each run rather
    /// than reuse a kept plan: it binds a key set of more than
    /// [`KEPT_PLAN_KEYS`] keys, or names its owners by a subquery whose size
    /// its values decide (`LIMIT $2`). A kept (named) statement may switch
    /// to a generic plan after five runs, which for a large key array can be
    /// a sequential scan plus a sort that spills to disk, and for a subquery
    /// a hash join over the whole child table.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn plans_per_run(&self) -> bool {
        self.per_run
            || self
                .params
                .iter()
                .any(|param| matches!(param, Param::Array(keys) if keys.len() > KEPT_PLAN_KEYS))
    }

    /// How many values it binds, counting an array's elements.
    pub(crate) fn bound_values(&self) -> usize {
        bound_values(&self.params)
    }

    /// The error for a statement that failed to prepare or run.
    pub(crate) fn query_error(&self, source: crate::row::BoxError) -> Error {
        Error::Query {
            entity: self.entity,
            sql: self.sql.clone(),
            source,
        }
    }
}

impl std::fmt::Debug for Statement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Statement")
            .field("entity", &self.entity)
            .field("sql", &self.sql)
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

/// What a job sees while it plans: the sinks of the last wave, the wave
/// being planned, and the facts about the connection that shape statements.
pub struct Io {
    received: Vec<Option<Box<dyn Any + Send>>>,
    wave: Vec<Statement>,
    pub(crate) backend: Backend,
    pub(crate) form: Form,
    /// Whether preloaded values track if they are read (unused-preload
    /// detection).
    pub(crate) track_usage: bool,
}

/// Where a sent statement's rows will be found once its wave has run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot(usize);

impl Io {
    pub(crate) fn new(backend: Backend, form: Form, track_usage: bool) -> Self {
        Io {
            received: Vec::new(),
            wave: Vec::new(),
            backend,
            form,
            track_usage,
        }
    }

    /// Adds `statement` to the wave being planned.
    pub(crate) fn send(&mut self, statement: Statement) -> Slot {
        self.wave.push(statement);
        Slot(self.wave.len() - 1)
    }

    /// The sink of a statement of the last wave, as its concrete type.
    pub(crate) fn take<S: Any>(&mut self, slot: Slot) -> Result<S> {
        let sink = self.received.get_mut(slot.0).and_then(Option::take);
        match sink.map(|sink| sink.downcast::<S>()) {
            Some(Ok(sink)) => Ok(*sink),
            _ => Err(Error::Database(
                "internal error: a preload lost the rows of one of its statements".into(),
            )),
        }
    }

    /// The statements planned since the last call, to be run.
    pub fn take_wave(&mut self) -> Vec<Statement> {
        std::mem::take(&mut self.wave)
    }

    /// The filled sinks of the wave last taken, in its order.
    pub fn receive(&mut self, sinks: Vec<Box<dyn Sink>>) {
        self.received = sinks
            .into_iter()
            .map(|sink| Some(sink.into_any()))
            .collect();
    }

    /// Whether the wave being planned is empty.
    pub(crate) fn wave_is_empty(&self) -> bool {
        self.wave.is_empty()
    }

    /// Whether the statements of one wave share a round trip (PostgreSQL
    /// pipelines them), so that a statement gains by going out with its
    /// owners' even when it could wait for their rows. On SQLite a wave's
    /// statements run one after another in process: waiting costs nothing.
    pub(crate) fn pipelines(&self) -> bool {
        self.backend == Backend::Postgres
    }
}

/// An internal inconsistency, reported instead of panicking.
pub(crate) fn internal(what: &str) -> Error {
    Error::Database(format!("internal error: {what}").into())
}
