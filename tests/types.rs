//! The type matrix: every supported column type as a plain field, an
//! `Option` field, a primary key, a foreign key, a many-to-many join key, a
//! filter value, a member of an `is_in` set and an ordering, on both
//! databases and both APIs, with the graphs equal everywhere.

// Two relations with the same key name (`fk = "account_id"`) trip this
// lint on clippy 1.95 (rust-clippy#12923; see tests/common/mod.rs).
#![allow(clippy::duplicated_attributes)]

mod common;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use common::backend::name;
use common::conn::conns;
use loader_runtime::types::Json;
use loader_runtime::{Backend, Db, Entity, Error, SqlType};
use rust_decimal::Decimal;
use uuid::Uuid;

#[derive(SqlType, Clone, Copy, PartialEq, Eq, Hash, Debug)]
struct TagId(i64);

#[derive(SqlType, Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[sql_type(rename_all = "snake_case")]
enum Status {
    Active,
    OnHold,
    #[sql_type(rename = "gone")]
    Closed,
}

#[derive(SqlType, Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[sql_type(integer)]
enum Tier {
    Free = 0,
    Pro = 10,
}

#[derive(serde::Serialize, serde::Deserialize, Clone, PartialEq, Debug)]
struct Settings {
    theme: String,
    beta: bool,
}

#[derive(Entity, Clone, PartialEq, Debug)]
#[entity(table = "accounts")]
#[has_many(Order, fk = "account_id")]
#[has_many(Event, fk = "account_id")]
struct Account {
    id: Uuid,
    name: String,
    created_at: DateTime<Utc>,
    birthday: Option<NaiveDate>,
    balance: Decimal,
    settings: Json<Settings>,
    extra: Option<serde_json::Value>,
    status: Status,
    tier: Tier,
    avatar: Option<Vec<u8>>,
}

#[derive(Entity, Clone, PartialEq, Debug)]
#[entity(table = "orders")]
#[belongs_to(Account, fk = "account_id")]
#[has_many(Item, fk = "order_id")]
#[many_to_many(Tag, through = "order_tags", fk = "order_id", target_fk = "tag_id")]
struct Order {
    id: Uuid,
    account_id: Uuid,
    placed_at: NaiveDateTime,
    total: Decimal,
    paid: bool,
    weight: f32,
    note: Option<String>,
}

#[derive(Entity, Clone, PartialEq, Debug)]
#[entity(table = "items")]
#[belongs_to(Order, fk = "order_id")]
struct Item {
    id: i32,
    order_id: Uuid,
    quantity: i16,
    price: f64,
}

#[derive(Entity, Clone, PartialEq, Debug)]
#[entity(table = "tags")]
struct Tag {
    id: TagId,
    label: String,
}

/// The join table read as an entity: a composite key of a UUID and a
/// newtype id.
#[derive(Entity, Clone, PartialEq, Debug)]
#[entity(table = "order_tags")]
#[belongs_to(Order, fk = "order_id")]
#[belongs_to(Tag, fk = "tag_id")]
struct OrderTag {
    #[entity(primary_key)]
    order_id: Uuid,
    #[entity(primary_key)]
    tag_id: TagId,
}

#[derive(Entity, Clone, PartialEq, Debug)]
#[entity(table = "events")]
#[belongs_to(Account, fk = "account_id")]
struct Event {
    id: uuid::fmt::Hyphenated,
    account_id: Option<Uuid>,
    day: time::Date,
    at: time::PrimitiveDateTime,
    logged: time::OffsetDateTime,
}

fn uuid(n: u8) -> Uuid {
    Uuid::from_bytes([
        n, 0x11, 0x22, 0x33, 0x44, 0x55, 0x46, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, n,
    ])
}

/// A UUID as a literal of `db`'s column type.
fn uuid_literal(db: &Db, id: Uuid) -> String {
    match db.backend() {
        Backend::Postgres => format!("'{id}'"),
        _ => format!("X'{}'", id.simple()),
    }
}

