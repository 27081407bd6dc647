//! Statements assembled at run time: scoped reads and counts, and reads
//! whose owners are named by a subquery. Only the condition, order and
//! limit fragments are built here; tables, column lists, joins and key
//! columns come from the constants the derive emitted.

use crate::types::Value;

use super::OwnerSql;
use crate::scope::{Alias, Param, Params, Scope};
use crate::sql::Backend;

/// How a statement picks the rows of its owners.
pub(crate) enum OwnerFilter<'a> {
    /// Every row (the owners are every row of their table, or this is a root).
    All,
    /// The owner column's value is in this key set (one array parameter).
    Keys(Vec<Value>),
    /// The owner column's value is `column` of some row of the owners'
    /// statement: `owner IN (SELECT column FROM (<owners>) AS <table>)`.
    Subquery {
        owners: &'a OwnerSql,
        column: &'static str,
    },
}

impl OwnerFilter<'_> {
    /// Whether a statement naming its owners this way must be planned by
    /// PostgreSQL for each run: a subquery whose values (a `LIMIT`, a
    /// filter's operands) decide how many owners it names. One with no
    /// values has a single plan, which a kept statement reuses.
    pub(crate) fn plans_per_run(&self) -> bool {
        matches!(self, OwnerFilter::Subquery { owners, .. } if !owners.params.is_empty())
    }
}

/// The parts of a `SELECT` the derive emitted, for assembling a scoped one.
pub(crate) struct SelectParts<'a> {
    /// The selected columns, e.g. `"posts"."id", "posts"."title"`.
    pub columns: &'a str,
    /// ` FROM "posts"` or ` FROM "tags" JOIN "post_tags" ON ...`.
    pub from: &'a str,
    /// The quoted table name, given to a subquery so its column names still
    /// resolve.
    pub table: &'static str,
    /// The column that groups rows by owner, if any (foreign key or join
    /// table key), selected first as the owner column when `owner_column`.
    pub owner: Option<&'a str>,
    /// Whether to select `owner` as the first column (for joins).
    pub owner_column: bool,
    /// The primary key column(s), the last tie-breaker of every ordering.
    pub primary_key: &'a str,
}

/// An assembled statement.
pub(crate) struct Select {
    pub sql: String,
    pub params: Vec<Param>,
    /// Where the text stops being needed to name the same rows: the
    /// `ORDER BY`, unless a `LIMIT` or `OFFSET` follows it.
    body: usize,
    table: &'static str,
}

impl Select {
    /// This statement as the owners of the level below it.
    pub(crate) fn owner_sql(&self) -> OwnerSql {
        OwnerSql {
            text: self.sql[..self.body].to_owned(),
            params: self.params.clone(),
            table: self.table,
        }
    }
}

/// Starts the parameters of a statement whose owner condition is `owner`:
/// a subquery's parameters come first, so its text keeps its numbers.
fn params_for(backend: Backend, owner: &OwnerFilter<'_>) -> Params {
    match owner {
        OwnerFilter::Subquery { owners, .. } => {
            Params::starting_with(backend, owners.params.clone())
        }
        _ => Params::new(backend),
    }
}

/// Appends the owner condition (` IN rarray(?N)`, ` = ANY($N)` or a
/// subquery) for the column `owner`.
///
/// On PostgreSQL the subquery is an array, ` = ANY(ARRAY(SELECT ...))`:
/// the server runs it once and looks the keys up by index, as for a key
/// set; as a plain ` IN (SELECT ...)` semi-join it chose a sequential scan
/// of the child table for as few as 100 owners (48 ms against 4 ms for
/// 100 users' posts' comments in `benches/latency.rs`' data).
fn owner_condition(
    backend: Backend,
    sql: &mut String,
    params: &mut Params,
    column: &str,
    owner: OwnerFilter<'_>,
) {
    match owner {
        OwnerFilter::All => {}
        OwnerFilter::Keys(keys) => {
            sql.push_str(column);
            params.in_array(sql, keys);
        }
        OwnerFilter::Subquery {
            owners,
            column: key,
        } => {
            sql.push_str(column);
            sql.push_str(match backend {
                Backend::Sqlite => " IN (SELECT ",
                Backend::Postgres => " = ANY(ARRAY(SELECT ",
            });
            sql.push_str(key);
            sql.push_str(" FROM (");
            sql.push_str(&owners.text);
            sql.push_str(") AS ");
            sql.push_str(owners.table);
            sql.push_str(match backend {
                Backend::Sqlite => ")",
                Backend::Postgres => "))",
            });
        }
    }
}

