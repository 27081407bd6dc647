//! Jobs: what a caller asks a backend to do, as a state machine that plans
//! waves of statements and assembles the result.

use std::borrow::Cow;
use std::panic::Location;

use crate::types::Value;

use super::select::{OwnerFilter, SelectParts, select};
use super::{Decoded, Form, Io, OwnerSql, Owners, Slot, Statement, internal};
use crate::entity::Entity;
use crate::error::Result;
use crate::loaded::Loaded;
use crate::preload::PreloadList;
use crate::query::Query;
use crate::scope::{Expr, Param, Scope};
use crate::sql::{Backend, Sql};

/// A unit of work for a backend, without IO: each [`step`](Job::step)
/// plans a wave of statements into the [`Io`] or returns the result. The
/// backend runs each wave and hands the filled sinks back with
/// [`Io::receive`] before the next step.
pub trait Job: Send + 'static {
    /// What the job returns.
    type Output: Send + 'static;

    /// Plans the next wave, or returns the result when nothing is left to
    /// send.
    fn step(&mut self, io: &mut Io) -> Result<Option<Self::Output>>;

    /// Whether the job may run more than one statement, so they must read
    /// one snapshot.
    fn snapshot(&self) -> bool {
        false
    }

    /// Whether the wave just planned is the last one (nothing waits for
    /// its rows): a backend can send the end of the transaction with it.
    fn planned_all(&self) -> bool {
        true
    }

    /// Whether naming each level's owners by their statement (the
    /// [`Subquery`](Form::Subquery) form) is cheap for this job on
    /// `backend`: its roots are few (a page, one row, or the rows of a root
    /// statement that found few when it last ran: `rows_of` says how many
    /// a statement's text found, if known).
    fn few_roots(&mut self, backend: Backend, rows_of: &dyn Fn(&str) -> Option<usize>) -> bool {
        let _ = (backend, rows_of);
        false
    }

    /// The text of the statement that read this job's roots and how many
    /// rows it found, once it has, if they tell how many the next run of
    /// that statement will find.
    fn roots_read(&self) -> Option<(&str, usize)> {
        None
    }

    /// The form the caller asked for, if any ([`Query::form`]).
    fn form(&self) -> Option<Form> {
        None
    }

    /// The lazy load this job is, for N+1 detection.
    fn lazy_load(&self) -> Option<LazyLoad> {
        None
    }

    /// Starts over, forgetting every row it took: for a backend that must
    /// run the job again (a statement it kept went stale). Returns whether
    /// the job can.
    fn restart(&mut self) -> bool {
        false
    }
}

/// A lazy load: which relation, and where it was called.
#[derive(Debug, Clone, Copy)]
pub struct LazyLoad {
    pub(crate) entity: &'static str,
    pub(crate) relation: &'static str,
    pub(crate) location: &'static Location<'static>,
}

/// One statement whose rows are decoded as `T`: `all`, `find`, a lazy load.
pub struct FetchJob<T> {
    statement: Option<(Sql, Vec<Param>)>,
    /// The statement again, for a restart.
    again: (Sql, Vec<Param>),
    sent: Option<Slot>,
    lazy: Option<LazyLoad>,
    _rows: std::marker::PhantomData<fn() -> T>,
}

impl<T: Entity> FetchJob<T> {
    /// Runs the derive's statement `sql` with `params`.
    pub(crate) fn new(sql: Sql, params: Vec<Param>) -> Self {
        FetchJob {
            again: (sql, params.clone()),
            statement: Some((sql, params)),
            sent: None,
            lazy: None,
            _rows: std::marker::PhantomData,
        }
    }

    /// A lazy load of `relation` of `entity`, called at `location`.
    pub(crate) fn lazy(
        mut self,
        entity: &'static str,
        relation: &'static str,
        location: &'static Location<'static>,
    ) -> Self {
        self.lazy = Some(LazyLoad {
            entity,
            relation,
            location,
        });
        self
    }
}

impl<T: Entity> Job for FetchJob<T> {
    type Output = Vec<T>;

    fn step(&mut self, io: &mut Io) -> Result<Option<Vec<T>>> {
        if let Some(slot) = self.sent.take() {
            return Ok(Some(io.take::<Decoded<T>>(slot)?.rows));
        }
        let (sql, params) = self
            .statement
            .take()
            .ok_or_else(|| internal("a fetch was stepped after it finished"))?;
        let sql = sql.text(io.backend);
        let statement = Statement::new(T::META.name, sql, params, Box::new(Decoded::<T>::new()));
        self.sent = Some(io.send(statement));
        Ok(None)
    }

    fn lazy_load(&self) -> Option<LazyLoad> {
        self.lazy
    }

    fn restart(&mut self) -> bool {
        self.statement = Some(self.again.clone());
        self.sent = None;
        true
    }
}

