//! Reading columns into fields: [`Field`], and its implementations for the
//! standard types.

use std::marker::PhantomData;

use rusqlite::types::{FromSql, ValueRef};

use super::ToValue;
use crate::row::BoxError;

/// A type an entity's field can have: one that both backends can read
/// from a column, and that can be bound as a parameter ([`ToValue`]), so
/// that its column can be compared in filters and serve as a key.
///
/// Implemented for the integer and float types, `bool`, `String`,
/// `Vec<u8>`, `Option`s of them, the types of the enabled features (see
/// the [module documentation](crate::types)), and by
/// [`#[derive(SqlType)]`](derive@crate::SqlType) for newtypes and enums.
/// A hand-written implementation usually delegates to one of those:
///
/// ```
/// use loader_runtime::BoxError;
/// use loader_runtime::rusqlite::types::ValueRef;
/// use loader_runtime::types::{Field, PgValue, ToValue, Value};
///
/// /// An amount in cents, stored as an integer.
/// struct Cents(i64);
///
/// impl ToValue for Cents {
///     fn to_value(&self) -> Value {
///         Value::Int(self.0)
///     }
/// }
///
/// impl Field for Cents {
///     fn from_sqlite(value: ValueRef<'_>) -> Result<Self, BoxError> {
///         i64::from_sqlite(value).map(Cents)
///     }
///     fn from_postgres(value: PgValue<'_>) -> Result<Self, BoxError> {
///         i64::from_postgres(value).map(Cents)
///     }
/// }
/// ```
///
/// `NULL` never reaches these functions: it is read through
/// [`Field::from_null`], which only `Option` accepts.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read from a column",
    label = "this field's type cannot be read from a row",
    note = "a field needs a type of `loader_runtime::types`: integers, floats, `bool`, `String`, `Vec<u8>` and `Option`s of them; `uuid::Uuid` (cargo feature `uuid`), `chrono` dates and times (`chrono`), `time` dates and times (`time`), `rust_decimal::Decimal` (`rust_decimal`), `serde_json::Value` and `Json<T>` (`serde_json`); for a newtype or an enum, `#[derive(loader_runtime::SqlType)]`"
)]
pub trait Field: ToValue + Sized {
    /// Reads a non-`NULL` SQLite value.
    fn from_sqlite(value: ValueRef<'_>) -> Result<Self, BoxError>;

    /// Reads a non-`NULL` PostgreSQL value (binary format, with the
    /// column's type).
    fn from_postgres(value: PgValue<'_>) -> Result<Self, BoxError>;

    /// What a `NULL` column reads as: an error, except for `Option`.
    fn from_null() -> Result<Self, BoxError> {
        Err("unexpected NULL (the field's type is not an `Option`)".into())
    }
}

/// A non-`NULL` PostgreSQL column value: its type and its bytes in binary
/// format. It can only be made by the PostgreSQL backend (cargo feature
/// `postgres`); without it, a [`Field::from_postgres`] is never called.
#[derive(Clone, Copy)]
pub struct PgValue<'a> {
    #[cfg(feature = "postgres")]
    ty: &'a tokio_postgres::types::Type,
    #[cfg(feature = "postgres")]
    raw: &'a [u8],
    #[cfg(not(feature = "postgres"))]
    never: std::convert::Infallible,
    lifetime: PhantomData<&'a [u8]>,
}

#[cfg(feature = "postgres")]
impl<'a> PgValue<'a> {
    pub(crate) fn new(ty: &'a tokio_postgres::types::Type, raw: &'a [u8]) -> Self {
        PgValue {
            ty,
            raw,
            lifetime: PhantomData,
        }
    }

    /// The column's PostgreSQL type.
    pub fn ty(&self) -> &'a tokio_postgres::types::Type {
        self.ty
    }

    /// The value's bytes, in PostgreSQL's binary format for [`ty`](Self::ty).
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Reads the value with tokio-postgres's own `FromSql` for `T`,
    /// or fails naming both types if `T` does not accept the column's.
    pub fn decode<T: tokio_postgres::types::FromSql<'a>>(&self) -> Result<T, BoxError> {
        if T::accepts(self.ty) {
            T::from_sql(self.ty, self.raw)
        } else {
            Err(self.mismatch::<T>())
        }
    }

    /// "cannot read a PostgreSQL `uuid` column into a field of type `i64`".
    pub(crate) fn mismatch<T>(&self) -> BoxError {
        format!(
            "cannot read a PostgreSQL `{}` column into a field of type `{}`",
            self.ty,
            std::any::type_name::<T>()
        )
        .into()
    }
}

#[cfg(not(feature = "postgres"))]
impl PgValue<'_> {
    pub(crate) fn unreachable(&self) -> ! {
        match self.never {}
    }
}

impl<T: Field> Field for Option<T> {
    fn from_sqlite(value: ValueRef<'_>) -> Result<Self, BoxError> {
        T::from_sqlite(value).map(Some)
    }

    fn from_postgres(value: PgValue<'_>) -> Result<Self, BoxError> {
        T::from_postgres(value).map(Some)
    }

    fn from_null() -> Result<Self, BoxError> {
        Ok(None)
    }
}

/// Reads through rusqlite's own `FromSql`, so that values read the same
/// as rusqlite reads them (range checks, date formats).
pub(crate) fn sqlite<T: FromSql>(value: ValueRef<'_>) -> Result<T, BoxError> {
    T::column_result(value).map_err(|error| match error {
        rusqlite::types::FromSqlError::InvalidType => format!(
            "cannot read a SQLite {} value into a field of type `{}`",
            sqlite_kind(value),
            std::any::type_name::<T>()
        )
        .into(),
        other => other.into(),
    })
}

fn sqlite_kind(value: ValueRef<'_>) -> &'static str {
    match value {
        ValueRef::Null => "NULL",
        ValueRef::Integer(_) => "integer",
        ValueRef::Real(_) => "real",
        ValueRef::Text(_) => "text",
        ValueRef::Blob(_) => "blob",
    }
}

/// Implements `Field` for a standard type: SQLite through rusqlite, and
/// PostgreSQL through the widening decoder.
macro_rules! std_fields {
    ($($ty:ty => $postgres:ident),* $(,)?) => {$(
        impl Field for $ty {
            fn from_sqlite(value: ValueRef<'_>) -> Result<Self, BoxError> {
                sqlite(value)
            }

            fn from_postgres(value: PgValue<'_>) -> Result<Self, BoxError> {
                #[cfg(feature = "postgres")]
                return crate::backend::postgres::decode::$postgres(value);
                #[cfg(not(feature = "postgres"))]
                value.unreachable()
            }
        }
    )*};
}

std_fields! {
    i64 => int8,
    i32 => int4,
    i16 => int2,
    f64 => float8,
    f32 => float4,
    bool => boolean,
    String => text,
    Vec<u8> => bytea,
}

/// Reads through tokio-postgres's `FromSql` for `T`, or, from a text
/// column, through rusqlite's parsing of the same text (dates stored as
/// text read alike on both databases).
#[cfg(all(feature = "postgres", any(feature = "chrono", feature = "time")))]
pub(crate) fn postgres_or_text<T>(value: PgValue<'_>) -> Result<T, BoxError>
where
    T: FromSql + for<'r> tokio_postgres::types::FromSql<'r>,
{
    if crate::backend::postgres::decode::is_text_type(value.ty()) {
        sqlite(ValueRef::Text(value.raw()))
    } else {
        value.decode::<T>()
    }
}
