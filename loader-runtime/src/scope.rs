//! Conditions, orderings and limits that narrow a query or a preload.
//!
//! Only these fragments are assembled at run time; the rest of each
//! statement (column lists, tables, joins, key columns) comes from the
//! constants the derive emitted.

use std::fmt;
use std::marker::PhantomData;
use std::rc::Rc;

use rusqlite::types::{ToSql, ToSqlOutput, Value};

use crate::sql::Backend;

/// A condition on entity `E`, built from its [`Column`](crate::Column)s
/// and combined with [`and`](Expr::and), [`or`](Expr::or) and
/// [`not`](Expr::not) (or `!`). Values are always bound as parameters.
pub struct Expr<E> {
    pieces: Vec<Piece>,
    entity: PhantomData<fn() -> E>,
}

#[derive(Clone, Debug)]
enum Piece {
    Sql(&'static str),
    Value(Value),
    /// ` IN rarray(?N)` or ` = ANY($N)`.
    InArray(Vec<Value>),
}

impl<E> Expr<E> {
    fn from_pieces(pieces: Vec<Piece>) -> Self {
        Expr {
            pieces,
            entity: PhantomData,
        }
    }

    pub(crate) fn compare(column: &'static str, operator: &'static str, value: Value) -> Self {
        Expr::from_pieces(vec![
            Piece::Sql(column),
            Piece::Sql(operator),
            Piece::Value(value),
        ])
    }

    pub(crate) fn is_in(column: &'static str, values: Vec<Value>) -> Self {
        Expr::from_pieces(vec![Piece::Sql(column), Piece::InArray(values)])
    }

