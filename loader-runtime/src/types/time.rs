//! The time crate's `Date`, `PrimitiveDateTime` and `OffsetDateTime`
//! (cargo feature `time`): ISO 8601 text on SQLite, as rusqlite reads and
//! writes it; `date`, `timestamp` and `timestamptz` on PostgreSQL.

use time::{Date, OffsetDateTime, PrimitiveDateTime};

date_field!(Date, TimeDate);
date_field!(PrimitiveDateTime, TimeDateTime);
date_field!(OffsetDateTime, TimeOffset);
