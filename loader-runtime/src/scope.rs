//! Conditions, orderings and limits that narrow a query or a preload.
//!
//! Only these fragments are assembled at run time; the rest of each
//! statement (column lists, tables, joins, key columns) comes from the
//! constants the derive emitted.

use std::fmt;
use std::marker::PhantomData;

use crate::sql::Backend;
use crate::types::{ToValue, Value};

/// A condition on entity `E`, built from its [`Column`](crate::Column)s
/// and combined with [`and`](Expr::and), [`or`](Expr::or) and
/// [`not`](Expr::not) (or `!`). Values are always bound as parameters.
pub struct Expr<E> {
    pieces: Vec<Piece>,
    entity: PhantomData<fn() -> E>,
}

#[derive(Clone, Debug)]
pub(crate) enum Piece {
    Sql(&'static str),
    /// A qualified column, `"posts"."title"`: written with the table's
    /// alias inside a relation filter's subquery.
    Column(&'static str),
    Value(Value),
    /// ` IN rarray(?N)` or ` = ANY($N)`.
    InArray(Vec<Value>),
    /// `EXISTS (...)` over related rows (see `related.rs`).
    Related(std::sync::Arc<crate::related::Exists>),
}

impl<E> Expr<E> {
    pub(crate) fn from_pieces(pieces: Vec<Piece>) -> Self {
        Expr {
            pieces,
            entity: PhantomData,
        }
    }

    pub(crate) fn compare(column: &'static str, operator: &'static str, value: Value) -> Self {
        Expr::from_pieces(vec![
            Piece::Column(column),
            Piece::Sql(operator),
            Piece::Value(value),
        ])
    }

    pub(crate) fn is_in(column: &'static str, values: Vec<Value>) -> Self {
        Expr::from_pieces(vec![Piece::Column(column), Piece::InArray(values)])
    }

    pub(crate) fn postfix(column: &'static str, operator: &'static str) -> Self {
        Expr::from_pieces(vec![Piece::Column(column), Piece::Sql(operator)])
    }

    fn join(self, operator: &'static str, other: Expr<E>) -> Self {
        let mut pieces = Vec::with_capacity(self.pieces.len() + other.pieces.len() + 4);
        pieces.push(Piece::Sql("("));
        pieces.extend(self.pieces);
        pieces.push(Piece::Sql(operator));
        pieces.extend(other.pieces);
        pieces.push(Piece::Sql(")"));
        Expr::from_pieces(pieces)
    }

    /// Both conditions.
    pub fn and(self, other: Expr<E>) -> Self {
        self.join(" AND ", other)
    }

    /// Either condition.
    pub fn or(self, other: Expr<E>) -> Self {
        self.join(" OR ", other)
    }

    /// The opposite condition (SQL `NOT`: a comparison with `NULL` stays
    /// unknown, so neither `x` nor `NOT x` matches it).
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Self {
        let mut pieces = Vec::with_capacity(self.pieces.len() + 2);
        pieces.push(Piece::Sql("NOT ("));
        pieces.extend(self.pieces);
        pieces.push(Piece::Sql(")"));
        Expr::from_pieces(pieces)
    }

    pub(crate) fn render(&self, sql: &mut String, params: &mut Params) {
        render(&self.pieces, &Alias::NONE, sql, params);
    }

    pub(crate) fn into_pieces(self) -> Vec<Piece> {
        self.pieces
    }
}

/// How the columns of the entity being filtered are written: as they are
/// (`"posts"."title"`), or inside a relation filter's subquery with the
/// alias of its table (`"r1"."title"`), so that a relation of an entity to
/// itself (employees and their reports) refers to the right rows.
pub(crate) struct Alias {
    /// The entity's quoted table, `"posts"`.
    pub(crate) table: &'static str,
    /// Its alias in this subquery, quoted; `None` at the top level.
    pub(crate) alias: Option<String>,
    /// How many relation filters enclose this one.
    pub(crate) depth: usize,
}

impl Alias {
    pub(crate) const NONE: Alias = Alias {
        table: "",
        alias: None,
        depth: 0,
    };

    /// `qualified` (`"posts"."title"`), with this alias for its table.
    pub(crate) fn column(&self, qualified: &str, sql: &mut String) {
        let rest = qualified.strip_prefix(self.table);
        match (&self.alias, rest) {
            (Some(alias), Some(rest)) if rest.starts_with('.') => {
                sql.push_str(alias);
                sql.push_str(rest);
            }
            _ => sql.push_str(qualified),
        }
    }
}

pub(crate) fn render(pieces: &[Piece], alias: &Alias, sql: &mut String, params: &mut Params) {
    for piece in pieces {
        match piece {
            Piece::Sql(text) => sql.push_str(text),
            Piece::Column(qualified) => alias.column(qualified, sql),
            Piece::Value(value) => params.placeholder(sql, Param::Value(value.clone())),
            Piece::InArray(values) => params.in_array(sql, values.clone()),
            Piece::Related(exists) => exists.render(alias, sql, params),
        }
    }
}

impl<E> std::ops::Not for Expr<E> {
    type Output = Expr<E>;
    fn not(self) -> Expr<E> {
        Expr::not(self)
    }
}

impl<E> Clone for Expr<E> {
    fn clone(&self) -> Self {
        Expr::from_pieces(self.pieces.clone())
    }
}

impl<E> fmt::Debug for Expr<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sql = String::new();
        let mut params = Params::new(Backend::Sqlite);
        self.render(&mut sql, &mut params);
        f.debug_struct("Expr")
            .field("sql", &sql)
            .field("params", &params.values)
            .finish()
    }
}

