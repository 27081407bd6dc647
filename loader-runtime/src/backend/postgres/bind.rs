//! Binding parameters on PostgreSQL.
//!
//! Values arrive as SQLite-shaped values (integer, real, text, blob, null),
//! the same ones the SQLite backend binds; the server has inferred each
//! parameter's type from the statement, and each value is written in that
//! type: an `i64` key bound against an `int4` column is sent as `int4`
//! (refused if out of range), an integer compared with a `boolean` column
//! as a boolean, a key set as an array of the column's type. Text bound to
//! a column of another type (a `timestamp`, a `date`) is sent in
//! PostgreSQL's text format for the server to parse, the way such a value
//! would be written in SQL: a `String` field read from a `timestamp`
//! column can be filtered with the same strings it reads as.

use std::error::Error as StdError;

use bytes::BytesMut;
use postgres::types::{Format, IsNull, Kind, ToSql, Type, to_sql_checked};
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

impl PgParam<'_> {
    /// Whether this is text for a parameter that is not text: sent in text
    /// format for the server to parse.
    fn is_text_for(&self, ty: &Type) -> bool {
        let is_text = |value: &Value| matches!(value, Value::Text(_));
        match (self, ty.kind()) {
            (PgParam::Value(value), _) => is_text(value) && !is_text_type(ty),
            (PgParam::Array(values), Kind::Array(member)) => {
                !is_text_type(member)
                    && values.iter().any(is_text)
                    && values
                        .iter()
                        .all(|v| is_text(v) || matches!(v, Value::Null))
            }
            _ => false,
        }
    }
}

fn is_text_type(ty: &Type) -> bool {
    matches!(
        *ty,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN
    )
}

/// An array in PostgreSQL's text format: `{"a","b",NULL}`, `{1,2}`.
fn text_array(values: &[Value], out: &mut BytesMut) {
    out.extend_from_slice(b"{");
    for (index, value) in values.iter().enumerate() {
        if index > 0 {
            out.extend_from_slice(b",");
        }
        match value {
            Value::Null => out.extend_from_slice(b"NULL"),
            Value::Text(text) => quoted(text, out),
            Value::Blob(_) => {
                let mut element = BytesMut::new();
                value_text(value, &mut element);
                quoted(&String::from_utf8_lossy(&element), out);
            }
            _ => value_text(value, out),
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

/// A scalar in PostgreSQL's text format, as it would be written in SQL
/// without quotes: `42`, `1.5`, `Infinity`, `\x00ff` for bytes.
fn value_text(value: &Value, out: &mut BytesMut) {
    match value {
        Value::Null => {}
        Value::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Real(r) if r.is_nan() => out.extend_from_slice(b"NaN"),
        Value::Real(r) if r.is_infinite() => {
            out.extend_from_slice(if *r > 0.0 { b"Infinity" } else { b"-Infinity" })
        }
        Value::Real(r) => out.extend_from_slice(format!("{r:?}").as_bytes()),
        Value::Text(text) => out.extend_from_slice(text.as_bytes()),
        Value::Blob(bytes) => {
            out.extend_from_slice(b"\\x");
            for byte in bytes {
                out.extend_from_slice(format!("{byte:02x}").as_bytes());
            }
        }
    }
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
            PgParam::Value(Value::Null) => return Ok(IsNull::Yes),
            PgParam::Value(value) => value_text(value, out),
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
            match self {
                PgParam::Value(Value::Text(text)) => out.extend_from_slice(text.as_bytes()),
                PgParam::Array(values) => text_array(values, out),
                PgParam::Value(_) => {}
            }
            return Ok(IsNull::No);
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
        Value::Integer(i) => integer_to_sql(*i, ty, out)?,
        Value::Real(r) => real_to_sql(*r, ty, out)?,
        // Text for any other type goes in text format (see `is_text_for`);
        // inside a binary array of another type it cannot.
        Value::Text(text) if is_text_type(ty) => wire::text_to_sql(text, out),
        Value::Text(_) => return Err(mismatch("text", ty)),
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

#[cfg(test)]
mod tests {
    use bytes::BytesMut;
    use rusqlite::types::Value;

    use super::text_array;

    #[test]
    fn scalars_and_mixed_arrays_in_text_format() {
        let mut out = BytesMut::new();
        text_array(
            &[
                Value::Integer(-3),
                Value::Real(1.5),
                Value::Null,
                Value::Blob(vec![0, 255]),
            ],
            &mut out,
        );
        assert_eq!(&out[..], br#"{-3,1.5,NULL,"\\x00ff"}"#);
        let mut out = BytesMut::new();
        super::value_text(&Value::Real(f64::NEG_INFINITY), &mut out);
        assert_eq!(&out[..], b"-Infinity");
    }

    #[test]
    fn text_arrays_quote_and_escape() {
        let mut out = BytesMut::new();
        text_array(
            &[
                Value::Text("a".into()),
                Value::Text("b\"c".into()),
                Value::Text("d\\e, {f}".into()),
                Value::Null,
            ],
            &mut out,
        );
        assert_eq!(&out[..], br#"{"a","b\"c","d\\e, {f}",NULL}"#);
    }
}
