//! Reading PostgreSQL columns into fields, widening where no value is
//! lost in practice: `int2`/`int4` into `i64`, `int2` into `i32`, `float4`
//! and `numeric` into `f64`, `timestamp` and `date` into `String` (as
//! PostgreSQL prints them, `2009-01-01 00:00:00`, which is how SQLite
//! databases usually store dates). So one struct serves a SQLite table
//! (whose integers are all 64-bit and whose dates are text) and a
//! PostgreSQL one declared with `int`, `numeric` and `timestamp`.

use bytes::BytesMut;
use postgres_protocol::types as wire;
use tokio_postgres::types::{FromSql, Kind, Type};

use crate::row::{BoxError, quote_text};
use crate::types::{Field, PgValue};

/// The raw bytes of any column, to be converted by its field's type.
struct Raw<'a>(Option<&'a [u8]>);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(Raw(Some(raw)))
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Raw(None))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// Column `index` of `row` as a `T`.
pub(crate) fn get<T: Field>(row: &tokio_postgres::Row, index: usize) -> Result<T, BoxError> {
    let ty = row
        .columns()
        .get(index)
        .ok_or_else(|| format!("the row has no column {index}"))?
        .type_();
    let Raw(raw) = row
        .try_get::<_, Raw<'_>>(index)
        .map_err(super::PgError::boxed)?;
    match raw {
        Some(raw) => T::from_postgres(PgValue::new(ty, raw)),
        None => T::from_null(),
    }
}

/// An integer column of any width, as an `i64`.
fn integer(value: PgValue<'_>) -> Option<Result<i64, BoxError>> {
    let raw = value.raw();
    Some(match *value.ty() {
        Type::INT8 => wire::int8_from_sql(raw),
        Type::INT4 => wire::int4_from_sql(raw).map(i64::from),
        Type::INT2 => wire::int2_from_sql(raw).map(i64::from),
        _ => return None,
    })
}

/// An integer column into a field of type `T`, refused if out of range.
fn narrowed<T: TryFrom<i64>>(value: PgValue<'_>) -> Result<T, BoxError> {
    let Some(integer) = integer(value) else {
        return Err(value.mismatch::<T>());
    };
    let integer = integer?;
    T::try_from(integer).map_err(|_| {
        format!(
            "{integer} is out of range for a field of type `{}`",
            std::any::type_name::<T>()
        )
        .into()
    })
}

pub(crate) fn int8(value: PgValue<'_>) -> Result<i64, BoxError> {
    narrowed(value)
}

pub(crate) fn int4(value: PgValue<'_>) -> Result<i32, BoxError> {
    narrowed(value)
}

pub(crate) fn int2(value: PgValue<'_>) -> Result<i16, BoxError> {
    narrowed(value)
}

pub(crate) fn float8(value: PgValue<'_>) -> Result<f64, BoxError> {
    let raw = value.raw();
    match *value.ty() {
        Type::FLOAT8 => wire::float8_from_sql(raw),
        Type::FLOAT4 => wire::float4_from_sql(raw).map(f64::from),
        Type::NUMERIC => numeric_to_f64(raw),
        _ => Err(value.mismatch::<f64>()),
    }
}

pub(crate) fn float4(value: PgValue<'_>) -> Result<f32, BoxError> {
    match *value.ty() {
        Type::FLOAT4 => wire::float4_from_sql(value.raw()),
        _ => Err(value.mismatch::<f32>()),
    }
}

pub(crate) fn boolean(value: PgValue<'_>) -> Result<bool, BoxError> {
    match *value.ty() {
        Type::BOOL => wire::bool_from_sql(value.raw()),
        _ => Err(value.mismatch::<bool>()),
    }
}

pub(crate) fn bytea(value: PgValue<'_>) -> Result<Vec<u8>, BoxError> {
    match *value.ty() {
        Type::BYTEA => Ok(wire::bytea_from_sql(value.raw()).to_vec()),
        _ => Err(value.mismatch::<Vec<u8>>()),
    }
}