/// A number of rows, for [`limit`](crate::Query::limit),
/// [`offset`](crate::Query::offset) and
/// [`limit_per_parent`](crate::With::limit_per_parent): any unsigned
/// integer (a `usize` page size needs no cast) or a plain literal. A
/// negative `i32` or `i64` counts as 0.
///
/// ```
/// # use loader_runtime::{Entity, Query};
/// # #[derive(Entity)] struct Post { id: i64 }
/// let page_size: usize = 20;
/// let page: u32 = 3;
/// let _ = Post::query().limit(page_size).offset(page * 20).limit(10);
/// ```
pub trait RowCount {
    /// The count, as bound.
    fn rows(self) -> u64;
}

macro_rules! row_counts {
    ($($ty:ty),*) => {$(
        impl RowCount for $ty {
            fn rows(self) -> u64 {
                u64::try_from(self).unwrap_or(if self as i128 > 0 { u64::MAX } else { 0 })
            }
        }
    )*};
}
row_counts!(u8, u16, u32, u64, usize, i32, i64);

/// An ordering of entity `E`: `column.asc()` or `column.desc()`.
pub struct OrderBy<E> {
    column: &'static str,
    descending: bool,
    entity: PhantomData<fn() -> E>,
}

impl<E> OrderBy<E> {
    pub(crate) fn new(column: &'static str, descending: bool) -> Self {
        OrderBy {
            column,
            descending,
            entity: PhantomData,
        }
    }
}

impl<E> Clone for OrderBy<E> {
    fn clone(&self) -> Self {
        OrderBy::new(self.column, self.descending)
    }
}

impl<E> fmt::Debug for OrderBy<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let direction = if self.descending { "DESC" } else { "ASC" };
        write!(f, "{} {direction}", self.column)
    }
}

/// What narrows a query or a preload of entity `E`.
pub struct Scope<E> {
    filter: Option<Expr<E>>,
    order: Vec<OrderBy<E>>,
    pub(crate) limit: Option<u64>,
    pub(crate) offset: Option<u64>,
    pub(crate) per_owner: Option<u64>,
    /// How many of each owner's first targets to skip.
    pub(crate) per_owner_offset: Option<u64>,
    /// A keyset cursor: only the rows after the row with this primary key,
    /// in the scope's order.
    pub(crate) after: Option<Value>,
    /// Where the preload was written, for reports about it.
    pub(crate) site: Option<&'static std::panic::Location<'static>>,
}

impl<E> Default for Scope<E> {
    fn default() -> Self {
        Scope {
            filter: None,
            order: Vec::new(),
            limit: None,
            offset: None,
            per_owner: None,
            per_owner_offset: None,
            after: None,
            site: None,
        }
    }
}

