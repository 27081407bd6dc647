//! Model-based property tests with integer keys (the body is
//! `tests/model/mod.rs`; `tests/model_based_uuid.rs` runs it with UUIDs).
//!
//! The suite runs 256 datasets through every tree (a few seconds on 2 cores in a
//! debug build). For a longer soak: `PROPTEST_CASES=10000 cargo test --test model_based`.

#![allow(clippy::duplicated_attributes)]

mod common;
#[path = "model/mod.rs"]
mod model;

/// The key type of every entity of the model.
type Id = i64;

/// The key numbered `n`.
fn id(n: i64) -> Id {
    n
}

/// The column types of the keys.
const ID_TYPES: IdTypes = IdTypes {
    sqlite: "INTEGER",
    // 64-bit keys (the blog tests cover `int` widening).
    postgres: "BIGINT",
};

struct IdTypes {
    sqlite: &'static str,
    postgres: &'static str,
}
