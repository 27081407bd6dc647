//! Relation filters checked against hand-written SQL on either API: each
//! case is one statement and returns the ids the SQL returns.

use loader_runtime::{Db, Entity, Expr, Keyed, Query};

use super::backend::integer_rows;
use super::conn::Conn;

/// One condition and the same question in SQL (selecting ids in key order).
pub struct FilterCase<E: Entity> {
    pub what: &'static str,
    pub filter: fn() -> Expr<E>,
    pub sql: &'static str,
}

/// The first column of `sql`'s rows.
pub fn ids_of(db: &Db, sql: &str) -> Vec<i64> {
    integer_rows(db, sql)
        .into_iter()
        .map(|row| row[0].unwrap())
        .collect()
}

/// Runs `case` on `conn`: one statement, the same ids as its SQL. Returns
/// them.
pub fn check_filter<E: Keyed<Key = i64>>(
    conn: &Conn,
    place: &str,
    case: &FilterCase<E>,
) -> Vec<i64> {
    let want = ids_of(conn.sync(), case.sql);
    let got = crate::on!(conn, wait, |db| {
        db.reset_query_log();
        let rows = wait!(Query::<E>::new().filter(|_| (case.filter)()).all(db)).unwrap();
        assert_eq!(db.query_count(), 1, "{place}: {}: one statement", case.what);
        rows.iter()
            .map(|row| *row.entity().key())
            .collect::<Vec<_>>()
    });
    assert_eq!(got, want, "{place}: {}", case.what);
    got
}

/// `EXPLAIN sql` on PostgreSQL with `params`, as one text.
pub fn explain(
    db: &Db,
    sql: &str,
    params: &[&(dyn loader_runtime::tokio_postgres::types::ToSql + Sync)],
) -> String {
    let rows = db
        .transaction(|db| {
            db.postgres()
                .unwrap()
                .query(&format!("EXPLAIN {sql}"), params)
        })
        .unwrap();
    let plan: Vec<String> = rows.iter().map(|row| row.get::<_, String>(0)).collect();
    plan.join("\n")
}