const SQLITE_SCHEMA: &str = "
    CREATE TABLE accounts (id BLOB PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL,
        birthday TEXT, balance TEXT NOT NULL, settings TEXT NOT NULL, extra TEXT,
        status TEXT NOT NULL, tier INTEGER NOT NULL, avatar BLOB);
    CREATE TABLE orders (id BLOB PRIMARY KEY, account_id BLOB NOT NULL, placed_at TEXT NOT NULL,
        total NUMERIC(10, 2) NOT NULL, paid BOOLEAN NOT NULL, weight REAL NOT NULL, note TEXT);
    CREATE TABLE items (id INTEGER PRIMARY KEY, order_id BLOB NOT NULL, quantity INTEGER NOT NULL,
        price REAL NOT NULL);
    CREATE TABLE tags (id INTEGER PRIMARY KEY, label TEXT NOT NULL);
    CREATE TABLE order_tags (order_id BLOB NOT NULL, tag_id INTEGER NOT NULL,
        PRIMARY KEY (order_id, tag_id));
    CREATE TABLE events (id TEXT PRIMARY KEY, account_id BLOB, day TEXT NOT NULL,
        at TEXT NOT NULL, logged TEXT NOT NULL);
";

const POSTGRES_SCHEMA: &str = "
    CREATE TYPE account_status AS ENUM ('active', 'on_hold', 'gone');
    CREATE TABLE accounts (id uuid PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL,
        birthday date, balance numeric(12, 2) NOT NULL, settings jsonb NOT NULL, extra json,
        status account_status NOT NULL, tier int2 NOT NULL, avatar bytea);
    CREATE TABLE orders (id uuid PRIMARY KEY, account_id uuid NOT NULL, placed_at timestamp NOT NULL,
        total numeric(10, 2) NOT NULL, paid boolean NOT NULL, weight real NOT NULL, note varchar(100));
    CREATE TABLE items (id int4 PRIMARY KEY, order_id uuid NOT NULL, quantity int2 NOT NULL,
        price float8 NOT NULL);
    CREATE TABLE tags (id int8 PRIMARY KEY, label text NOT NULL);
    CREATE TABLE order_tags (order_id uuid NOT NULL, tag_id int8 NOT NULL,
        PRIMARY KEY (order_id, tag_id));
    CREATE TABLE events (id uuid PRIMARY KEY, account_id uuid, day date NOT NULL,
        at timestamp NOT NULL, logged timestamptz NOT NULL);
";

/// Accounts 1–3; orders 10–14 (account 1: 10, 11, 12; account 2: 13, 14;
/// account 3: none); items 2 per order; tags 1–3 on some orders; events.
fn fill(db: &Db) {
    let postgres = db.backend() == Backend::Postgres;
    db.execute_batch(if postgres {
        POSTGRES_SCHEMA
    } else {
        SQLITE_SCHEMA
    })
    .unwrap();
    let u = |n| uuid_literal(db, uuid(n));
    let blob = if postgres { "'\\x00ff'" } else { "X'00ff'" };
    let mut sql = format!(
        "INSERT INTO accounts VALUES
           ({}, 'ada', '2024-01-31 10:00:00+00:00', '1815-12-10', '1250.50',
            '{{\"theme\": \"dark\", \"beta\": true}}', '[1, 2]', 'active', 10, {blob}),
           ({}, 'grace', '2024-02-29 23:59:59.5+00:00', NULL, '-3.07',
            '{{\"theme\": \"light\", \"beta\": false}}', NULL, 'on_hold', 0, NULL),
           ({}, 'edsger', '2023-12-31 00:00:00+00:00', '1930-05-11', '0.00',
            '{{\"theme\": \"dark\", \"beta\": false}}', '{{\"a\": null}}', 'gone', 0, NULL);",
        u(1),
        u(2),
        u(3)
    );
    let orders = [
        (10, 1, "2024-03-01 09:30:00", "19.99", true, None),
        (11, 1, "2024-03-02 12:00:00", "5.00", false, Some("gift")),
        (12, 1, "2024-01-15 08:00:00", "120.10", true, None),
        (13, 2, "2024-03-03 18:45:00.25", "0.99", true, Some("it's")),
        (14, 2, "2024-02-01 00:00:00", "1000.00", false, None),
    ];
    for (id, account, placed, total, paid, note) in orders {
        let note = note.map_or("NULL".to_owned(), |n: &str| {
            format!("'{}'", n.replace('\'', "''"))
        });
        let paid = if postgres {
            paid.to_string()
        } else {
            i32::from(paid).to_string()
        };
        sql += &format!(
            "INSERT INTO orders VALUES ({}, {}, '{placed}', '{total}', {paid}, {}, {note});",
            u(id),
            u(account),
            f32::from(id) / 4.0
        );
        for item in 0..2 {
            let item_id = i32::from(id) * 10 + item;
            sql += &format!(
                "INSERT INTO items VALUES ({item_id}, {}, {}, {});",
                u(id),
                item + 1,
                f64::from(item_id) / 8.0
            );
        }
    }
    sql += "INSERT INTO tags VALUES (1, 'red'), (2, 'green'), (3, 'blue');";
    for (order, tag) in [(10, 1), (10, 3), (11, 2), (13, 1), (13, 2), (13, 3)] {
        sql += &format!("INSERT INTO order_tags VALUES ({}, {tag});", u(order));
    }
    let event_id = |n: u8| match postgres {
        true => format!("'{}'", uuid(n)),
        false => format!("'{}'", uuid(n).hyphenated()),
    };
    sql += &format!(
        "INSERT INTO events VALUES
           ({}, {}, '2024-05-01', '2024-05-01 10:00:00.0', '2024-05-01 10:00:00.0+00:00'),
           ({}, NULL, '2024-06-15', '2024-06-15 23:30:00.0', '2024-06-15 21:30:00.0+00:00');",
        event_id(100),
        u(1),
        event_id(101)
    );
    db.execute_batch(&sql).unwrap();
}

