//! Every key type as a primary key, a foreign key and a join-table key: for
//! each, has_many, belongs_to (required and nullable) and many_to_many
//! preloads and lazy loads give the same graph as a hand-written model, on
//! both databases and both APIs, each preload one statement per relation
//! (a key set of the type bound as one array: `date[]`, `numeric[]`,
//! `uuid[]`, an enum's labels on PostgreSQL).

#![allow(clippy::duplicated_attributes)]

mod common;

use common::backend::name;
use common::conn::conns;
use loader_runtime::{Backend, Db, SqlType};

#[derive(SqlType, Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct Code(i32);

#[derive(SqlType, Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[sql_type(rename_all = "lowercase")]
pub enum Color {
    Red,
    Green,
    Blue,
    Violet,
}

#[derive(SqlType, Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[sql_type(integer)]
pub enum Size {
    Small = 1,
    Large = 3,
    Huge = 9,
    Tiny = 4,
}

/// Parents keyed by the type, children (keyed by integers) pointing at
/// them by a required and a nullable key, and a join table between them.
/// Parents `a`, `b`, `c`: `a` has children 1 and 3, `b` has 2, `c` none;
/// child 2's nullable key points at `a`, child 3's at a key no parent has;
/// the join table links `a` with 1 and 2, and `c` with 2.
macro_rules! key_type {
    ($module:ident, $ty:ty, $sqlite:literal, $postgres:literal, $setup:literal,
     [$(($value:expr, $sqlite_literal:literal, $postgres_literal:literal)),* $(,)?]) => {
        mod $module {
            use super::*;
            use loader_runtime::Entity;

            #[derive(Entity, Clone, PartialEq, Debug)]
            #[entity(table = "parents")]
            #[has_many(Child, fk = "parent_id", name = "children")]
            #[has_many(Child, fk = "other_id", name = "others")]
            #[many_to_many(Child, through = "links", fk = "parent_id", target_fk = "child_id", name = "linked")]
            pub struct Parent {
                pub id: $ty,
                pub name: String,
            }

            #[derive(Entity, Clone, PartialEq, Debug)]
            #[entity(table = "children")]
            #[belongs_to(Parent, fk = "parent_id")]
            #[belongs_to(Parent, fk = "other_id", name = "other")]
            pub struct Child {
                pub id: i64,
                pub parent_id: $ty,
                pub other_id: Option<$ty>,
            }

            fn fill(db: &Db) {
                let postgres = db.backend() == Backend::Postgres;
                let (ty, literals): (&str, Vec<&str>) = if postgres {
                    ($postgres, vec![$($postgres_literal),*])
                } else {
                    ($sqlite, vec![$($sqlite_literal),*])
                };
                if postgres && !$setup.is_empty() {
                    db.execute_batch($setup).unwrap();
                }
                let [a, b, c, dangling] = literals[..] else { panic!("four values") };
                db.execute_batch(&format!(
                    "CREATE TABLE parents (id {ty} PRIMARY KEY, name TEXT NOT NULL);
                     CREATE TABLE children (id BIGINT PRIMARY KEY, parent_id {ty} NOT NULL, other_id {ty});
                     CREATE TABLE links (parent_id {ty} NOT NULL, child_id BIGINT NOT NULL);
                     INSERT INTO parents VALUES ({a}, 'a'), ({b}, 'b'), ({c}, 'c');
                     INSERT INTO children VALUES (1, {a}, NULL), (2, {b}, {a}), (3, {a}, {dangling});
                     INSERT INTO links VALUES ({a}, 1), ({a}, 2), ({c}, 2);"
                ))
                .unwrap();
            }

            #[test]
            fn preloads_and_lazy_loads_by_this_key_type() {
                let values: Vec<$ty> = vec![$($value),*];
                for conn in conns(fill) {
                    let place = format!("{} {}: {}", name(conn.sync()), conn.name(), stringify!($ty));
                    let (graph, count, lazy, found) = on!(&conn, wait, |db| {
                        db.reset_query_log();
                        let parents = wait!(
                            Parent::query()
                                .preload(Parent::children().preload(Child::parent()).preload(Child::other()))
                                .preload(Parent::others())
                                .preload(Parent::linked())
                                .all(db)
                        )
                        .unwrap();
                        let count = db.query_count();
                        let graph: Vec<(String, Vec<(i64, String, Option<String>)>, Vec<i64>, Vec<i64>)> = parents
                            .iter()
                            .map(|p| {
                                let children = p
                                    .children()
                                    .iter()
                                    .map(|c| (c.id, c.parent().name.clone(), c.other().map(|o| o.name.clone())))
                                    .collect();
                                let others = p.others().iter().map(|c| c.id).collect();
                                let linked = p.linked().iter().map(|c| c.id).collect();
                                (p.name.clone(), children, others, linked)
                            })
                            .collect();
                        let mut lazy = Vec::new();
                        for p in wait!(Parent::all(db)).unwrap() {
                            let mut children = Vec::new();
                            for c in wait!(p.load_children(db)).unwrap() {
                                let parent = wait!(c.load_parent(db)).unwrap();
                                let other = wait!(c.load_other(db)).unwrap();
                                children.push((c.id, parent.name, other.map(|o| o.name)));
                            }
                            let others = wait!(p.load_others(db)).unwrap().iter().map(|c| c.id).collect();
                            let linked = wait!(p.load_linked(db)).unwrap().iter().map(|c| c.id).collect();
                            lazy.push((p.name.clone(), children, others, linked));
                        }
                        let found = wait!(Parent::find(db, &values[1])).unwrap().map(|p| p.name);
                        let in_set = wait!(
                            Child::query()
                                .filter(|c| c.other_id.is_in([values[0].clone(), values[3].clone()]))
                                .all(db)
                        )
                        .unwrap();
                        assert_eq!(in_set.iter().map(|c| c.id).collect::<Vec<_>>(), [2, 3], "{place}: is_in");
                        (graph, count, lazy, found)
                    });
                    // parents, children, child → parent, child → other, others,
                    // and linked: its join table, then its targets
                    assert_eq!(count, 7, "{place}");
                    assert_eq!(found.as_deref(), Some("b"), "{place}: find");
                    let mut sorted = graph.clone();
                    sorted.sort_by(|x, y| x.0.cmp(&y.0));
                    let a = "a".to_owned();
                    let expected = vec![
                        (a.clone(), vec![(1, a.clone(), None), (3, a.clone(), None)], vec![2], vec![1, 2]),
                        ("b".to_owned(), vec![(2, "b".to_owned(), Some(a.clone()))], vec![], vec![]),
                        ("c".to_owned(), vec![], vec![], vec![2]),
                    ];
                    assert_eq!(sorted, expected, "{place}: preloaded");
                    assert_eq!(lazy, graph, "{place}: lazy equals preloaded, in the same order");
                }
            }
        }
    };
}