/// Text, and the types whose text a `String` field reads as PostgreSQL
/// prints them: an enum's label, a `timestamp` or a `date` (how SQLite
/// databases store dates), a `uuid`, a `numeric`, a `json` document.
pub(crate) fn text(value: PgValue<'_>) -> Result<String, BoxError> {
    let raw = value.raw();
    let ty = value.ty();
    if is_text_type(ty) || matches!(ty.kind(), Kind::Enum(_)) || *ty == Type::JSON {
        return Ok(wire::text_from_sql(raw)?.to_owned());
    }
    Ok(match *ty {
        Type::TIMESTAMP => timestamp_text(wire::timestamp_from_sql(raw)?),
        Type::DATE => date_text(wire::date_from_sql(raw)?),
        Type::UUID => uuid_text(wire::uuid_from_sql(raw)?),
        Type::NUMERIC => numeric_text(raw)?,
        Type::JSONB => match raw.split_first() {
            Some((1, json)) => std::str::from_utf8(json)?.to_owned(),
            _ => return Err("unsupported jsonb version".into()),
        },
        _ => return Err(value.mismatch::<String>()),
    })
}

/// The types whose binary format is UTF-8 text.
pub(crate) fn is_text_type(ty: &Type) -> bool {
    matches!(
        *ty,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN
    )
}