    pub(crate) fn postfix(column: &'static str, operator: &'static str) -> Self {
        Expr::from_pieces(vec![Piece::Sql(column), Piece::Sql(operator)])
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

    fn render(&self, sql: &mut String, params: &mut Params) {
        for piece in &self.pieces {
            match piece {
                Piece::Sql(text) => sql.push_str(text),
                Piece::Value(value) => params.placeholder(sql, Param::Value(value.clone())),
                Piece::InArray(values) => {
                    params.in_array(sql, Rc::new(values.clone()));
                }
            }
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
    Array(Rc<Vec<Value>>),
}

impl ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            Param::Value(value) => value.to_sql(),
            Param::Array(values) => values.to_sql(),
        }
    }
}

impl Param {
    /// A scalar parameter holding `value`.
    pub(crate) fn of(value: &dyn ToSql) -> Param {
        Param::Value(crate::column::to_value(value))
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

    /// Appends ` IN rarray(?N)` or ` = ANY($N)` for the array `values`.
    pub(crate) fn in_array(&mut self, sql: &mut String, values: Rc<Vec<Value>>) {
        let (before, after) = self.backend.in_array();
        sql.push_str(before);
        self.placeholder(sql, Param::Array(values));
        sql.push_str(after);
    }

    pub(crate) fn into_values(self) -> Vec<Param> {
        self.values
    }
}

/// The parts of a `SELECT` the derive emitted, for assembling a scoped one.
pub(crate) struct SelectParts<'a> {
    /// The selected columns, e.g. `"posts"."id", "posts"."title"`.
    pub columns: &'a str,
    /// ` FROM "posts"` or ` FROM "tags" JOIN "post_tags" ON ...`.
    pub from: &'a str,
    /// The table name to give a subquery so the column names still resolve.
    pub table: &'a str,
    /// The column that groups rows by owner, if any (foreign key or join
    /// table key), selected first as the owner column when `owner_column`.
    pub owner: Option<&'a str>,
    /// Whether to select `owner` as the first column (for joins).
    pub owner_column: bool,
    /// The primary key column(s), the last tie-breaker of every ordering.
    pub primary_key: &'a str,
}

/// `SELECT ... WHERE <owner> IN rarray(<keys>) AND (<filter>) ORDER BY
/// <owner>, <order>, <pk>`, with a per-owner limit as a window function.
pub(crate) fn scoped_select<E>(
    backend: Backend,
    parts: &SelectParts<'_>,
    keys: Option<Rc<Vec<Value>>>,
    scope: &Scope<E>,
) -> (String, Vec<Param>) {
    const OWNER: &str = "\"__loader_owner\"";
    const ROW: &str = "\"__loader_row\"";
    let mut params = Params::new(backend);
    let mut conditions = String::new();
    let mut add_condition = |text: &mut dyn FnMut(&mut String, &mut Params)| {
        conditions.push_str(if conditions.is_empty() {
            " WHERE "
        } else {
            " AND "
        });
        text(&mut conditions, &mut params);
    };
    if let (Some(keys), Some(owner)) = (keys, parts.owner) {
        add_condition(&mut |sql, params| {
            sql.push_str(owner);
            params.in_array(sql, Rc::clone(&keys));
        });
    }
    if let Some(filter) = &scope.filter {
        add_condition(&mut |sql, params| {
            sql.push('(');
            filter.render(sql, params);
            sql.push(')');
        });
    }
    let mut order = String::new();
    for item in &scope.order {
        order.push_str(item.column);
        order.push_str(if item.descending { " DESC, " } else { ", " });
    }
    order.push_str(parts.primary_key);

    let owner_select = match (parts.owner, parts.owner_column) {
        (Some(owner), true) => format!("{owner} AS {OWNER}, "),
        _ => String::new(),
    };
    let mut sql = String::new();
    match (scope.per_owner, parts.owner) {
        (Some(limit), Some(owner)) => {
            // Rank each owner's rows in the query's order and keep the first
            // `limit`: one statement, never "load all, then truncate".
            let outer_owner = if parts.owner_column { OWNER } else { owner };
            sql.push_str("SELECT ");
            if parts.owner_column {
                sql.push_str(OWNER);
                sql.push_str(", ");
            }
            sql.push_str(parts.columns);
            sql.push_str(" FROM (SELECT ");
            sql.push_str(&owner_select);
            sql.push_str(parts.columns);
            sql.push_str(", ROW_NUMBER() OVER (PARTITION BY ");
            sql.push_str(owner);
            sql.push_str(" ORDER BY ");
            sql.push_str(&order);
            sql.push_str(") AS ");
            sql.push_str(ROW);
            sql.push_str(parts.from);
            sql.push_str(&conditions);
            sql.push_str(") AS ");
            sql.push_str(parts.table);
            sql.push_str(" WHERE ");
            sql.push_str(ROW);
            sql.push_str(" <= ");
            params.placeholder(&mut sql, Param::Value(Value::Integer(clamp(limit))));
            sql.push_str(" ORDER BY ");
            sql.push_str(outer_owner);
            sql.push_str(", ");
            sql.push_str(&order);
        }
        _ => {
            sql.push_str("SELECT ");
            sql.push_str(&owner_select);
            sql.push_str(parts.columns);
            sql.push_str(parts.from);
            sql.push_str(&conditions);
            sql.push_str(" ORDER BY ");
            if let Some(owner) = parts.owner {
                sql.push_str(owner);
                sql.push_str(", ");
            }
            sql.push_str(&order);
        }
    }
    // SQLite needs a LIMIT before an OFFSET (-1: none); PostgreSQL does not.
    let limit = match (scope.limit, scope.offset, backend) {
        (Some(limit), _, _) => Some(clamp(limit)),
        (None, Some(_), Backend::Sqlite) => Some(-1),
        _ => None,
    };
    if let Some(limit) = limit {
        sql.push_str(" LIMIT ");
        params.placeholder(&mut sql, Param::Value(Value::Integer(limit)));
    }
    if let Some(offset) = scope.offset {
        sql.push_str(" OFFSET ");
        params.placeholder(&mut sql, Param::Value(Value::Integer(clamp(offset))));
    }
    (sql, params.into_values())
}

/// `SELECT <owner>, COUNT(*) ... GROUP BY <owner>`: how many related rows
/// each owner has, without loading them.
pub(crate) fn scoped_count<E>(
    backend: Backend,
    owner: &str,
    from: &str,
    keys: Option<Rc<Vec<Value>>>,
    scope: &Scope<E>,
) -> (String, Vec<Param>) {
    let mut params = Params::new(backend);
    let mut sql = format!("SELECT {owner}, COUNT(*){from}");
    let mut first = true;
    let mut next = |sql: &mut String| {
        sql.push_str(if std::mem::take(&mut first) {
            " WHERE "
        } else {
            " AND "
        });
    };
    if let Some(keys) = keys {
        next(&mut sql);
        sql.push_str(owner);
        params.in_array(&mut sql, keys);
    }
    if let Some(filter) = &scope.filter {
        next(&mut sql);
        sql.push('(');
        filter.render(&mut sql, &mut params);
        sql.push(')');
    }
    sql.push_str(" GROUP BY ");
    sql.push_str(owner);
    (sql, params.into_values())
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