/// `SELECT ... WHERE <owner condition> AND (<filter>) ORDER BY <owner>,
/// <order>, <pk>`, with a per-owner limit as a window function.
pub(crate) fn select<E>(
    backend: Backend,
    parts: &SelectParts<'_>,
    owner: OwnerFilter<'_>,
    scope: &Scope<E>,
) -> Select {
    const OWNER: &str = "\"__loader_owner\"";
    const ROW: &str = "\"__loader_row\"";
    let mut params = params_for(backend, &owner);
    let mut conditions = String::new();
    let next_condition = |conditions: &mut String| {
        conditions.push_str(if conditions.is_empty() {
            " WHERE "
        } else {
            " AND "
        });
    };
    if let (false, Some(column)) = (matches!(owner, OwnerFilter::All), parts.owner) {
        next_condition(&mut conditions);
        owner_condition(backend, &mut conditions, &mut params, column, owner);
    }
    if let Some(filter) = scope.filter() {
        next_condition(&mut conditions);
        conditions.push('(');
        filter.render(&mut conditions, &mut params);
        conditions.push(')');
    }
    if let Some(key) = &scope.after {
        next_condition(&mut conditions);
        let cursor = Cursor {
            backend,
            table: parts.table,
            primary_key: parts.primary_key,
            key,
        };
        cursor.render(scope, &mut conditions, &mut params);
    }
    let mut order = String::new();
    for (column, descending) in scope.order() {
        order.push_str(column);
        order.push_str(if descending { " DESC, " } else { ", " });
    }
    order.push_str(parts.primary_key);

    let owner_select = match (parts.owner, parts.owner_column) {
        (Some(owner), true) => format!("{owner} AS {OWNER}, "),
        _ => String::new(),
    };
    let mut sql = String::new();
    let body;
    let ranked = scope.per_owner.is_some() || scope.per_owner_offset.is_some();
    match (ranked, parts.owner) {
        (true, Some(owner)) => {
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
            // Rows `offset + 1` to `offset + limit` of each owner.
            let offset = scope.per_owner_offset.unwrap_or(0);
            sql.push_str(" WHERE ");
            sql.push_str(ROW);
            sql.push_str(" > ");
            params.placeholder(&mut sql, Param::Value(Value::Int(clamp(offset))));
            if let Some(limit) = scope.per_owner {
                sql.push_str(" AND ");
                sql.push_str(ROW);
                sql.push_str(" <= ");
                let last = offset.saturating_add(limit);
                params.placeholder(&mut sql, Param::Value(Value::Int(clamp(last))));
            }
            body = sql.len();
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
            body = sql.len();
            sql.push_str(" ORDER BY ");
            if let Some(owner) = parts.owner.filter(|&owner| owner != parts.primary_key) {
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
        params.placeholder(&mut sql, Param::Value(Value::Int(limit)));
    }
    if let Some(offset) = scope.offset {
        sql.push_str(" OFFSET ");
        params.placeholder(&mut sql, Param::Value(Value::Int(clamp(offset))));
    }
    let limited = scope.limit.is_some() || scope.offset.is_some();
    Select {
        body: if limited { sql.len() } else { body },
        sql,
        params: params.into_values(),
        table: parts.table,
    }
}

/// `SELECT <owner>, COUNT(*) ... GROUP BY <owner>`: how many related rows
/// each owner has, without loading them (`target`, the target's table and
/// primary key, for a keyset cursor).
pub(crate) fn count<E>(
    backend: Backend,
    owner_column: &str,
    from: &str,
    target: Option<(&'static str, &str)>,
    owner: OwnerFilter<'_>,
    scope: &Scope<E>,
) -> (String, Vec<Param>) {
    let mut params = params_for(backend, &owner);
    let mut sql = format!("SELECT {owner_column}, COUNT(*){from}");
    let mut first = true;
    let mut next = |sql: &mut String| {
        sql.push_str(if std::mem::take(&mut first) {
            " WHERE "
        } else {
            " AND "
        });
    };
    if !matches!(owner, OwnerFilter::All) {
        next(&mut sql);
        owner_condition(backend, &mut sql, &mut params, owner_column, owner);
    }
    if let Some(filter) = scope.filter() {
        next(&mut sql);
        sql.push('(');
        filter.render(&mut sql, &mut params);
        sql.push(')');
    }
    if let (Some(key), Some((table, primary_key))) = (&scope.after, target) {
        next(&mut sql);
        let cursor = Cursor {
            backend,
            table,
            primary_key,
            key,
        };
        cursor.render(scope, &mut sql, &mut params);
    }
    sql.push_str(" GROUP BY ");
    sql.push_str(owner_column);
    (sql, params.into_values())
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A keyset cursor: the rows strictly after the row whose primary key is
/// `key`, in the scope's order (its `order_by` columns, then the primary
/// key), each column compared as the database orders it, `NULL`s included
/// (first in ascending order on SQLite, last on PostgreSQL). The cursor
/// row's values are read by the statement itself, so a cursor is only a
/// key; a cursor whose row no longer exists matches no row.
struct Cursor<'a> {
    backend: Backend,
    table: &'static str,
    primary_key: &'a str,
    key: &'a Value,
}

impl Cursor<'_> {
    fn render<E>(&self, scope: &Scope<E>, sql: &mut String, params: &mut Params) {
        let order: Vec<(&'static str, bool)> = scope.order().collect();
        sql.push_str("(EXISTS (SELECT 1");
        self.from(sql, params);
        sql.push_str(") AND (");
        for (index, &(column, descending)) in order.iter().enumerate() {
            for &(earlier, _) in &order[..index] {
                self.equal(earlier, sql, params);
                sql.push_str(" AND ");
            }
            self.after(column, descending, sql, params);
            sql.push_str(" OR ");
        }
        for &(earlier, _) in &order {
            self.equal(earlier, sql, params);
            sql.push_str(" AND ");
        }
        sql.push_str(self.primary_key);
        sql.push_str(" > ");
        params.placeholder(sql, Param::Value(self.key.clone()));
        sql.push_str("))");
    }

    /// The cursor row's table, aliased apart from the rows compared to it.
    fn alias(&self) -> Alias {
        Alias {
            table: self.table,
            alias: Some("\"__loader_cursor\"".to_owned()),
            depth: 0,
        }
    }

    /// ` FROM <table> AS <cursor> WHERE <cursor>.<pk> = ?N`.
    fn from(&self, sql: &mut String, params: &mut Params) {
        let alias = self.alias();
        sql.push_str(" FROM ");
        sql.push_str(self.table);
        sql.push_str(" AS ");
        sql.push_str(alias.alias.as_deref().unwrap_or_default());
        sql.push_str(" WHERE ");
        alias.column(self.primary_key, sql);
        sql.push_str(" = ");
        params.placeholder(sql, Param::Value(self.key.clone()));
    }

    /// `(SELECT <cursor>.<column> FROM ... WHERE <cursor>.<pk> = ?N)`.
    fn value(&self, column: &str, sql: &mut String, params: &mut Params) {
        sql.push_str("(SELECT ");
        self.alias().column(column, sql);
        self.from(sql, params);
        sql.push(')');
    }

    /// The row's `column` equals the cursor's, `NULL` equal to `NULL`.
    fn equal(&self, column: &str, sql: &mut String, params: &mut Params) {
        sql.push_str(column);
        sql.push_str(match self.backend {
            Backend::Sqlite => " IS ",
            Backend::Postgres => " IS NOT DISTINCT FROM ",
        });
        self.value(column, sql, params);
    }

    /// The row's `column` comes after the cursor's in this direction:
    /// `(<cursor> IS NULL AND <row> IS NOT NULL) OR <row> > <cursor>` where
    /// `NULL`s come first, `(<row> IS NULL AND <cursor> IS NOT NULL) OR
    /// ...` where they come last.
    fn after(&self, column: &str, descending: bool, sql: &mut String, params: &mut Params) {
        let nulls_first = matches!(
            (self.backend, descending),
            (Backend::Sqlite, false) | (Backend::Postgres, true)
        );
        sql.push_str("((");
        if nulls_first {
            self.value(column, sql, params);
            sql.push_str(" IS NULL AND ");
            sql.push_str(column);
            sql.push_str(" IS NOT NULL");
        } else {
            sql.push_str(column);
            sql.push_str(" IS NULL AND ");
            self.value(column, sql, params);
            sql.push_str(" IS NOT NULL");
        }
        sql.push_str(") OR ");
        sql.push_str(column);
        sql.push_str(if descending { " < " } else { " > " });
        self.value(column, sql, params);
        sql.push(')');
    }
}
