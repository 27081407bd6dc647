//! Binding parameters on PostgreSQL.
//!
//! Values arrive as SQLite-shaped values (integer, real, text, blob, null),
//! the same ones the SQLite backend binds; the server has inferred each
//! parameter's type from the statement, and each value is written in that
//! type: an `i64` key bound against an `int4` column is sent as `int4`
//! (refused if out of range), an integer compared with a `boolean` column
//! as a boolean, a key set as an array of the column's type.

use std::error::Error as StdError;

use bytes::BytesMut;
use postgres::types::{IsNull, Kind, ToSql, Type, to_sql_checked};
use postgres_protocol::types as wire;
use rusqlite::types::Value;

use crate::row::BoxError;
use crate::scope::Param;

/// A parameter as the `postgres` crate binds it (shared across its
/// threads, hence borrowed out of the `Rc` that SQLite's arrays need).
#[derive(Debug)]
pub(crate) enum PgParam<'a> {
    Value(&'a Value),
    Array(&'a [Value]),
}

impl<'a> PgParam<'a> {
    pub(crate) fn new(param: &'a Param) -> Self {
        match param {
            Param::Value(value) => PgParam::Value(value),
            Param::Array(values) => PgParam::Array(values),
        }
    }
}

impl ToSql for PgParam<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match self {
            PgParam::Value(value) => value_to_sql(value, ty, out),
            PgParam::Array(values) => {
                let Kind::Array(member) = ty.kind() else {
                    return Err(
                        format!("cannot bind a key set to a parameter of type `{ty}`").into(),
                    );
                };
                let dimension = wire::ArrayDimension {
                    len: i32::try_from(values.len())?,
                    lower_bound: 1,
                };
                wire::array_to_sql(
                    [dimension],
                    member.oid(),
                    values.iter(),
                    |value, out| {
                        Ok(match value_to_sql(value, member, out)? {
                            IsNull::Yes => postgres_protocol::IsNull::Yes,
                            IsNull::No => postgres_protocol::IsNull::No,
                        })
                    },
                    out,
                )?;
                Ok(IsNull::No)
            }
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn value_to_sql(value: &Value, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
    match value {
        Value::Null => return Ok(IsNull::Yes),
        Value::Integer(i) => integer_to_sql(*i, ty, out)?,
        Value::Real(r) => real_to_sql(*r, ty, out)?,
        Value::Text(text) => match *ty {
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                wire::text_to_sql(text, out)
            }
            _ => return Err(mismatch("text", ty)),
        },
        Value::Blob(bytes) => match *ty {
            Type::BYTEA => wire::bytea_to_sql(bytes, out),
            _ => return Err(mismatch("a blob", ty)),
        },
    }
    Ok(IsNull::No)
}

fn integer_to_sql(i: i64, ty: &Type, out: &mut BytesMut) -> Result<(), BoxError> {
    match *ty {
        Type::INT8 => wire::int8_to_sql(i, out),
        Type::INT4 => wire::int4_to_sql(i32::try_from(i).map_err(|_| range(i, ty))?, out),
        Type::INT2 => wire::int2_to_sql(i16::try_from(i).map_err(|_| range(i, ty))?, out),
        Type::BOOL => wire::bool_to_sql(i != 0, out),
        Type::FLOAT8 => wire::float8_to_sql(i as f64, out),
        Type::FLOAT4 => wire::float4_to_sql(i as f32, out),
        Type::NUMERIC => super::decode::numeric_to_sql(&i.to_string(), out)?,
        _ => return Err(mismatch("an integer", ty)),
    }
    Ok(())
}

fn real_to_sql(r: f64, ty: &Type, out: &mut BytesMut) -> Result<(), BoxError> {
    match *ty {
        Type::FLOAT8 => wire::float8_to_sql(r, out),
        Type::FLOAT4 => wire::float4_to_sql(r as f32, out),
        Type::NUMERIC if r.is_finite() => super::decode::numeric_to_sql(&r.to_string(), out)?,
        _ => return Err(mismatch("a floating-point number", ty)),
    }
    Ok(())
}

fn mismatch(what: &str, ty: &Type) -> Box<dyn StdError + Send + Sync> {
    format!("cannot bind {what} to a parameter of PostgreSQL type `{ty}`").into()
}

fn range(i: i64, ty: &Type) -> Box<dyn StdError + Send + Sync> {
    format!("{i} is out of range for a parameter of PostgreSQL type `{ty}`").into()
}