fn settings(theme: &str, beta: bool) -> Json<Settings> {
    Json(Settings {
        theme: theme.into(),
        beta,
    })
}

fn expected_accounts() -> Vec<Account> {
    let at = |text: &str| {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    };
    let mut accounts = vec![
        Account {
            id: uuid(1),
            name: "ada".into(),
            created_at: at("2024-01-31T10:00:00Z"),
            birthday: NaiveDate::from_ymd_opt(1815, 12, 10),
            balance: Decimal::new(125050, 2),
            settings: settings("dark", true),
            extra: Some(serde_json::json!([1, 2])),
            status: Status::Active,
            tier: Tier::Pro,
            avatar: Some(vec![0, 255]),
        },
        Account {
            id: uuid(2),
            name: "grace".into(),
            created_at: at("2024-02-29T23:59:59.5Z"),
            birthday: None,
            balance: Decimal::new(-307, 2),
            settings: settings("light", false),
            extra: None,
            status: Status::OnHold,
            tier: Tier::Free,
            avatar: None,
        },
        Account {
            id: uuid(3),
            name: "edsger".into(),
            created_at: at("2023-12-31T00:00:00Z"),
            birthday: NaiveDate::from_ymd_opt(1930, 5, 11),
            balance: Decimal::new(0, 2),
            settings: settings("dark", false),
            extra: Some(serde_json::json!({"a": null})),
            status: Status::Closed,
            tier: Tier::Free,
            avatar: None,
        },
    ];
    accounts.sort_by_key(|account| account.id);
    accounts
}

#[test]
fn every_type_reads_into_its_field_on_every_backend() {
    for conn in conns(fill) {
        let place = format!("{} {}", name(conn.sync()), conn.name());
        let (accounts, events) = on!(&conn, wait, |db| (
            wait!(Account::all(db)).unwrap(),
            wait!(Event::all(db)).unwrap()
        ));
        assert_eq!(accounts, expected_accounts(), "{place}");
        // Decimals keep their scale where the column has one.
        assert_eq!(accounts[0].balance.to_string(), "1250.50", "{place}");
        assert_eq!(events.len(), 2, "{place}");
        let first = events
            .iter()
            .find(|e| e.id == uuid(100).hyphenated())
            .unwrap();
        assert_eq!(first.account_id, Some(uuid(1)), "{place}");
        assert_eq!(first.day, time::macros::date!(2024 - 05 - 01), "{place}");
        assert_eq!(
            first.at,
            time::macros::datetime!(2024-05-01 10:00:00),
            "{place}"
        );
        let second = events
            .iter()
            .find(|e| e.id == uuid(101).hyphenated())
            .unwrap();
        assert_eq!(
            second.logged,
            time::macros::datetime!(2024-06-15 21:30:00 UTC),
            "{place}"
        );
        assert_eq!(second.account_id, None, "{place}");
    }
}

