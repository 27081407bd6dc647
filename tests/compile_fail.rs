//! Misuses the compiler must reject, with the messages in `tests/ui/**/*.stderr`.
//!
//! The messages are rustc's as well as ours, and rustc words its notes
//! differently from one release to the next, so the `.stderr` files are
//! compared only on the Rust release they were blessed with, the one in
//! `tests/ui/TOOLCHAIN` (CI's). On another release the test says so and
//! passes without comparing; set `LOADER_UI_ANY_TOOLCHAIN=1` to compare
//! anyway.
//!
//! To re-bless after an intended change, or for a new release: run
//! `TRYBUILD=overwrite cargo test --test compile_fail`, read every diff
//! (each case should still print one error per mistake), and for a new
//! release write its `major.minor` into `tests/ui/TOOLCHAIN`.

use std::process::Command;

/// `1.95` of `rustc 1.95.0 (59807616e 2026-04-14)`.
fn release(version: &str) -> Option<String> {
    let number = version.split_whitespace().nth(1)?;
    let mut parts = number.split('.');
    Some(format!("{}.{}", parts.next()?, parts.next()?))
}

#[test]
fn compile_fail() {
    let blessed = include_str!("ui/TOOLCHAIN").trim();
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let version = Command::new(&rustc)
        .arg("--version")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
        .unwrap_or_default();
    let current = release(&version);
    let any = std::env::var_os("LOADER_UI_ANY_TOOLCHAIN").is_some();
    if current.as_deref() != Some(blessed) && !any {
        eprintln!(
            "compile_fail: skipped; tests/ui/*.stderr were blessed with Rust {blessed}, this is {}. \
             Set LOADER_UI_ANY_TOOLCHAIN=1 to compare anyway, or re-bless (see tests/compile_fail.rs).",
            version.trim()
        );
        return;
    }
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*/*.rs");
}

#[test]
fn releases_are_read_from_rustc_versions() {
    assert_eq!(
        release("rustc 1.95.0 (59807616e 2026-04-14)").as_deref(),
        Some("1.95")
    );
    assert_eq!(
        release("rustc 1.100.2-nightly (abc 2027-01-01)").as_deref(),
        Some("1.100")
    );
    assert_eq!(release(""), None);
}
