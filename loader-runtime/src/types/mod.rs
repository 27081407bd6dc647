//! The column types fields can have, and how values are bound.
//!
//! A field's type implements [`Field`] (read from a column); a key's, or a
//! compared column's, also [`ToValue`] (bound as a parameter). Both are
//! implemented for these types, each on both databases, as a plain field,
//! an `Option` field, a primary or foreign key (if `Eq + Hash`), a filter
//! value, a member of an `is_in` set or a key set, and in ordering:
//!
//! | Rust type | SQLite storage | PostgreSQL types | cargo feature |
//! |---|---|---|---|
//! | `i64`, `i32`, `i16` | integer | `int8`, `int4`, `int2` (a narrower column reads into a wider field) | — |
//! | `f64`, `f32` | real | `float8`, `float4`; `numeric` into `f64` | — |
//! | `bool` | integer 0/1 | `boolean` | — |
//! | `String` | text | `text`, `varchar`, `char`, `name`, enum labels; `timestamp`, `date`, `uuid`, `numeric`, `json` read as their text | — |
//! | `Vec<u8>` | blob | `bytea` | — |
//! | `uuid::Uuid` | 16-byte blob (text also read) | `uuid` | `uuid` |
//! | `uuid::fmt::Hyphenated` | hyphenated text | `uuid` | `uuid` |
//! | `chrono::NaiveDate`, `NaiveDateTime`, `DateTime<Utc>` | ISO 8601 text, as rusqlite writes it | `date`, `timestamp`, `timestamptz` (or `timestamp` as UTC) | `chrono` |
//! | `time::Date`, `PrimitiveDateTime`, `OffsetDateTime` | ISO 8601 text, as rusqlite writes it | `date`, `timestamp`, `timestamptz` | `time` |
//! | `rust_decimal::Decimal` | text, exact (integers and reals also read) | `numeric`, exact | `rust_decimal` |
//! | `serde_json::Value`, `Json<T>` | text | `json`, `jsonb` | `serde_json` |
//! | a newtype or fieldless enum with [`#[derive(SqlType)]`](derive@crate::SqlType) | as its inner type; an enum as text or integer | as its inner type; an enum also as a PostgreSQL enum type | — |
//!
//! Each feature turns on the matching support in the drivers (rusqlite's
//! and postgres-types' `uuid`, `chrono`, `time` features), so a user adds
//! only `features = ["uuid"]` to this crate's dependency line.
//!
//! On PostgreSQL, a value is sent in the type the server inferred for its
//! parameter: an `i64` against an `int4` column as `int4` (refused if out
//! of range), a set of UUIDs as one `uuid[]`. A value of another type than
//! the parameter's (text for a `timestamp`, an enum label for an enum
//! type) is sent in PostgreSQL's text format for the server to parse, as a
//! quoted literal would be.
//!
//! A value a field cannot hold (a malformed UUID in a text column, a
//! decimal beyond 28 digits, an enum label the Rust enum lacks) is an
//! [`Error::Decode`](crate::Error::Decode) naming the entity, the column,
//! the row's key and the SQL.

/// `Field` and `ToValue` for a date or time type of chrono or time: read
/// on SQLite by rusqlite's own parsing, on PostgreSQL by the `postgres`
/// crate's (or from text by rusqlite's), bound as `Value::$variant`.
#[cfg(any(feature = "chrono", feature = "time"))]
macro_rules! date_field {
    ($ty:ty, $variant:ident) => {
        impl $crate::types::Field for $ty {
            fn from_sqlite(
                value: ::rusqlite::types::ValueRef<'_>,
            ) -> Result<Self, $crate::row::BoxError> {
                $crate::types::field::sqlite(value)
            }

            fn from_postgres(
                value: $crate::types::PgValue<'_>,
            ) -> Result<Self, $crate::row::BoxError> {
                #[cfg(feature = "postgres")]
                return $crate::types::field::postgres_or_text::<$ty>(value);
                #[cfg(not(feature = "postgres"))]
                value.unreachable()
            }
        }

        impl $crate::types::ToValue for $ty {
            fn to_value(&self) -> $crate::types::Value {
                $crate::types::Value::$variant(*self)
            }
        }
    };
}

#[cfg(feature = "chrono")]
mod chrono;
#[cfg(feature = "rust_decimal")]
mod decimal;
mod field;
#[cfg(feature = "serde_json")]
mod json;
#[cfg(feature = "time")]
mod time;
#[cfg(feature = "uuid")]
mod uuid;
mod value;

pub use field::{Field, PgValue};
#[cfg(feature = "serde_json")]
pub use json::Json;
pub use value::{ToValue, Value};