/// The graph of every account, its orders with their items, account and
/// tags, and its events, as text that must be equal on every backend.
fn graph(conn: &common::conn::Conn) -> (String, usize, Vec<String>) {
    on!(conn, wait, |db| {
        db.reset_query_log();
        let accounts = wait!(
            Account::query()
                .preload(
                    Account::orders()
                        .preload(Order::items())
                        .preload(Order::account())
                        .preload(Order::tags())
                )
                .preload(Account::events().preload(Event::account()))
                .all(db)
        )
        .unwrap();
        let statements = db.query_log().iter().map(|q| q.sql.to_string()).collect();
        let mut text = String::new();
        for account in &accounts {
            text += &format!("{} {:?}\n", account.name, account.status);
            for order in account.orders() {
                let tags: Vec<_> = order
                    .tags()
                    .iter()
                    .map(|t| (t.id, t.label.as_str()))
                    .collect();
                let items: Vec<_> = order
                    .items()
                    .iter()
                    .map(|i| (i.id, i.quantity, i.price))
                    .collect();
                text += &format!(
                    "  {} {} {} {:?} of {} {tags:?} {items:?}\n",
                    order.placed_at,
                    // SQLite's NUMERIC affinity keeps the value, not the
                    // scale (`5.00` reads back as `5`).
                    order.total.normalize(),
                    order.paid,
                    order.note,
                    order.account().name
                );
            }
            for event in account.events() {
                text += &format!(
                    "  event {} {}\n",
                    event.day,
                    event.account().map_or("-", |a| &a.name)
                );
            }
        }
        (text, db.query_count(), statements)
    })
}

#[test]
fn uuid_keys_preload_one_statement_per_relation_with_the_same_graph_everywhere() {
    let conns = conns(fill);
    let mut graphs = Vec::new();
    for conn in &conns {
        let place = format!("{} {}", name(conn.sync()), conn.name());
        let (text, count, statements) = graph(conn);
        // accounts, orders, items, order → account, tags (the join table,
        // then the tags), events, event → account
        assert_eq!(count, 8, "{place}: {statements:#?}");
        if conn.sync().backend() == Backend::Postgres && !common::backend::pooled() {
            assert!(
                statements.iter().any(|sql| sql.contains("= ANY($1)")),
                "{place}: key sets are bound as one uuid[]: {statements:#?}"
            );
        }
        assert!(
            text.contains("2024-01-15 08:00:00 120.1 true None of ada [] [(120, 1, 15.0)"),
            "{place}:\n{text}"
        );
        graphs.push((place, text));
    }
    for (place, text) in &graphs[1..] {
        assert_eq!(text, &graphs[0].1, "{place} against {}", graphs[0].0);
    }
}

#[test]
fn lazy_loads_by_uuid_and_newtype_keys_equal_the_preload() {
    for conn in conns(fill) {
        let place = format!("{} {}", name(conn.sync()), conn.name());
        on!(&conn, wait, |db| {
            let account = wait!(Account::find(db, &uuid(1))).unwrap().unwrap();
            let orders = wait!(account.load_orders(db)).unwrap();
            assert_eq!(
                orders.iter().map(|o| o.total).sum::<Decimal>(),
                Decimal::new(14509, 2),
                "{place}"
            );
            let tags = wait!(orders[0].load_tags(db)).unwrap();
            let owner = wait!(orders[0].load_account(db)).unwrap();
            assert_eq!(owner.id, uuid(1), "{place}");
            let preloaded = wait!(
                Order::query()
                    .filter(|o| o.id.eq(orders[0].id))
                    .preload(Order::tags())
                    .all(db)
            )
            .unwrap();
            let preloaded_tags: Vec<&Tag> =
                preloaded[0].tags().iter().map(|t| t.entity()).collect();
            assert_eq!(preloaded_tags, tags.iter().collect::<Vec<_>>(), "{place}");
            assert!(!tags.is_empty(), "{place}");
            let tag = wait!(Tag::find(db, &TagId(3))).unwrap().unwrap();
            assert_eq!(tag.label, "blue", "{place}");
        });
    }
}

/// The ids of `orders`, as the small numbers `fill` made them from.
fn numbers(orders: &[loader_runtime::Loaded<Order>]) -> Vec<u8> {
    orders.iter().map(|o| o.id.as_bytes()[0]).collect()
}

