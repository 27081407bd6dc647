//! Where a statement's rows go as the backend reads them.

use std::any::Any;
use std::borrow::Cow;

use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::row::Row;

/// Receives the rows of one statement, decoding each as it arrives.
///
/// Owned and `Send`: it travels with its statement to whatever runs it (a
/// SQLite worker thread, a PostgreSQL pipeline) and back to the job.
pub trait Sink: Send + 'static {
    /// One row of the result; `sql` is the statement's text, for errors.
    fn row(&mut self, row: &Row<'_>, sql: &str) -> Result<()>;
    /// The sink as `Any`, for the job to take its concrete type back.
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
}

/// Decodes every row as an entity `T` (its columns from `offset`).
pub struct Decoded<T> {
    pub rows: Vec<T>,
}

impl<T> Decoded<T> {
    pub(crate) fn new() -> Self {
        Decoded { rows: Vec::new() }
    }
}

impl<T: Entity> Sink for Decoded<T> {
    fn row(&mut self, row: &Row<'_>, sql: &str) -> Result<()> {
        self.rows.push(decode::<T>(row, 0, sql)?);
        Ok(())
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
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
