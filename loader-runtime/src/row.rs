//! One result row, whichever backend produced it, and the field types that
//! can be read from it.

use std::error::Error as StdError;
use std::fmt;

use crate::types::Field;

/// An error from a driver or a type conversion, boxed.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// One row of a result, as the generated `Entity::decode` reads it.
pub struct Row<'a> {
    inner: Inner<'a>,
}

enum Inner<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    #[cfg(feature = "postgres")]
    Postgres(&'a tokio_postgres::Row),
}

impl<'a> Row<'a> {
    pub(crate) fn sqlite(row: &'a rusqlite::Row<'a>) -> Self {
        Row {
            inner: Inner::Sqlite(row),
        }
    }

    #[cfg(feature = "postgres")]
    pub(crate) fn postgres(row: &'a tokio_postgres::Row) -> Self {
        Row {
            inner: Inner::Postgres(row),
        }
    }

    /// The value of column `index` (0-based) as a `T`.
    pub fn get<T: Field>(&self, index: usize) -> Result<T, FieldError> {
        match &self.inner {
            Inner::Sqlite(row) => match row.get_ref(index) {
                Ok(rusqlite::types::ValueRef::Null) => T::from_null(),
                Ok(value) => T::from_sqlite(value),
                Err(error) => Err(error.into()),
            }
            .map_err(|source| FieldError::new(index, source)),
            #[cfg(feature = "postgres")]
            Inner::Postgres(row) => crate::backend::postgres::decode::get::<T>(row, index)
                .map_err(|source| FieldError::new(index, source)),
        }
    }

    /// Column `index` as it would be written in SQL (`42`, `'ada'`), for
    /// error messages; `None` if it cannot be read.
    pub(crate) fn display(&self, index: usize) -> Option<String> {
        match &self.inner {
            Inner::Sqlite(row) => row.get_ref(index).ok().map(display_sqlite),
            #[cfg(feature = "postgres")]
            Inner::Postgres(row) => crate::backend::postgres::decode::display(row, index),
        }
    }
}

/// A value as it would be written in SQL, for error messages.
fn display_sqlite(value: rusqlite::types::ValueRef<'_>) -> String {
    use rusqlite::types::ValueRef;
    match value {
        ValueRef::Null => "NULL".to_owned(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(r) => r.to_string(),
        ValueRef::Text(t) => quote_text(&String::from_utf8_lossy(t)),
        ValueRef::Blob(b) if b.len() <= 32 => {
            let hex: String = b.iter().map(|byte| format!("{byte:02x}")).collect();
            format!("X'{hex}'")
        }
        ValueRef::Blob(b) => format!("<blob of {} bytes>", b.len()),
    }
}

/// `'text'`, with `'` doubled.
pub(crate) fn quote_text(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Why a column could not be read into its field.
#[derive(Debug)]
pub struct FieldError {
    index: usize,
    source: BoxError,
}

impl FieldError {
    pub(crate) fn new(index: usize, source: impl Into<BoxError>) -> Self {
        FieldError {
            index,
            source: source.into(),
        }
    }

    /// The column's position in the row.
    pub fn index(&self) -> usize {
        self.index
    }

    pub(crate) fn into_source(self) -> BoxError {
        self.source
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.index, self.source)
    }
}

impl StdError for FieldError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.source)
    }
}
