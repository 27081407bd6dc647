//! `rust_decimal::Decimal` (cargo feature `rust_decimal`): exact on both
//! databases, `numeric` on PostgreSQL; on SQLite written as text and read
//! from text, integers, or reals (by their shortest decimal form, so a
//! `NUMERIC(10,2)` column's `0.99`, which SQLite keeps as a real, reads as
//! exactly `0.99`).

use std::str::FromStr;

use rusqlite::types::ValueRef;
use rust_decimal::Decimal;

use super::{Field, PgValue, ToValue, Value};
use crate::row::BoxError;

fn parse(text: &str) -> Result<Decimal, BoxError> {
    Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .map_err(|error| format!("`{text}` is not a decimal: {error}").into())
}

impl Field for Decimal {
    fn from_sqlite(value: ValueRef<'_>) -> Result<Self, BoxError> {
        match value {
            ValueRef::Integer(i) => Ok(Decimal::from(i)),
            ValueRef::Real(r) if r.is_finite() => parse(&r.to_string()),
            ValueRef::Text(text) => parse(std::str::from_utf8(text)?),
            _ => super::field::sqlite::<String>(value).and_then(|text| parse(&text)),
        }
    }

    /// A `numeric` (refused if NaN or beyond `Decimal`'s 28 digits), an
    /// integer column, or text holding a decimal.
    fn from_postgres(value: PgValue<'_>) -> Result<Self, BoxError> {
        #[cfg(feature = "postgres")]
        return match *value.ty() {
            tokio_postgres::types::Type::NUMERIC => value.decode::<Decimal>(),
            tokio_postgres::types::Type::INT2
            | tokio_postgres::types::Type::INT4
            | tokio_postgres::types::Type::INT8 => i64::from_postgres(value).map(Decimal::from),
            _ => parse(&String::from_postgres(value)?),
        };
        #[cfg(not(feature = "postgres"))]
        value.unreachable()
    }
}

impl ToValue for Decimal {
    fn to_value(&self) -> Value {
        Value::Decimal(*self)
    }
}