impl<E> Clone for Scope<E> {
    fn clone(&self) -> Self {
        Scope {
            filter: self.filter.clone(),
            order: self.order.clone(),
            limit: self.limit,
            offset: self.offset,
            per_owner: self.per_owner,
            per_owner_offset: self.per_owner_offset,
            after: self.after.clone(),
            site: self.site,
        }
    }
}

impl<E> fmt::Debug for Scope<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope")
            .field("filter", &self.filter)
            .field("order", &self.order)
            .field("limit", &self.limit)
            .field("offset", &self.offset)
            .field("per_owner", &self.per_owner)
            .field("per_owner_offset", &self.per_owner_offset)
            .field("after", &self.after)
            .finish()
    }
}

impl<E> Scope<E> {
    pub(crate) fn written_at(site: &'static std::panic::Location<'static>) -> Self {
        Scope {
            site: Some(site),
            ..Scope::default()
        }
    }

    /// Whether nothing narrows the rows (an ordering alone does not).
    pub(crate) fn selects_all(&self) -> bool {
        self.filter.is_none()
            && self.limit.is_none()
            && self.offset.is_none()
            && self.per_owner.is_none()
            && self.per_owner_offset.is_none()
            && self.after.is_none()
    }

    /// Whether the statement the derive emitted can be used as it is.
    pub(crate) fn is_empty(&self) -> bool {
        self.selects_all() && self.order.is_empty()
    }

    pub(crate) fn add_filter(&mut self, filter: Expr<E>) {
        self.filter = Some(match self.filter.take() {
            Some(existing) => existing.and(filter),
            None => filter,
        });
    }

    pub(crate) fn add_order(&mut self, order: OrderBy<E>) {
        self.order.push(order);
    }

    /// The condition, if any.
    pub(crate) fn filter(&self) -> Option<&Expr<E>> {
        self.filter.as_ref()
    }

    /// The ordering: each column and whether it is descending.
    pub(crate) fn order(&self) -> impl Iterator<Item = (&'static str, bool)> + '_ {
        self.order
            .iter()
            .map(|order| (order.column, order.descending))
    }
}

/// The parameters of a statement assembled at run time, numbered in the
/// placeholder style of its backend.
pub(crate) struct Params {
    backend: Backend,
    values: Vec<Param>,
}

/// One bound value: a scalar or a whole key set (one array parameter).
#[derive(Debug, Clone)]
#[doc(hidden)]
pub enum Param {
    Value(Value),
    Array(Vec<Value>),
}

impl Param {
    /// A scalar parameter holding `value`.
    pub(crate) fn of<T: ToValue + ?Sized>(value: &T) -> Param {
        Param::Value(value.to_value())
    }

    /// How many values it binds, counting an array's elements.
    fn bound_values(&self) -> usize {
        match self {
            Param::Value(_) => 1,
            Param::Array(values) => values.len(),
        }
    }
}

/// How many values `params` bind, counting an array's elements.
pub(crate) fn bound_values(params: &[Param]) -> usize {
    params.iter().map(Param::bound_values).sum()
}

impl Params {
    pub(crate) fn new(backend: Backend) -> Self {
        Params {
            backend,
            values: Vec::new(),
        }
    }

    /// Appends the placeholder for `param` (`?N` or `$N`) to `sql`.
    pub(crate) fn placeholder(&mut self, sql: &mut String, param: Param) {
        self.values.push(param);
        self.backend.placeholder(sql, self.values.len());
    }

    /// Parameters numbered after `values`, which come first.
    pub(crate) fn starting_with(backend: Backend, values: Vec<Param>) -> Self {
        Params { backend, values }
    }

    /// Appends ` IN rarray(?N)` or ` = ANY($N)` for the array `values`.
    pub(crate) fn in_array(&mut self, sql: &mut String, values: Vec<Value>) {
        let (before, after) = self.backend.in_array();
        sql.push_str(before);
        self.placeholder(sql, Param::Array(values));
        sql.push_str(after);
    }

    pub(crate) fn into_values(self) -> Vec<Param> {
        self.values
    }
}
