//! Values bound as parameters: [`Value`], and [`ToValue`] for the types
//! that produce one.

use std::fmt::{self, Write as _};

/// A value bound as a statement parameter: a key, a filter value, a member
/// of a key set.
///
/// Each backend sends it as its own driver's type: on SQLite as an
/// integer, real, text or blob (a UUID as a 16-byte blob, a date as ISO
/// 8601 text, a decimal as exact text, as rusqlite stores them); on
/// PostgreSQL in the type the server inferred for the parameter (a UUID as
/// `uuid`, a set of UUIDs as `uuid[]`, an `i64` against an `int4` column as
/// `int4`). The variants beyond the first six exist with the cargo feature
/// of their crate.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// SQL `NULL`.
    Null,
    /// A boolean (an integer 0 or 1 on SQLite).
    Bool(bool),
    /// An integer of up to 64 bits.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// Text.
    Text(String),
    /// Bytes (`BLOB`, `bytea`).
    Bytes(Vec<u8>),
    /// A UUID (a 16-byte blob on SQLite, `uuid` on PostgreSQL).
    #[cfg(feature = "uuid")]
    Uuid(uuid::Uuid),
    /// A UUID stored as hyphenated text on SQLite (`uuid` on PostgreSQL).
    #[cfg(feature = "uuid")]
    UuidText(uuid::Uuid),
    /// A calendar date (`date`).
    #[cfg(feature = "chrono")]
    ChronoDate(chrono::NaiveDate),
    /// A date and time without time zone (`timestamp`).
    #[cfg(feature = "chrono")]
    ChronoDateTime(chrono::NaiveDateTime),
    /// An instant in UTC (`timestamptz`).
    #[cfg(feature = "chrono")]
    ChronoUtc(chrono::DateTime<chrono::Utc>),
    /// A calendar date (`date`).
    #[cfg(feature = "time")]
    TimeDate(time::Date),
    /// A date and time without offset (`timestamp`).
    #[cfg(feature = "time")]
    TimeDateTime(time::PrimitiveDateTime),
    /// A date and time with an offset (`timestamptz`).
    #[cfg(feature = "time")]
    TimeOffset(time::OffsetDateTime),
    /// An exact decimal (`numeric` on PostgreSQL, text on SQLite).
    #[cfg(feature = "rust_decimal")]
    Decimal(rust_decimal::Decimal),
    /// A JSON document (`json`/`jsonb` on PostgreSQL, text on SQLite).
    #[cfg(feature = "serde_json")]
    Json(serde_json::Value),
}

/// A type whose values can be bound as parameters: the field types of
/// keys, and of columns compared in filters.
///
/// Implemented for the integer and float types, `bool`, `String`,
/// `Vec<u8>`, `Option`s of them, the types of the enabled features
/// (see the [module documentation](crate::types)), and by
/// [`#[derive(SqlType)]`](derive@crate::SqlType) for newtypes and enums.
/// By hand, map to the [`Value`] of the type the column stores:
///
/// ```
/// use loader_runtime::types::{ToValue, Value};
///
/// struct Cents(i64);
///
/// impl ToValue for Cents {
///     fn to_value(&self) -> Value {
///         Value::Int(self.0)
///     }
/// }
/// assert_eq!(Cents(250).to_value(), Value::Int(250));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be bound as a parameter",
    note = "keys and compared columns need a type of `loader_runtime::types` (integers, floats, `bool`, `String`, `Vec<u8>`, and `uuid`, `chrono`, `time`, `rust_decimal`, `serde_json` types with those cargo features), or `#[derive(SqlType)]` on a newtype or an enum"
)]
pub trait ToValue {
    /// This value as a parameter.
    fn to_value(&self) -> Value;
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        match self {
            Some(value) => value.to_value(),
            None => Value::Null,
        }
    }
}

macro_rules! int_values {
    ($($ty:ty),*) => {$(
        impl ToValue for $ty {
            fn to_value(&self) -> Value {
                Value::Int(i64::from(*self))
            }
        }
    )*};
}
int_values!(i8, i16, i32, i64, u8, u16, u32);

impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
}

impl ToValue for f64 {
    fn to_value(&self) -> Value {
        Value::Float(*self)
    }
}

impl ToValue for f32 {
    fn to_value(&self) -> Value {
        Value::Float(f64::from(*self))
    }
}

impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}

impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_owned())
    }
}

impl ToValue for Vec<u8> {
    fn to_value(&self) -> Value {
        Value::Bytes(self.clone())
    }
}

impl ToValue for [u8] {
    fn to_value(&self) -> Value {
        Value::Bytes(self.to_vec())
    }
}

