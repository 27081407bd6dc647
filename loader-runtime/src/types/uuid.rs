//! `uuid::Uuid` (cargo feature `uuid`): a 16-byte blob on SQLite (as
//! rusqlite stores it), `uuid` on PostgreSQL; `uuid::fmt::Hyphenated` for
//! a UUID that SQLite stores as text.

use rusqlite::types::ValueRef;
use uuid::Uuid;
use uuid::fmt::Hyphenated;

use super::{Field, PgValue, ToValue, Value};
use crate::row::BoxError;

fn parse(text: &[u8]) -> Result<Uuid, BoxError> {
    Uuid::try_parse_ascii(text).map_err(|error| {
        format!("`{}` is not a UUID: {error}", String::from_utf8_lossy(text)).into()
    })
}

impl Field for Uuid {
    /// A 16-byte blob, or text in any of the forms `Uuid` parses.
    fn from_sqlite(value: ValueRef<'_>) -> Result<Self, BoxError> {
        match value {
            ValueRef::Blob(bytes) => Uuid::from_slice(bytes).map_err(|_| {
                format!("a blob of {} bytes is not a UUID (16 bytes)", bytes.len()).into()
            }),
            ValueRef::Text(text) => parse(text),
            _ => super::field::sqlite::<Uuid>(value),
        }
    }

    /// A `uuid` column, or text holding one.
    fn from_postgres(value: PgValue<'_>) -> Result<Self, BoxError> {
        #[cfg(feature = "postgres")]
        return match crate::backend::postgres::decode::is_text_type(value.ty()) {
            true => parse(value.raw()),
            false => value.decode::<Uuid>(),
        };
        #[cfg(not(feature = "postgres"))]
        value.unreachable()
    }
}

impl ToValue for Uuid {
    fn to_value(&self) -> Value {
        Value::Uuid(*self)
    }
}

impl Field for Hyphenated {
    fn from_sqlite(value: ValueRef<'_>) -> Result<Self, BoxError> {
        Uuid::from_sqlite(value).map(Uuid::hyphenated)
    }

    fn from_postgres(value: PgValue<'_>) -> Result<Self, BoxError> {
        Uuid::from_postgres(value).map(Uuid::hyphenated)
    }
}

impl ToValue for Hyphenated {
    fn to_value(&self) -> Value {
        Value::UuidText(self.into_uuid())
    }
}