#[test]
fn filters_key_sets_and_orderings_of_each_type() {
    let at = |text| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap();
    for conn in conns(fill) {
        let place = format!("{} {}", name(conn.sync()), conn.name());
        on!(&conn, wait, |db| {
            let run = |query: loader_runtime::Query<Order>| query;
            let cases: Vec<(&str, loader_runtime::Query<Order>, Vec<u8>)> = vec![
                (
                    "uuid eq",
                    run(Order::query().filter(|o| o.account_id.eq(uuid(2)))),
                    vec![13, 14],
                ),
                (
                    "uuid is_in",
                    Order::query().filter(|o| o.id.is_in([uuid(10), uuid(14), uuid(99)])),
                    vec![10, 14],
                ),
                (
                    "timestamp lt, ordered by timestamp",
                    Order::query()
                        .filter(|o| o.placed_at.lt(at("2024-03-01 00:00:00")))
                        .order_by(|o| o.placed_at.asc()),
                    vec![12, 14],
                ),
                (
                    "decimal ge, ordered by decimal desc",
                    Order::query()
                        .filter(|o| o.total.ge(Decimal::new(1999, 2)))
                        .order_by(|o| o.total.desc()),
                    vec![14, 12, 10],
                ),
                (
                    "bool eq",
                    Order::query().filter(|o| o.paid.eq(false)),
                    vec![11, 14],
                ),
                (
                    "real gt",
                    Order::query().filter(|o| o.weight.gt(3.2f32)),
                    vec![13, 14],
                ),
                (
                    "text in Option",
                    Order::query().filter(|o| o.note.eq("it's")),
                    vec![13],
                ),
            ];
            for (case, query, expected) in cases {
                let mut found = numbers(&wait!(query.all(db)).unwrap());
                if !case.contains("ordered") {
                    found.sort();
                }
                assert_eq!(found, expected, "{place}: {case}");
            }
            let accounts = |query: loader_runtime::Query<Account>| query;
            let names = |rows: Vec<loader_runtime::Loaded<Account>>| -> Vec<String> {
                rows.iter().map(|a| a.name.clone()).collect()
            };
            let by_status = wait!(
                accounts(
                    Account::query()
                        .filter(|a| a.status.is_in([Status::OnHold, Status::Closed]))
                        .order_by(|a| a.name.asc())
                )
                .all(db)
            )
            .unwrap();
            assert_eq!(names(by_status), ["edsger", "grace"], "{place}: enum is_in");
            let by_tier = wait!(Account::query().filter(|a| a.tier.eq(Tier::Pro)).all(db)).unwrap();
            assert_eq!(names(by_tier), ["ada"], "{place}: integer enum eq");
            let born = wait!(
                Account::query()
                    .filter(|a| a.birthday.lt(NaiveDate::from_ymd_opt(1900, 1, 1).unwrap()))
                    .all(db)
            )
            .unwrap();
            assert_eq!(names(born), ["ada"], "{place}: date in Option");
            let recent = wait!(
                Account::query()
                    .filter(|a| a.created_at.ge(DateTime::parse_from_rfc3339(
                        "2024-01-01T00:00:00Z"
                    )
                    .unwrap()
                    .with_timezone(&Utc)))
                    .order_by(|a| a.created_at.desc())
                    .all(db)
            )
            .unwrap();
            assert_eq!(
                names(recent),
                ["grace", "ada"],
                "{place}: timestamptz ge, ordered"
            );
            let tags = wait!(
                Tag::query()
                    .filter(|t| t.id.is_in([TagId(1), TagId(3)]))
                    .all(db)
            )
            .unwrap();
            assert_eq!(tags.len(), 2, "{place}: newtype is_in");
            let day = time::macros::date!(2024 - 06 - 15);
            let events = wait!(Event::query().filter(|e| e.day.eq(day)).all(db)).unwrap();
            assert_eq!(events.len(), 1, "{place}: time::Date eq");
            let event = wait!(Event::find(db, &uuid(100).hyphenated())).unwrap();
            assert!(event.is_some(), "{place}: find by a hyphenated UUID key");
        });
    }
}

