//! The time crate's `Date`, `PrimitiveDateTime` and `OffsetDateTime`
//! (cargo feature `time`): ISO 8601 text on SQLite, as rusqlite reads and
//! writes it; `date`, `timestamp` and `timestamptz` on PostgreSQL.

use rusqlite::types::ValueRef;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

use super::{Field, PgValue, ToValue, Value};
use crate::row::BoxError;

macro_rules! time_field {
    ($ty:ty, $variant:ident) => {
        impl Field for $ty {
            fn from_sqlite(value: ValueRef<'_>) -> Result<Self, BoxError> {
                super::field::sqlite(value)
            }

            fn from_postgres(value: PgValue<'_>) -> Result<Self, BoxError> {
                #[cfg(feature = "postgres")]
                return super::field::postgres_or_text::<$ty>(value);
                #[cfg(not(feature = "postgres"))]
                value.unreachable()
            }
        }

        impl ToValue for $ty {
            fn to_value(&self) -> Value {
                Value::$variant(*self)
            }
        }
    };
}

time_field!(Date, TimeDate);
time_field!(PrimitiveDateTime, TimeDateTime);
time_field!(OffsetDateTime, TimeOffset);