/// Up to this many roots, a query's preloads name their owners by
/// subquery on a backend where round trips cost (see [`Form`]).
const FEW_ROOTS: usize = 1_000;

/// Up to this many roots found by a filter when the same statement last
/// ran, the same: each level then runs the filter again as its subquery,
/// which cost as much as the round trip it saves at about 100 roots
/// (0.5 ms one way, docs/latency.md).
const FEW_FILTERED: usize = 100;

/// A query with its preload tree.
pub struct QueryJob<E: Entity, P: PreloadList<E>> {
    query: Query<E, P>,
    /// The primary key of the one row wanted (`find`).
    key: Option<Value>,
    phase: Phase,
    rows: Vec<E>,
    /// The roots are every row of their table.
    whole: bool,
    /// The text of the root statement, where the number of rows it finds
    /// decides the next run's form (see [`Job::few_roots`]).
    learns: Option<Cow<'static, str>>,
    /// The root statement planned while choosing the form.
    planned: Option<super::select::Select>,
    /// How many roots there were, once read, for `learns`.
    roots: Option<usize>,
    owner_sql: Option<OwnerSql>,
    nested: P::State,
    span: tracing::Span,
}

enum Phase {
    Start,
    Sent(Slot),
    Received,
}

impl<E: Entity, P: PreloadList<E>> QueryJob<E, P> {
    /// Every row of the query.
    pub(crate) fn all(query: Query<E, P>) -> Self {
        QueryJob::new(query, None)
    }

    /// The row of the query whose primary key is `key`.
    pub(crate) fn find(query: Query<E, P>, key: Value) -> Self {
        QueryJob::new(query, Some(key))
    }

    fn new(query: Query<E, P>, key: Option<Value>) -> Self {
        let nested = query.preloads().start();
        QueryJob {
            query,
            key,
            phase: Phase::Start,
            rows: Vec::new(),
            whole: false,
            learns: None,
            planned: None,
            roots: None,
            owner_sql: None,
            nested,
            span: tracing::Span::none(),
        }
    }

    /// The statement that reads the roots, and the roots as a subquery.
    fn root_statement(&mut self, io: &Io) -> Statement {
        let meta = &E::META;
        let parts = SelectParts {
            columns: meta.sql.column_list,
            from: meta.sql.from,
            table: meta.sql.table,
            owner: None,
            owner_column: false,
            primary_key: meta.sql.primary_key,
        };
        let subquery = io.form == Form::Subquery;
        let scope = self.query.scope();
        let sink = Box::new(Decoded::<E>::new());
        let found;
        let scope: &Scope<E> = match &self.key {
            None => scope,
            Some(key) => {
                let mut narrowed = scope.clone();
                narrowed.add_filter(Expr::compare(meta.sql.primary_key, " = ", key.clone()));
                found = narrowed;
                &found
            }
        };
        if self.query.scope().is_empty() && (self.key.is_none() || !subquery) {
            // The derive's constants: every row, or one row by key.
            let (sql, params) = match &self.key {
                None => (meta.sql.select_all, Vec::new()),
                Some(key) => (meta.sql.select_by_key, vec![Param::Value(key.clone())]),
            };
            self.whole = self.key.is_none();
            self.owner_sql =
                subquery.then(|| select(io.backend, &parts, OwnerFilter::All, scope).owner_sql());
            return Statement::new(meta.name, sql.text(io.backend), params, sink);
        }
        let select = match self.planned.take() {
            Some(planned) if io.backend == Backend::Postgres => planned,
            _ => select(io.backend, &parts, OwnerFilter::All, scope),
        };
        self.whole = self.key.is_none() && scope.selects_all();
        self.owner_sql = subquery.then(|| select.owner_sql());
        Statement::new(meta.name, select.sql, select.params, sink)
    }
}

