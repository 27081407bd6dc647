//! Joining the derive's SQL fragments at compile time: `__concat_sql_all!`
//! (several statements at once) and `__concat_sql!` (one), a lean `concat!`
//! for `&'static str` constants (the fragments of other entities are
//! constants, not literals, so `concat!` cannot take them). Each call
//! expands to three small constants, where a general-purpose formatting
//! macro costs the derive's users several kilobytes of code per statement
//! to type-check.

/// The total length of `parts`.
#[doc(hidden)]
pub const fn concat_len(parts: &[&str]) -> usize {
    let mut len = 0;
    let mut i = 0;
    while i < parts.len() {
        len += parts[i].len();
        i += 1;
    }
    len
}

/// The total length of every statement's fragments.
#[doc(hidden)]
pub const fn concat_len_all(statements: &[&[&str]]) -> usize {
    let mut len = 0;
    let mut i = 0;
    while i < statements.len() {
        len += concat_len(statements[i]);
        i += 1;
    }
    len
}

/// Every statement's fragments joined into one array of `N` bytes.
#[doc(hidden)]
pub const fn concat_bytes_all<const N: usize>(statements: &[&[&str]]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut rest: &mut [u8] = &mut out;
    let mut i = 0;
    while i < statements.len() {
        let parts = statements[i];
        let mut j = 0;
        while j < parts.len() {
            let bytes = parts[j].as_bytes();
            let (head, tail) = rest.split_at_mut(bytes.len());
            head.copy_from_slice(bytes);
            rest = tail;
            j += 1;
        }
        i += 1;
    }
    assert!(rest.is_empty(), "concat_bytes_all: wrong length");
    out
}

/// The `K` statements of [`concat_bytes_all`]'s output, each a `&str`.
#[doc(hidden)]
pub const fn split_all<const K: usize>(
    bytes: &'static [u8],
    statements: &[&[&str]],
) -> [&'static str; K] {
    let mut out = [""; K];
    let mut rest = bytes;
    let mut i = 0;
    while i < K {
        let (head, tail) = rest.split_at(concat_len(statements[i]));
        // SAFETY: `bytes` is `&str`s laid end to end (`concat_bytes_all`),
        // and `head` ends where one of them ends, so it is UTF-8. Checking
        // it again at compile time costs more than building it.
        out[i] = unsafe { core::str::from_utf8_unchecked(head) };
        rest = tail;
        i += 1;
    }
    out
}

/// `concat_sql_all!([a, b], [c, d, e])`: several statements, each joined
/// from `&'static str` constants, as an array (`["ab", "cde"]`). Three
/// constants in all, however many statements: each constant item is a
/// unit of work for the compiler, and a relation has up to seven
/// statements.
#[doc(hidden)]
#[macro_export]
macro_rules! __concat_sql_all {
    ($([$($part:expr),* $(,)?]),* $(,)?) => {{
        const STATEMENTS: &[&[&str]] = &[$(&[$($part),*]),*];
        const LEN: usize = $crate::__private::concat_len_all(STATEMENTS);
        const BYTES: [u8; LEN] = $crate::__private::concat_bytes_all::<LEN>(STATEMENTS);
        $crate::__private::split_all::<{ STATEMENTS.len() }>(&BYTES, STATEMENTS)
    }};
}

/// `concat_sql!(a, b, ...)`: the `&'static str` constants `a`, `b`, ...
/// joined at compile time (one statement of [`__concat_sql_all!`]).
#[doc(hidden)]
#[macro_export]
macro_rules! __concat_sql {
    ($($part:expr),* $(,)?) => {
        $crate::__concat_sql_all!([$($part),*])[0]
    };
}

#[cfg(test)]
mod tests {
    const TABLE: &str = "\"users\"";

    #[test]
    fn joins_constants_and_literals() {
        const SQL: &str = crate::__concat_sql!("SELECT * FROM ", TABLE, " WHERE ", "1", "");
        assert_eq!(SQL, "SELECT * FROM \"users\" WHERE 1");
        const EMPTY: &str = crate::__concat_sql!();
        assert_eq!(EMPTY, "");
    }

    #[test]
    fn joins_several_statements_at_once() {
        const SQL: [&str; 3] =
            crate::__concat_sql_all!(["SELECT ", TABLE], [], ["a", "", "b", TABLE]);
        assert_eq!(SQL, ["SELECT \"users\"", "", "ab\"users\""]);
    }
}