#[test]
fn a_value_the_field_cannot_hold_is_an_error_naming_entity_column_and_key() {
    for conn in conns(fill) {
        let place = format!("{} {}", name(conn.sync()), conn.name());
        let postgres = conn.sync().backend() == Backend::Postgres;
        let grace = "WHERE name = 'grace'";
        // (column, breaking value, the value to restore, what the error says)
        let mut breakages = vec![
            (
                "status",
                "'frozen'",
                "'on_hold'",
                "`frozen` is not a value of `Status`",
            ),
            ("tier", "7", "0", "7 is not a value of `Tier`"),
        ];
        if postgres {
            // A label added to the PostgreSQL enum type but not to the Rust enum.
            conn.sync()
                .execute_batch("ALTER TYPE account_status ADD VALUE IF NOT EXISTS 'frozen'")
                .unwrap();
            breakages.push(("balance", "'NaN'", "'-3.07'", "NaN"));
        } else {
            breakages.push(("balance", "'1e40'", "'-3.07'", "is not a decimal"));
            breakages.push((
                "settings",
                "'{\"theme\": 3}'",
                "'{\"theme\": \"light\", \"beta\": false}'",
                "cannot read JSON",
            ));
        }
        for (column, broken, restored, message) in breakages {
            let update = format!("UPDATE accounts SET {column} = {broken} {grace}");
            conn.sync().execute_batch(&update).unwrap();
            let result = on!(&conn, wait, |db| wait!(Account::all(db)));
            conn.sync()
                .execute_batch(&format!(
                    "UPDATE accounts SET {column} = {restored} {grace}"
                ))
                .unwrap();
            match result {
                Err(Error::Decode {
                    entity,
                    column: reported,
                    key,
                    sql,
                    source,
                }) => {
                    assert_eq!((entity, reported), ("Account", column), "{place}: {update}");
                    let key = key.unwrap_or_default();
                    assert!(
                        key.contains(&uuid(2).simple().to_string())
                            || key.contains(&uuid(2).to_string()),
                        "{place}: the key names grace's row: {key}"
                    );
                    assert!(sql.contains("accounts"), "{place}: {sql}");
                    assert!(
                        source.to_string().contains(message),
                        "{place}: {update}: {source}"
                    );
                }
                other => panic!("{place}: {update}: expected a decode error, got {other:?}"),
            }
        }
        assert_eq!(
            on!(&conn, wait, |db| wait!(Account::all(db))).unwrap(),
            expected_accounts(),
            "{place}"
        );
        if !postgres {
            conn.sync()
                .execute_batch("UPDATE events SET id = 'not-a-uuid' WHERE day = '2024-06-15'")
                .unwrap();
            let result = on!(&conn, wait, |db| wait!(Event::all(db)));
            let Err(Error::Decode { column, source, .. }) = result else {
                panic!("{place}: expected a decode error, got {result:?}");
            };
            assert_eq!(column, "id", "{place}");
            assert!(
                source.to_string().contains("`not-a-uuid` is not a UUID"),
                "{place}: {source}"
            );
        }
    }
}

#[test]
fn composite_keys_of_a_uuid_and_a_newtype() {
    for conn in conns(fill) {
        let place = format!("{} {}", name(conn.sync()), conn.name());
        on!(&conn, wait, |db| {
            let found = wait!(OrderTag::find(db, &(uuid(13), TagId(2)))).unwrap();
            assert_eq!(found.map(|t| t.tag_id), Some(TagId(2)), "{place}");
            assert!(
                wait!(OrderTag::find(db, &(uuid(13), TagId(9))))
                    .unwrap()
                    .is_none(),
                "{place}"
            );
            db.reset_query_log();
            let links = wait!(
                OrderTag::query()
                    .filter(|t| t.order_id.eq(uuid(13)))
                    .preload(OrderTag::order().preload(Order::account()))
                    .preload(OrderTag::tag())
                    .all(db)
            )
            .unwrap();
            assert_eq!(db.query_count(), 4, "{place}");
            let labels: Vec<&str> = links.iter().map(|l| l.tag().label.as_str()).collect();
            assert_eq!(labels, ["red", "green", "blue"], "{place}");
            assert!(
                links.iter().all(|l| l.order().account().name == "grace"),
                "{place}"
            );
        });
    }
}

/// Relation filters over UUID keys with typed values inside: one `EXISTS`
/// statement binding a `Decimal`, an enum label and a date.
#[test]
fn relation_filters_over_uuid_keys_bind_typed_values() {
    for conn in conns(fill) {
        let place = format!("{} {}", name(conn.sync()), conn.name());
        let names = on!(&conn, wait, |db| {
            db.reset_query_log();
            let accounts = wait!(
                Account::query()
                    .filter(|a| {
                        a.orders()
                            .any(|o| o.total.ge(Decimal::new(10000, 2)).and(o.tags().exists()))
                            .or(a
                                .events()
                                .any(|e| e.day.eq(time::macros::date!(2024 - 05 - 01))))
                    })
                    .filter(|a| a.status.ne(Status::Closed))
                    .all(db)
            )
            .unwrap();
            assert_eq!(db.query_count(), 1, "{place}");
            accounts.iter().map(|a| a.name.clone()).collect::<Vec<_>>()
        });
        // ada: order 12 (120.10) is untagged but her event is on 2024-05-01;
        // grace: order 14 (1000.00) is untagged, order 13 is tagged but 0.99.
        assert_eq!(names, ["ada"], "{place}");
        let untagged = on!(&conn, wait, |db| {
            wait!(Order::query().filter(|o| o.tags().is_empty()).all(db)).unwrap()
        });
        assert_eq!(numbers(&untagged), [12, 14], "{place}");
    }
}
