//! Running one statement on either backend and decoding its rows.

use std::borrow::Cow;
use std::time::Instant;

use rusqlite::Connection;

use super::{Conn, Db};
use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::row::{BoxError, Row};
use crate::scope::{Param, bound_values};

impl Db {
    /// Runs `sql` and decodes every row as an `E` (its columns starting at 0).
    pub(crate) fn fetch<E: Entity>(
        &self,
        sql: impl Into<Cow<'static, str>>,
        params: &[Param],
    ) -> Result<Vec<E>> {
        let mut out = Vec::new();
        self.fetch_events(E::META.name, sql, params, &mut |event| {
            match event {
                // Where the row count comes first (PostgreSQL), the vector
                // is sized once: growing it by doubling copied a
                // 100,000-row result about twice over.
                Event::Rows(rows) => out.reserve_exact(rows),
                Event::Row(row, sql) => out.push(decode::<E>(row, 0, sql)?),
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Runs `sql` (a constant the derive emitted, or a statement assembled
    /// for a scope, in this backend's dialect) and hands each row to
    /// `each`; logs the statement once it has been read to the end.
    pub(crate) fn fetch_with(
        &self,
        entity: &'static str,
        sql: impl Into<Cow<'static, str>>,
        params: &[Param],
        mut each: impl FnMut(&Row<'_>, &str) -> Result<()>,
    ) -> Result<usize> {
        self.fetch_events(entity, sql, params, &mut |event| match event {
            Event::Rows(_) => Ok(()),
            Event::Row(row, sql) => each(row, sql),
        })
    }

    /// [`fetch_with`](Db::fetch_with), also told the number of rows before
    /// the first when the backend knows it.
    fn fetch_events(
        &self,
        entity: &'static str,
        sql: impl Into<Cow<'static, str>>,
        params: &[Param],
        each: &mut dyn FnMut(Event<'_, '_>) -> Result<()>,
    ) -> Result<usize> {
        let sql: Cow<'static, str> = sql.into();
        if self.diagnostics.borrow().forbidden > 0 {
            return Err(Error::QueryForbidden { entity, sql });
        }
        if self.echo.get() {
            eprintln!("[loader] {sql}");
        }
        let bound_values = bound_values(params);
        let start = Instant::now();
        let query_error = |source: BoxError| Error::Query {
            entity,
            sql: sql.clone(),
            source,
        };
        let result = match &self.conn {
            Conn::Sqlite(conn) => fetch_sqlite(conn, &sql, params, each, &query_error),
            #[cfg(feature = "postgres")]
            Conn::Postgres(conn) => conn.fetch(&sql, params, each, &query_error),
        };
        let elapsed = start.elapsed();
        let count = match &result {
            Ok(count) => *count,
            Err(_) => 0,
        };
        tracing::debug!(
            target: "loader::query",
            entity,
            sql = %sql,
            bound_values,
            rows = count,
            elapsed_us = elapsed.as_micros() as u64,
            "query",
        );
        self.record(sql, bound_values, count, elapsed);
        result
    }
}

/// What a backend hands the reader of a statement's result.
pub(crate) enum Event<'r, 'a> {
    /// How many rows follow, when known before the first (PostgreSQL).
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    Rows(usize),
    /// One row, with the statement's text.
    Row(&'r Row<'a>, &'r str),
}

/// Runs one statement on SQLite through the connection's statement cache.
fn fetch_sqlite(
    conn: &Connection,
    sql: &str,
    params: &[Param],
    each: &mut dyn FnMut(Event<'_, '_>) -> Result<()>,
    query_error: &dyn Fn(BoxError) -> Error,
) -> Result<usize> {
    let mut stmt = conn
        .prepare_cached(sql)
        .map_err(|e| query_error(Box::new(e)))?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(params.iter()))
        .map_err(|e| query_error(Box::new(e)))?;
    let mut count = 0;
    loop {
        match rows.next() {
            Ok(Some(row)) => {
                count += 1;
                each(Event::Row(&Row::sqlite(row), sql))?;
            }
            Ok(None) => return Ok(count),
            Err(source) => return Err(query_error(Box::new(source))),
        }
    }
}

/// Decodes an `E` from `row` starting at column `offset`, turning a failure
/// into an error that names the entity, the column and the row's key.
pub(crate) fn decode<E: Entity>(row: &Row<'_>, offset: usize, sql: &str) -> Result<E> {
    E::decode(row, offset).map_err(|source| {
        let meta = &E::META;
        let column = source
            .index()
            .checked_sub(offset)
            .and_then(|index| meta.columns.get(index).copied())
            .unwrap_or("?");
        let key = display_key(row, offset, meta.primary_key);
        Error::Decode {
            entity: meta.name,
            column,
            key,
            sql: Cow::Owned(sql.to_owned()),
            source: source.into_source(),
        }
    })
}

/// The row's primary key as it would be written in SQL: `42`, `'ada'`, or
/// `(1, 2)` for a composite key.
fn display_key(row: &Row<'_>, offset: usize, columns: &[usize]) -> Option<String> {
    let values = columns
        .iter()
        .map(|&index| row.display(offset + index))
        .collect::<Option<Vec<String>>>()?;
    match values.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        many => Some(format!("({})", many.join(", "))),
    }
}
