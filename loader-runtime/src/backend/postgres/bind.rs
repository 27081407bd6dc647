//! Binding parameters on PostgreSQL.
//!
//! The server has inferred each parameter's type from the statement, and
//! each [`Value`] is written in that type, in binary: an `i64` key bound
//! against an `int4` column is sent as `int4` (refused if out of range), an
//! integer compared with a `boolean` column as a boolean, a UUID as `uuid`,
//! a key set as an array of the column's type (`uuid[]`). A value that has
//! no binary form in the parameter's type (text bound to a `timestamp` or
//! an enum type, a date bound to a `text` column's neighbour) is sent in
//! PostgreSQL's text format for the server to parse, the way it would be
//! written in SQL: a `String` field read from a `timestamp` column can be
//! filtered with the same strings it reads as.

use std::error::Error as StdError;

use bytes::BytesMut;
use postgres_protocol::types as wire;
use tokio_postgres::types::{Format, IsNull, Kind, ToSql, Type, to_sql_checked};

use super::decode::is_text_type;
use crate::row::BoxError;
use crate::scope::Param;
use crate::types::Value;

/// A parameter as tokio-postgres binds it.
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

impl PgParam<'_> {
    /// Whether this parameter goes in text format: a value without a
    /// binary form in the parameter's type, or an array holding one.
    fn is_text_for(&self, ty: &Type) -> bool {
        match (self, ty.kind()) {
            (PgParam::Value(value), _) => !has_binary_form(value, ty),
            (PgParam::Array(values), Kind::Array(member)) => {
                values.iter().any(|value| !has_binary_form(value, member))
            }
            _ => false,
        }
    }
}

/// Whether `value` can be written in binary as a `ty`.
fn has_binary_form(value: &Value, ty: &Type) -> bool {
    let numeric = matches!(
        *ty,
        Type::INT8 | Type::INT4 | Type::INT2 | Type::FLOAT8 | Type::FLOAT4 | Type::NUMERIC
    );
    match value {
        Value::Null => true,
        Value::Bool(_) | Value::Int(_) => numeric || *ty == Type::BOOL,
        Value::Float(_) => matches!(*ty, Type::FLOAT8 | Type::FLOAT4 | Type::NUMERIC),
        Value::Text(_) => is_text_type(ty),
        Value::Bytes(_) => *ty == Type::BYTEA,
        // The other types are written as their text into a text parameter.
        #[allow(unreachable_patterns)]
        typed => is_text_type(ty) || typed_to_sql(typed, ty, None).is_some(),
    }
}

/// An array in PostgreSQL's text format: `{"a","b",NULL}`.
fn text_array(values: &[Value], out: &mut BytesMut) {
    out.extend_from_slice(b"{");
    for (index, value) in values.iter().enumerate() {
        if index > 0 {
            out.extend_from_slice(b",");
        }
        match value.postgres_text() {
            None => out.extend_from_slice(b"NULL"),
            Some(text) => quoted(&text, out),
        }
    }
    out.extend_from_slice(b"}");
}

/// An array element in double quotes, `"` and `\` escaped.
fn quoted(text: &str, out: &mut BytesMut) {
    out.extend_from_slice(b"\"");
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.extend_from_slice(b"\\");
        }
        let mut buf = [0; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }
    out.extend_from_slice(b"\"");
}

/// A parameter sent in text format with its type left to the server
/// (`unknown`): how statements run without being prepared first, which
/// a pooler in transaction mode (PgBouncer) requires. The server parses
/// the text as the type it infers, as it would a quoted literal.
#[derive(Debug)]
pub(crate) struct TextParam<'a>(pub PgParam<'a>);

impl ToSql for TextParam<'_> {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match &self.0 {
            PgParam::Value(value) => match value.postgres_text() {
                None => return Ok(IsNull::Yes),
                Some(text) => out.extend_from_slice(text.as_bytes()),
            },
            PgParam::Array(values) => text_array(values, out),
        }
        Ok(IsNull::No)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    fn encode_format(&self, _: &Type) -> Format {
        Format::Text
    }

    to_sql_checked!();
}

impl ToSql for PgParam<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        if self.is_text_for(ty) {
            return TextParam(match self {
                PgParam::Value(value) => PgParam::Value(value),
                PgParam::Array(values) => PgParam::Array(values),
            })
            .to_sql(ty, out);
        }
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

    fn encode_format(&self, ty: &Type) -> Format {
        if self.is_text_for(ty) {
            Format::Text
        } else {
            Format::Binary
        }
    }

    to_sql_checked!();
}