impl<E: Entity, P: PreloadList<E> + Send + 'static> Job for QueryJob<E, P>
where
    P::State: Send,
{
    type Output = Vec<Loaded<E, P>>;

    fn step(&mut self, io: &mut Io) -> Result<Option<Self::Output>> {
        match self.phase {
            Phase::Start => {
                self.span = tracing::debug_span!(
                    target: "loader::query",
                    "query",
                    entity = E::META.name,
                    preloads = P::LEN,
                );
                let statement = self.root_statement(io).in_span(&self.span);
                self.phase = Phase::Sent(io.send(statement));
            }
            Phase::Sent(slot) => {
                let mut rows = io.take::<Decoded<E>>(slot)?.rows;
                if self.key.is_some() {
                    rows.truncate(1);
                }
                self.roots = self.learns.is_some().then_some(rows.len());
                self.rows = rows;
                self.phase = Phase::Received;
            }
            Phase::Received => {}
        }
        // In the key form the preloads wait for the roots (and run nothing
        // when there are none), except that where a wave is one round trip
        // a child table read whole goes out with them; in the subquery form
        // every preload goes out with them.
        let received = matches!(self.phase, Phase::Received);
        let owners = match io.form {
            Form::Keys => Owners {
                rows: received.then_some(self.rows.as_slice()),
                whole: (received || io.pipelines()) && self.whole,
                sql: None,
                span: &self.span,
            },
            Form::Subquery => Owners {
                rows: received.then_some(self.rows.as_slice()),
                whole: self.whole,
                sql: self.owner_sql.as_ref(),
                span: &self.span,
            },
        };
        self.query.preloads().step(&mut self.nested, owners, io)?;
        if !io.wave_is_empty() {
            return Ok(None);
        }
        if !received {
            return Err(internal("a query planned no statement"));
        }
        let rows = std::mem::take(&mut self.rows);
        let nested = std::mem::replace(&mut self.nested, self.query.preloads().start());
        let values = self.query.preloads().finish(nested, &rows)?;
        crate::loaded::zip_loaded(rows, values).map(Some)
    }

    fn snapshot(&self) -> bool {
        P::LEN > 0
    }

    fn planned_all(&self) -> bool {
        !matches!(self.phase, Phase::Start) && !P::waiting(&self.nested)
    }

    fn few_roots(&mut self, backend: Backend, rows_of: &dyn Fn(&str) -> Option<usize>) -> bool {
        let scope = self.query.scope();
        if self.key.is_some() || scope.limit.is_some_and(|limit| limit <= FEW_ROOTS as u64) {
            return true;
        }
        // How many rows the root statement found when it last ran: the
        // derive's constant for every row, else the statement planned here
        // (kept for the run).
        let text = if scope.is_empty() {
            Cow::Borrowed(E::META.sql.select_all.text(backend))
        } else {
            let parts = SelectParts {
                columns: E::META.sql.column_list,
                from: E::META.sql.from,
                table: E::META.sql.table,
                owner: None,
                owner_column: false,
                primary_key: E::META.sql.primary_key,
            };
            let planned = select(backend, &parts, OwnerFilter::All, scope);
            let text = planned.sql.clone();
            self.planned = Some(planned);
            Cow::Owned(text)
        };
        let few = if scope.selects_all() {
            FEW_ROOTS
        } else {
            FEW_FILTERED
        };
        let found = rows_of(&text);
        self.learns = Some(text);
        found.is_some_and(|rows| rows <= few)
    }

    fn roots_read(&self) -> Option<(&str, usize)> {
        Some((self.learns.as_deref()?, self.roots?))
    }

    fn form(&self) -> Option<Form> {
        self.query.chosen_form()
    }

    fn restart(&mut self) -> bool {
        self.phase = Phase::Start;
        self.rows = Vec::new();
        self.whole = false;
        self.planned = None;
        self.roots = None;
        self.owner_sql = None;
        self.nested = self.query.preloads().start();
        true
    }
}

/// A job whose result is known without a statement.
pub struct Ready<T>(Option<T>);

impl<T> Ready<T> {
    pub(crate) fn new(value: T) -> Self {
        Ready(Some(value))
    }
}

impl<T: Send + 'static> Job for Ready<T> {
    type Output = T;

    fn step(&mut self, _: &mut Io) -> Result<Option<T>> {
        self.0
            .take()
            .map(Some)
            .ok_or_else(|| internal("a finished job was stepped"))
    }
}

/// A job whose result goes through `map`.
pub struct Map<J, F> {
    job: J,
    map: Option<F>,
}

impl<J, F> Map<J, F> {
    pub(crate) fn new(job: J, map: F) -> Self {
        Map {
            job,
            map: Some(map),
        }
    }
}

impl<J: Job, T: Send + 'static, F: FnOnce(J::Output, Backend) -> Result<T> + Send + 'static> Job
    for Map<J, F>
{
    type Output = T;

    fn step(&mut self, io: &mut Io) -> Result<Option<T>> {
        let Some(output) = self.job.step(io)? else {
            return Ok(None);
        };
        let map = self
            .map
            .take()
            .ok_or_else(|| internal("a finished job was stepped"))?;
        map(output, io.backend).map(Some)
    }

    fn snapshot(&self) -> bool {
        self.job.snapshot()
    }

    fn planned_all(&self) -> bool {
        self.job.planned_all()
    }

    fn few_roots(&mut self, backend: Backend, rows_of: &dyn Fn(&str) -> Option<usize>) -> bool {
        self.job.few_roots(backend, rows_of)
    }

    fn roots_read(&self) -> Option<(&str, usize)> {
        self.job.roots_read()
    }

    fn form(&self) -> Option<Form> {
        self.job.form()
    }

    fn lazy_load(&self) -> Option<LazyLoad> {
        self.job.lazy_load()
    }

    fn restart(&mut self) -> bool {
        self.map.is_some() && self.job.restart()
    }
}
