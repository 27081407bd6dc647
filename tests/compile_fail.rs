//! Misuses the compiler must reject, with the messages in `tests/ui/**/*.stderr`.
//!
//! Regenerate the expected output after an intended change with
//! `TRYBUILD=overwrite cargo test --test compile_fail`, then read every diff.

#[test]
fn compile_fail() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*/*.rs");
}