impl Value {
    /// This value as rusqlite binds it.
    pub(crate) fn into_sqlite(self) -> rusqlite::types::Value {
        use rusqlite::types::Value as Sqlite;
        match self {
            Value::Null => Sqlite::Null,
            Value::Bool(b) => Sqlite::Integer(i64::from(b)),
            Value::Int(i) => Sqlite::Integer(i),
            Value::Float(r) => Sqlite::Real(r),
            Value::Text(text) => Sqlite::Text(text),
            Value::Bytes(bytes) => Sqlite::Blob(bytes),
            #[cfg(feature = "uuid")]
            Value::Uuid(id) => Sqlite::Blob(id.as_bytes().to_vec()),
            #[cfg(feature = "uuid")]
            Value::UuidText(id) => Sqlite::Text(id.hyphenated().to_string()),
            #[allow(unreachable_patterns)]
            typed => Sqlite::Text(typed.postgres_text().unwrap_or_default()),
        }
    }

    /// This value in PostgreSQL's text format, as it would be written in a
    /// quoted SQL literal (`42`, `t`, `\x00ff`); `None` for `NULL`. Dates
    /// and times are written as rusqlite stores them on SQLite
    /// (`2024-01-31 10:00:00.5+00:00`), which PostgreSQL parses too.
    pub(crate) fn postgres_text(&self) -> Option<String> {
        let mut out = String::new();
        match self {
            Value::Null => return None,
            Value::Bool(b) => out.push(if *b { 't' } else { 'f' }),
            Value::Int(i) => out.push_str(&i.to_string()),
            Value::Float(r) if r.is_nan() => out.push_str("NaN"),
            Value::Float(r) if r.is_infinite() => {
                out.push_str(if *r > 0.0 { "Infinity" } else { "-Infinity" })
            }
            Value::Float(r) => out.push_str(&format!("{r:?}")),
            Value::Text(text) => out.push_str(text),
            Value::Bytes(bytes) => {
                out.push_str("\\x");
                for byte in bytes {
                    let _ = write!(out, "{byte:02x}");
                }
            }
            #[cfg(feature = "uuid")]
            Value::Uuid(id) | Value::UuidText(id) => out.push_str(&id.hyphenated().to_string()),
            #[cfg(feature = "chrono")]
            Value::ChronoDate(date) => out.push_str(&rusqlite_text(date)),
            #[cfg(feature = "chrono")]
            Value::ChronoDateTime(at) => out.push_str(&rusqlite_text(at)),
            #[cfg(feature = "chrono")]
            Value::ChronoUtc(at) => out.push_str(&rusqlite_text(at)),
            #[cfg(feature = "time")]
            Value::TimeDate(date) => out.push_str(&rusqlite_text(date)),
            #[cfg(feature = "time")]
            Value::TimeDateTime(at) => out.push_str(&rusqlite_text(at)),
            #[cfg(feature = "time")]
            Value::TimeOffset(at) => out.push_str(&rusqlite_text(at)),
            #[cfg(feature = "rust_decimal")]
            Value::Decimal(decimal) => out.push_str(&decimal.to_string()),
            #[cfg(feature = "serde_json")]
            Value::Json(json) => out.push_str(&json.to_string()),
        }
        Some(out)
    }

    /// What kind of value this is, for messages: `an integer`, `a uuid`.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a floating-point number",
            Value::Text(_) => "text",
            Value::Bytes(_) => "bytes",
            #[cfg(feature = "uuid")]
            Value::Uuid(_) | Value::UuidText(_) => "a uuid",
            #[cfg(feature = "chrono")]
            Value::ChronoDate(_) => "a date",
            #[cfg(feature = "chrono")]
            Value::ChronoDateTime(_) => "a timestamp",
            #[cfg(feature = "chrono")]
            Value::ChronoUtc(_) => "a timestamp with time zone",
            #[cfg(feature = "time")]
            Value::TimeDate(_) => "a date",
            #[cfg(feature = "time")]
            Value::TimeDateTime(_) => "a timestamp",
            #[cfg(feature = "time")]
            Value::TimeOffset(_) => "a timestamp with time zone",
            #[cfg(feature = "rust_decimal")]
            Value::Decimal(_) => "a decimal",
            #[cfg(feature = "serde_json")]
            Value::Json(_) => "a JSON document",
        }
    }
}

/// The text rusqlite stores for a date or time, so that SQLite reads back
/// what was written and text comparisons order chronologically.
#[cfg(any(feature = "chrono", feature = "time"))]
fn rusqlite_text(value: &dyn rusqlite::ToSql) -> String {
    use rusqlite::types::{ToSqlOutput, Value as Sqlite, ValueRef};
    match value.to_sql() {
        Ok(ToSqlOutput::Owned(Sqlite::Text(text))) => text,
        Ok(ToSqlOutput::Borrowed(ValueRef::Text(text))) => {
            String::from_utf8_lossy(text).into_owned()
        }
        // rusqlite formats every date it can hold; a date it cannot
        // format (a year beyond 9999) is bound as text that matches none.
        _ => String::new(),
    }
}

impl fmt::Display for Value {
    /// The value as it would be written in SQL: `42`, `'ada'`, `NULL`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(r) => write!(f, "{r}"),
            Value::Bool(b) => f.write_str(if *b { "TRUE" } else { "FALSE" }),
            Value::Bytes(bytes) => write!(f, "<{} bytes>", bytes.len()),
            other => {
                let text = other.postgres_text().unwrap_or_default();
                f.write_str(&crate::row::quote_text(&text))
            }
        }
    }
}