fn value_to_sql(value: &Value, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
    match value {
        Value::Null => return Ok(IsNull::Yes),
        Value::Bool(b) if *ty == Type::BOOL => wire::bool_to_sql(*b, out),
        Value::Bool(b) => integer_to_sql(i64::from(*b), ty, out)?,
        Value::Int(i) => integer_to_sql(*i, ty, out)?,
        Value::Float(r) => real_to_sql(*r, ty, out)?,
        Value::Text(text) if is_text_type(ty) => wire::text_to_sql(text, out),
        Value::Bytes(bytes) if *ty == Type::BYTEA => wire::bytea_to_sql(bytes, out),
        #[allow(unreachable_patterns)]
        typed => match typed_to_sql(typed, ty, Some(out)) {
            Some(result) => return result,
            None if is_text_type(ty) => {
                let text = typed.postgres_text().unwrap_or_default();
                wire::text_to_sql(&text, out)
            }
            // Values without a binary form go in text format (see
            // `is_text_for`); inside a binary array they cannot.
            None => return Err(mismatch(typed.kind(), ty)),
        },
    }
    Ok(IsNull::No)
}

/// A value of a feature's type in binary, through tokio-postgres's
/// own `ToSql` (or rust_decimal's); `None` if that does not accept `ty`.
/// Without `out`, only whether it does (asked for each member of a key set
/// before it is written, so nothing is encoded twice).
#[allow(unused_variables)]
fn typed_to_sql(
    value: &Value,
    ty: &Type,
    out: Option<&mut BytesMut>,
) -> Option<Result<IsNull, BoxError>> {
    #[allow(dead_code)] // with no feature but `serde_json`
    fn through<T: ToSql>(
        value: &T,
        ty: &Type,
        out: Option<&mut BytesMut>,
    ) -> Option<Result<IsNull, BoxError>> {
        if !T::accepts(ty) {
            return None;
        }
        Some(match out {
            Some(out) => value.to_sql(ty, out),
            None => Ok(IsNull::No),
        })
    }
    match value {
        #[cfg(feature = "uuid")]
        Value::Uuid(id) | Value::UuidText(id) => through(id, ty, out),
        #[cfg(feature = "chrono")]
        Value::ChronoDate(date) => through(date, ty, out),
        #[cfg(feature = "chrono")]
        Value::ChronoDateTime(at) => through(at, ty, out),
        #[cfg(feature = "chrono")]
        Value::ChronoUtc(at) => through(at, ty, out),
        #[cfg(feature = "time")]
        Value::TimeDate(date) => through(date, ty, out),
        #[cfg(feature = "time")]
        Value::TimeDateTime(at) => through(at, ty, out),
        #[cfg(feature = "time")]
        Value::TimeOffset(at) => through(at, ty, out),
        #[cfg(feature = "rust_decimal")]
        Value::Decimal(decimal) => through(decimal, ty, out),
        #[cfg(feature = "serde_json")]
        Value::Json(json) => match *ty {
            Type::JSON | Type::JSONB => {
                if let Some(out) = out {
                    if *ty == Type::JSONB {
                        out.extend_from_slice(&[1]);
                    }
                    out.extend_from_slice(json.to_string().as_bytes());
                }
                Some(Ok(IsNull::No))
            }
            _ => None,
        },
        _ => None,
    }
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

#[cfg(test)]
mod tests {
    use bytes::BytesMut;
    use tokio_postgres::types::{Format, ToSql, Type};

    use super::{PgParam, text_array};
    use crate::types::Value;

    #[test]
    fn arrays_in_text_format_quote_and_escape() {
        let mut out = BytesMut::new();
        text_array(
            &[
                Value::Int(-3),
                Value::Float(1.5),
                Value::Null,
                Value::Bytes(vec![0, 255]),
                Value::Text("b\"c".into()),
                Value::Text("d\\e, {f}".into()),
            ],
            &mut out,
        );
        assert_eq!(
            &out[..],
            br#"{"-3","1.5",NULL,"\\x00ff","b\"c","d\\e, {f}"}"#
        );
        assert_eq!(
            Value::Float(f64::NEG_INFINITY).postgres_text().as_deref(),
            Some("-Infinity")
        );
    }

    #[test]
    fn text_for_another_type_goes_in_text_format() {
        let text = Value::Text("2024-01-31".into());
        let param = PgParam::Value(&text);
        assert!(matches!(param.encode_format(&Type::DATE), Format::Text));
        assert!(matches!(param.encode_format(&Type::TEXT), Format::Binary));
        let keys = [Value::Int(1), Value::Int(2)];
        let array = PgParam::Array(&keys);
        assert!(matches!(
            array.encode_format(&Type::INT4_ARRAY),
            Format::Binary
        ));
        let mut out = BytesMut::new();
        assert!(array.to_sql(&Type::INT4_ARRAY, &mut out).is_ok());
        let wide = [Value::Int(i64::MAX)];
        let mut out = BytesMut::new();
        assert!(
            PgParam::Array(&wide)
                .to_sql(&Type::INT4_ARRAY, &mut out)
                .is_err()
        );
    }
}