/// A `uuid` as PostgreSQL prints it: `a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11`.
fn uuid_text(bytes: [u8; 16]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Days from 1970-01-01 to 2000-01-01, PostgreSQL's epoch.
const POSTGRES_EPOCH_DAYS: i64 = 10_957;

/// A `timestamp` (microseconds since 2000-01-01) as PostgreSQL prints it.
fn timestamp_text(micros: i64) -> String {
    match micros {
        i64::MAX => return "infinity".to_owned(),
        i64::MIN => return "-infinity".to_owned(),
        _ => {}
    }
    let days = micros.div_euclid(86_400_000_000);
    let of_day = micros.rem_euclid(86_400_000_000);
    let (seconds, fraction) = (of_day / 1_000_000, of_day % 1_000_000);
    let mut text = format!(
        "{} {:02}:{:02}:{:02}",
        civil_date(days),
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    );
    if fraction != 0 {
        let digits = format!(".{fraction:06}");
        text.push_str(digits.trim_end_matches('0'));
    }
    text
}

/// A `date` (days since 2000-01-01) as PostgreSQL prints it.
fn date_text(days: i32) -> String {
    match days {
        i32::MAX => "infinity".to_owned(),
        i32::MIN => "-infinity".to_owned(),
        _ => civil_date(i64::from(days)),
    }
}

/// `YYYY-MM-DD` of a day counted from 2000-01-01 (proleptic Gregorian;
/// Howard Hinnant's `civil_from_days`).
fn civil_date(days_since_2000: i64) -> String {
    let z = days_since_2000 + POSTGRES_EPOCH_DAYS + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Column `index` as it would be written in SQL, for error messages.
pub(crate) fn display(row: &tokio_postgres::Row, index: usize) -> Option<String> {
    if let Ok(value) = get::<Option<i64>>(row, index) {
        return Some(value.map_or_else(|| "NULL".to_owned(), |i| i.to_string()));
    }
    if let Ok(value) = get::<Option<String>>(row, index) {
        return Some(value.map_or_else(|| "NULL".to_owned(), |text| quote_text(&text)));
    }
    get::<Option<f64>>(row, index)
        .ok()
        .map(|value| value.map_or_else(|| "NULL".to_owned(), |r| r.to_string()))
}

/// Decodes PostgreSQL's binary `numeric` (base-10000 digits) into the
/// nearest `f64`, through its decimal text so that the rounding is exact.
fn numeric_to_f64(raw: &[u8]) -> Result<f64, BoxError> {
    Ok(numeric_text(raw)?.parse::<f64>()?)
}

/// PostgreSQL's binary `numeric` as decimal text: `-12.50`, `NaN`.
pub(crate) fn numeric_text(mut raw: &[u8]) -> Result<String, BoxError> {
    let mut next = || -> Result<i32, BoxError> {
        let (head, rest) = raw
            .split_first_chunk::<2>()
            .ok_or("truncated numeric value")?;
        raw = rest;
        Ok(i32::from(u16::from_be_bytes(*head)))
    };
    let ndigits = next()?;
    let weight = next()? as i16 as i32;
    let sign = next()?;
    let dscale = next()?;
    match sign {
        0x0000 | 0x4000 => {}
        0xC000 => return Ok("NaN".to_owned()),
        0xD000 => return Ok("Infinity".to_owned()),
        0xF000 => return Ok("-Infinity".to_owned()),
        _ => return Err(format!("invalid numeric sign {sign:#x}").into()),
    }
    let digits = (0..ndigits)
        .map(|_| next())
        .collect::<Result<Vec<i32>, _>>()?;
    let digit = |exponent: i32| {
        let position = weight - exponent;
        if (0..ndigits).contains(&position) {
            digits[position as usize]
        } else {
            0
        }
    };
    let mut integer: String = (0..=weight.max(0))
        .rev()
        .map(|exponent| format!("{:04}", digit(exponent)))
        .collect();
    let trimmed = integer.trim_start_matches('0').len().max(1);
    integer.drain(..integer.len() - trimmed);
    let lowest = (weight - ndigits + 1).min(0);
    let mut fraction: String = (lowest..0)
        .rev()
        .map(|exponent| format!("{:04}", digit(exponent)))
        .collect();
    // As many fraction digits as the value's display scale, as PostgreSQL
    // prints it (`numeric(10,2)` holds `0.99`, `1.50`).
    let scale = usize::try_from(dscale).unwrap_or(0);
    if fraction.len() > scale {
        fraction.truncate(scale);
    } else {
        fraction.extend(std::iter::repeat_n('0', scale - fraction.len()));
    }
    let sign = if sign == 0x4000 { "-" } else { "" };
    Ok(if fraction.is_empty() {
        format!("{sign}{integer}")
    } else {
        format!("{sign}{integer}.{fraction}")
    })
}

/// Encodes a decimal (`-12.5`, `3`) as PostgreSQL's binary `numeric`.
pub(crate) fn numeric_to_sql(decimal: &str, out: &mut BytesMut) -> Result<(), BoxError> {
    let (negative, unsigned) = match decimal.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, decimal),
    };
    let (integer, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if !integer
        .bytes()
        .chain(fraction.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return Err(format!("`{decimal}` is not a decimal number").into());
    }
    let pad_left = (4 - integer.len() % 4) % 4;
    let pad_right = (4 - fraction.len() % 4) % 4;
    let digits_text = format!(
        "{}{integer}{fraction}{}",
        "0".repeat(pad_left),
        "0".repeat(pad_right)
    );
    let mut groups: Vec<i16> = digits_text
        .as_bytes()
        .chunks(4)
        .map(|chunk| {
            std::str::from_utf8(chunk)
                .unwrap_or("0")
                .parse()
                .unwrap_or(0)
        })
        .collect();
    let mut weight = i16::try_from((integer.len() + pad_left) / 4)? - 1;
    while groups.first() == Some(&0) {
        groups.remove(0);
        weight -= 1;
    }
    while groups.last() == Some(&0) {
        groups.pop();
    }
    if groups.is_empty() {
        weight = 0;
    }
    let push = |out: &mut BytesMut, value: u16| out.extend_from_slice(&value.to_be_bytes());
    push(out, u16::try_from(groups.len())?);
    push(out, weight as u16);
    push(
        out,
        if negative && !groups.is_empty() {
            0x4000
        } else {
            0
        },
    );
    push(out, u16::try_from(fraction.len())?);
    for group in groups {
        push(out, group as u16);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;

    use super::{date_text, numeric_text, numeric_to_f64, numeric_to_sql, timestamp_text};

    #[test]
    fn dates_print_like_postgres() {
        assert_eq!(date_text(0), "2000-01-01");
        assert_eq!(date_text(-1), "1999-12-31");
        assert_eq!(date_text(60), "2000-03-01");
        assert_eq!(timestamp_text(0), "2000-01-01 00:00:00");
        // 2009-01-01 is 3288 days after 2000-01-01.
        assert_eq!(timestamp_text(3288 * 86_400_000_000), "2009-01-01 00:00:00");
        assert_eq!(timestamp_text(-1), "1999-12-31 23:59:59.999999");
        assert_eq!(timestamp_text(90_061_500_000), "2000-01-02 01:01:01.5");
    }

    fn round_trip(decimal: &str) -> f64 {
        let mut buf = BytesMut::new();
        numeric_to_sql(decimal, &mut buf).unwrap();
        numeric_to_f64(&buf).unwrap()
    }

    #[test]
    fn numerics_round_trip() {
        for (text, value) in [
            ("0", 0.0),
            ("0.99", 0.99),
            ("1.99", 1.99),
            ("-12.5", -12.5),
            ("10000", 10000.0),
            ("123456789.0001", 123456789.0001),
            ("0.00001", 0.00001),
            ("-0.5", -0.5),
        ] {
            assert_eq!(round_trip(text), value, "{text}");
        }
    }

    #[test]
    fn numerics_print_with_their_scale() {
        for text in [
            "0",
            "0.99",
            "1.50",
            "-12.5",
            "10000",
            "123456789.0001",
            "0.00001",
            "-0.5",
        ] {
            let mut buf = BytesMut::new();
            numeric_to_sql(text, &mut buf).unwrap();
            assert_eq!(numeric_text(&buf).unwrap(), text);
        }
    }
}
