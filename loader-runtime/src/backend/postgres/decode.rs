//! Reading PostgreSQL columns into fields, widening where no value is
//! lost in practice: `int2`/`int4` into `i64`, `int2` into `i32`, `float4`
//! and `numeric` into `f64`, `timestamp` and `date` into `String` (as
//! PostgreSQL prints them, `2009-01-01 00:00:00`, which is how SQLite
//! databases usually store dates). So one struct serves a SQLite table
//! (whose integers are all 64-bit and whose dates are text) and a
//! PostgreSQL one declared with `int`, `numeric` and `timestamp`.

use bytes::BytesMut;
use postgres::types::{FromSql, Type};
use postgres_protocol::types as wire;

use crate::row::{BoxError, PostgresField, quote_text};

/// The raw bytes of any column, to be converted by hand.
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
pub(crate) fn get<T: PostgresField>(row: &postgres::Row, index: usize) -> Result<T, BoxError> {
    let ty = row
        .columns()
        .get(index)
        .ok_or_else(|| format!("the row has no column {index}"))?
        .type_();
    if T::accepts(ty) {
        return row.try_get::<_, T>(index).map_err(super::PgError::boxed);
    }
    let Raw(raw) = row
        .try_get::<_, Raw<'_>>(index)
        .map_err(super::PgError::boxed)?;
    for wider in wider_types(ty) {
        if T::accepts(wider) {
            let Some(raw) = raw else {
                return T::from_sql_nullable(wider, None);
            };
            return match widen(ty, raw, wider)? {
                Widened::Number(bytes) => T::from_sql(wider, &bytes),
                Widened::Text(text) => T::from_sql(wider, text.as_bytes()),
            };
        }
    }
    Err(format!(
        "cannot read a PostgreSQL `{ty}` column into a field of type `{}`",
        std::any::type_name::<T>()
    )
    .into())
}

/// The types a column of type `ty` can be widened to, narrowest first.
fn wider_types(ty: &Type) -> &'static [Type] {
    match *ty {
        Type::INT2 => &[Type::INT4, Type::INT8],
        Type::INT4 => &[Type::INT8],
        Type::FLOAT4 | Type::NUMERIC => &[Type::FLOAT8],
        Type::TIMESTAMP | Type::DATE => &[Type::TEXT],
        _ => &[],
    }
}

/// A column's value re-encoded in a wider type's binary form: numbers on
/// the stack (a widened `int` key is read for every row), text on the heap.
enum Widened {
    Number(Vec8),
    Text(String),
}

/// Up to eight bytes, big-endian, as PostgreSQL sends numbers.
struct Vec8 {
    bytes: [u8; 8],
    len: usize,
}

impl std::ops::Deref for Vec8 {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl Vec8 {
    fn of<const N: usize>(bytes: [u8; N]) -> Vec8 {
        let mut out = [0; 8];
        out[..N].copy_from_slice(&bytes);
        Vec8 { bytes: out, len: N }
    }
}

fn widen(from: &Type, raw: &[u8], to: &Type) -> Result<Widened, BoxError> {
    let integer = match *from {
        Type::INT2 => Some(i64::from(wire::int2_from_sql(raw)?)),
        Type::INT4 => Some(i64::from(wire::int4_from_sql(raw)?)),
        _ => None,
    };
    Ok(match (to, integer) {
        (&Type::INT4, Some(i)) => Widened::Number(Vec8::of(i32::try_from(i)?.to_be_bytes())),
        (&Type::INT8, Some(i)) => Widened::Number(Vec8::of(i.to_be_bytes())),
        (&Type::TEXT, None) => Widened::Text(match *from {
            Type::TIMESTAMP => timestamp_text(wire::timestamp_from_sql(raw)?),
            _ => date_text(wire::date_from_sql(raw)?),
        }),
        (&Type::FLOAT8, None) => {
            let value = match *from {
                Type::FLOAT4 => f64::from(wire::float4_from_sql(raw)?),
                _ => numeric_to_f64(raw)?,
            };
            Widened::Number(Vec8::of(value.to_be_bytes()))
        }
        _ => return Err(format!("cannot widen `{from}` to `{to}`").into()),
    })
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
pub(crate) fn display(row: &postgres::Row, index: usize) -> Option<String> {
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
fn numeric_to_f64(mut raw: &[u8]) -> Result<f64, BoxError> {
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
    let _dscale = next()?;
    match sign {
        0x0000 | 0x4000 => {}
        0xC000 => return Ok(f64::NAN),
        0xD000 => return Ok(f64::INFINITY),
        0xF000 => return Ok(f64::NEG_INFINITY),
        _ => return Err(format!("invalid numeric sign {sign:#x}").into()),
    }
    let digits = (0..ndigits)
        .map(|_| next())
        .collect::<Result<Vec<i32>, _>>()?;
    let mut text = String::from(if sign == 0x4000 { "-" } else { "" });
    let lowest = (weight - ndigits + 1).min(0);
    let mut point = false;
    for exponent in (lowest..=weight.max(0)).rev() {
        if exponent < 0 && !point {
            text.push('.');
            point = true;
        }
        let position = weight - exponent;
        let digit = if (0..ndigits).contains(&position) {
            digits[position as usize]
        } else {
            0
        };
        text.push_str(&format!("{digit:04}"));
    }
    Ok(text.parse::<f64>()?)
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

    use super::{date_text, numeric_to_f64, numeric_to_sql, timestamp_text};

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
}
