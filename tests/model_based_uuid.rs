//! Model-based property tests with UUID primary, foreign and join keys
//! (the body is `tests/model/mod.rs`): a 16-byte blob on SQLite, `uuid` on
//! PostgreSQL, each key set bound as one `uuid[]` there.

#![allow(clippy::duplicated_attributes)]

mod common;
#[path = "model/mod.rs"]
mod model;

/// The key type of every entity of the model.
type Id = uuid::Uuid;

/// The key numbered `n`: its number in the first eight bytes, big-endian,
/// so that UUIDs order like the numbers (in Rust, SQLite blobs and
/// PostgreSQL `uuid` alike), and other bytes set.
fn id(n: i64) -> Id {
    uuid::Uuid::from_u64_pair(n as u64, 0x8f3c_2b1a_0e9d_4c7b)
}

/// The column types of the keys.
const ID_TYPES: IdTypes = IdTypes {
    sqlite: "BLOB",
    postgres: "UUID",
};

struct IdTypes {
    sqlite: &'static str,
    postgres: &'static str,
}