key_type!(
    int2,
    i16,
    "INTEGER",
    "int2",
    "",
    [
        (3, "3", "3"),
        (-7, "-7", "-7"),
        (12, "12", "12"),
        (99, "99", "99"),
    ]
);
key_type!(
    int4,
    i32,
    "INTEGER",
    "int4",
    "",
    [
        (70_000, "70000", "70000"),
        (-1, "-1", "-1"),
        (5, "5", "5"),
        (8, "8", "8"),
    ]
);
key_type!(
    int8_against_int4,
    i64,
    "INTEGER",
    "int4",
    "",
    [(1, "1", "1"), (2, "2", "2"), (3, "3", "3"), (4, "4", "4"),]
);
key_type!(
    text,
    String,
    "TEXT",
    "text",
    "",
    [
        ("o'neil".into(), "'o''neil'", "'o''neil'"),
        ("".into(), "''", "''"),
        ("ünï".into(), "'ünï'", "'ünï'"),
        ("zz".into(), "'zz'", "'zz'"),
    ]
);
key_type!(
    bytes,
    Vec<u8>,
    "BLOB",
    "bytea",
    "",
    [
        (vec![0, 1], "X'0001'", "'\\x0001'"),
        (vec![], "X''", "'\\x'"),
        (vec![255], "X'ff'", "'\\xff'"),
        (vec![7, 7], "X'0707'", "'\\x0707'"),
    ]
);
key_type!(
    uuid_blob,
    uuid::Uuid,
    "BLOB",
    "uuid",
    "",
    [
        (
            uuid::Uuid::from_u128(1),
            "X'00000000000000000000000000000001'",
            "'00000000-0000-0000-0000-000000000001'"
        ),
        (
            uuid::Uuid::from_u128(u128::MAX),
            "X'ffffffffffffffffffffffffffffffff'",
            "'ffffffff-ffff-ffff-ffff-ffffffffffff'"
        ),
        (
            uuid::Uuid::from_u128(7 << 64),
            "X'00000000000000070000000000000000'",
            "'00000000-0000-0007-0000-000000000000'"
        ),
        (
            uuid::Uuid::from_u128(9),
            "X'00000000000000000000000000000009'",
            "'00000000-0000-0000-0000-000000000009'"
        ),
    ]
);
key_type!(
    uuid_text,
    uuid::fmt::Hyphenated,
    "TEXT",
    "uuid",
    "",
    [
        (
            uuid::Uuid::from_u128(1).hyphenated(),
            "'00000000-0000-0000-0000-000000000001'",
            "'00000000-0000-0000-0000-000000000001'"
        ),
        (
            uuid::Uuid::from_u128(2).hyphenated(),
            "'00000000-0000-0000-0000-000000000002'",
            "'00000000-0000-0000-0000-000000000002'"
        ),
        (
            uuid::Uuid::from_u128(3).hyphenated(),
            "'00000000-0000-0000-0000-000000000003'",
            "'00000000-0000-0000-0000-000000000003'"
        ),
        (
            uuid::Uuid::from_u128(4).hyphenated(),
            "'00000000-0000-0000-0000-000000000004'",
            "'00000000-0000-0000-0000-000000000004'"
        ),
    ]
);
key_type!(
    chrono_date,
    chrono::NaiveDate,
    "TEXT",
    "date",
    "",
    [
        (
            chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
            "'2024-02-29'",
            "'2024-02-29'"
        ),
        (
            chrono::NaiveDate::from_ymd_opt(1999, 12, 31).unwrap(),
            "'1999-12-31'",
            "'1999-12-31'"
        ),
        (
            chrono::NaiveDate::from_ymd_opt(2030, 1, 1).unwrap(),
            "'2030-01-01'",
            "'2030-01-01'"
        ),
        (
            chrono::NaiveDate::from_ymd_opt(2000, 6, 15).unwrap(),
            "'2000-06-15'",
            "'2000-06-15'"
        ),
    ]
);
key_type!(
    chrono_timestamp,
    chrono::NaiveDateTime,
    "TEXT",
    "timestamp",
    "",
    [
        (
            chrono::NaiveDate::from_ymd_opt(2024, 2, 29)
                .unwrap()
                .and_hms_opt(10, 0, 0)
                .unwrap(),
            "'2024-02-29 10:00:00'",
            "'2024-02-29 10:00:00'"
        ),
        (
            chrono::NaiveDate::from_ymd_opt(2024, 2, 29)
                .unwrap()
                .and_hms_milli_opt(10, 0, 0, 500)
                .unwrap(),
            "'2024-02-29 10:00:00.500'",
            "'2024-02-29 10:00:00.5'"
        ),
        (
            chrono::NaiveDate::from_ymd_opt(1970, 1, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap(),
            "'1970-01-01 00:00:00'",
            "'1970-01-01 00:00:00'"
        ),
        (
            chrono::NaiveDate::from_ymd_opt(2001, 9, 9)
                .unwrap()
                .and_hms_opt(1, 46, 40)
                .unwrap(),
            "'2001-09-09 01:46:40'",
            "'2001-09-09 01:46:40'"
        ),
    ]
);
key_type!(
    chrono_utc,
    chrono::DateTime<chrono::Utc>,
    "TEXT",
    "timestamptz",
    "",
    [
        (
            chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            "'2023-11-14 22:13:20+00:00'",
            "'2023-11-14 22:13:20+00'"
        ),
        (
            chrono::DateTime::from_timestamp(0, 0).unwrap(),
            "'1970-01-01 00:00:00+00:00'",
            "'1970-01-01 00:00:00+00'"
        ),
        (
            chrono::DateTime::from_timestamp(1_700_000_000, 250_000_000).unwrap(),
            "'2023-11-14 22:13:20.250+00:00'",
            "'2023-11-14 23:13:20.25+01'"
        ),
        (
            chrono::DateTime::from_timestamp(86_400, 0).unwrap(),
            "'1970-01-02 00:00:00+00:00'",
            "'1970-01-02 00:00:00+00'"
        ),
    ]
);
key_type!(
    time_date,
    time::Date,
    "TEXT",
    "date",
    "",
    [
        (
            time::macros::date!(2024 - 02 - 29),
            "'2024-02-29'",
            "'2024-02-29'"
        ),
        (
            time::macros::date!(1999 - 12 - 31),
            "'1999-12-31'",
            "'1999-12-31'"
        ),
        (
            time::macros::date!(2030 - 01 - 01),
            "'2030-01-01'",
            "'2030-01-01'"
        ),
        (
            time::macros::date!(2000 - 06 - 15),
            "'2000-06-15'",
            "'2000-06-15'"
        ),
    ]
);
key_type!(
    time_timestamp,
    time::PrimitiveDateTime,
    "TEXT",
    "timestamp",
    "",
    [
        (
            time::macros::datetime!(2024-02-29 10:00:00),
            "'2024-02-29 10:00:00.0'",
            "'2024-02-29 10:00:00'"
        ),
        (
            time::macros::datetime!(2024-02-29 10:00:00.5),
            "'2024-02-29 10:00:00.5'",
            "'2024-02-29 10:00:00.5'"
        ),
        (
            time::macros::datetime!(1970-01-01 00:00:00),
            "'1970-01-01 00:00:00.0'",
            "'1970-01-01 00:00:00'"
        ),
        (
            time::macros::datetime!(2001-09-09 01:46:40),
            "'2001-09-09 01:46:40.0'",
            "'2001-09-09 01:46:40'"
        ),
    ]
);
key_type!(
    time_offset,
    time::OffsetDateTime,
    "TEXT",
    "timestamptz",
    "",
    [
        (
            time::macros::datetime!(2023-11-14 22:13:20 UTC),
            "'2023-11-14 22:13:20.0+00:00'",
            "'2023-11-14 22:13:20+00'"
        ),
        (
            time::macros::datetime!(1970-01-01 00:00:00 UTC),
            "'1970-01-01 00:00:00.0+00:00'",
            "'1970-01-01 00:00:00+00'"
        ),
        (
            time::macros::datetime!(2023-11-14 22:13:20.25 UTC),
            "'2023-11-14 22:13:20.25+00:00'",
            "'2023-11-14 23:13:20.25+01'"
        ),
        (
            time::macros::datetime!(1970-01-02 00:00:00 UTC),
            "'1970-01-02 00:00:00.0+00:00'",
            "'1970-01-02 00:00:00+00'"
        ),
    ]
);
key_type!(
    decimal,
    rust_decimal::Decimal,
    "NUMERIC",
    "numeric(10, 2)",
    "",
    [
        (rust_decimal::Decimal::new(1999, 2), "19.99", "19.99"),
        (rust_decimal::Decimal::new(-5, 1), "-0.5", "-0.50"),
        (rust_decimal::Decimal::new(100, 0), "100", "100.00"),
        (rust_decimal::Decimal::new(1, 2), "0.01", "0.01"),
    ]
);
key_type!(
    newtype,
    Code,
    "INTEGER",
    "int4",
    "",
    [
        (Code(10), "10", "10"),
        (Code(20), "20", "20"),
        (Code(30), "30", "30"),
        (Code(40), "40", "40"),
    ]
);
key_type!(
    text_enum,
    Color,
    "TEXT",
    "color",
    "DROP TYPE IF EXISTS color CASCADE; CREATE TYPE color AS ENUM ('red', 'green', 'blue', 'violet')",
    [
        (Color::Red, "'red'", "'red'"),
        (Color::Green, "'green'", "'green'"),
        (Color::Blue, "'blue'", "'blue'"),
        (Color::Violet, "'violet'", "'violet'"),
    ]
);
key_type!(
    integer_enum,
    Size,
    "INTEGER",
    "int2",
    "",
    [
        (Size::Small, "1", "1"),
        (Size::Large, "3", "3"),
        (Size::Huge, "9", "9"),
        (Size::Tiny, "4", "4"),
    ]
);
