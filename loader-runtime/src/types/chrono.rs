//! chrono's `NaiveDate`, `NaiveDateTime` and `DateTime<Utc>` (cargo
//! feature `chrono`): ISO 8601 text on SQLite, as rusqlite reads and
//! writes it; `date`, `timestamp` and `timestamptz` on PostgreSQL.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use super::{Field, PgValue, ToValue, Value};
use crate::row::BoxError;
use rusqlite::types::ValueRef;

date_field!(NaiveDate, ChronoDate);
date_field!(NaiveDateTime, ChronoDateTime);

impl Field for DateTime<Utc> {
    /// RFC 3339 text with any offset, or a date and time taken as UTC, or
    /// Unix seconds (rusqlite's rules).
    fn from_sqlite(value: ValueRef<'_>) -> Result<Self, BoxError> {
        super::field::sqlite(value)
    }

    /// A `timestamptz`, or a `timestamp` taken as UTC (as on SQLite).
    fn from_postgres(value: PgValue<'_>) -> Result<Self, BoxError> {
        #[cfg(feature = "postgres")]
        return match *value.ty() {
            tokio_postgres::types::Type::TIMESTAMP => {
                value.decode::<NaiveDateTime>().map(|at| at.and_utc())
            }
            _ => super::field::postgres_or_text::<DateTime<Utc>>(value),
        };
        #[cfg(not(feature = "postgres"))]
        value.unreachable()
    }
}

impl ToValue for DateTime<Utc> {
    fn to_value(&self) -> Value {
        Value::ChronoUtc(*self)
    }
}
