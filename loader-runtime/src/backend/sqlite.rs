//! SQLite: one statement at a time through the connection's statement
//! cache, each row decoded as it is stepped.

use std::rc::Rc;

use rusqlite::Connection;
use rusqlite::types::{ToSql, ToSqlOutput};

use crate::engine::Statement;
use crate::error::Result;
use crate::row::Row;
use crate::scope::Param;
use crate::types::Value;

/// A parameter as rusqlite binds it: a key set becomes the `Rc` array that
/// `rarray` reads (moved out of the statement, not copied).
enum Bound {
    Value(rusqlite::types::Value),
    Array(Rc<Vec<rusqlite::types::Value>>),
}

impl ToSql for Bound {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            Bound::Value(value) => value.to_sql(),
            Bound::Array(values) => values.to_sql(),
        }
    }
}

/// Runs `statement`, feeding its sink; returns the number of rows.
pub(crate) fn run(conn: &Connection, statement: &mut Statement) -> Result<usize> {
    let bound: Vec<Bound> = std::mem::take(&mut statement.params)
        .into_iter()
        .map(|param| match param {
            Param::Value(value) => Bound::Value(value.into_sqlite()),
            Param::Array(values) => Bound::Array(Rc::new(
                values.into_iter().map(Value::into_sqlite).collect(),
            )),
        })
        .collect();
    let sql = &statement.sql;
    let mut stmt = conn
        .prepare_cached(sql)
        .map_err(|e| statement.query_error(Box::new(e)))?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(bound.iter()))
        .map_err(|e| statement.query_error(Box::new(e)))?;
    let mut count = 0;
    loop {
        match rows.next() {
            Ok(Some(row)) => {
                count += 1;
                statement.sink.row(&Row::sqlite(row), sql)?;
            }
            Ok(None) => return Ok(count),
            Err(source) => return Err(statement.query_error(Box::new(source))),
        }
    }
}
