//! Running one test on every backend: SQLite always, PostgreSQL when
//! `LOADER_TEST_POSTGRES` holds a connection URL (`.ci/run` sets it).
//! Each PostgreSQL test gets its own schema, dropped and created afresh, so
//! tests run in parallel without seeing each other's tables.

use std::io::Write;

use loader_runtime::postgres_driver::types::ToSql;
use loader_runtime::{Backend, Db};

/// The variable that enables the PostgreSQL runs.
pub const POSTGRES_URL: &str = "LOADER_TEST_POSTGRES";

/// A fresh empty SQLite database and, when enabled, a fresh empty
/// PostgreSQL schema; prints why PostgreSQL is skipped otherwise.
pub fn databases() -> Vec<Db> {
    let mut dbs = vec![Db::open_in_memory().expect("open in-memory SQLite")];
    dbs.extend(postgres());
    dbs
}

/// A connection to a fresh schema named after the running test, or `None`
/// (with a message written past the test harness's capture) when
/// `LOADER_TEST_POSTGRES` is unset. Panics if it is set but unusable.
pub fn postgres() -> Option<Db> {
    let name = schema_name();
    postgres_schema(&name)
}

/// A connection whose `search_path` is a fresh schema called `name`.
pub fn postgres_schema(name: &str) -> Option<Db> {
    let Some(url) = std::env::var_os(POSTGRES_URL) else {
        let _ = std::io::stderr().write_all(
            format!(
                "skipped on PostgreSQL: set {POSTGRES_URL}=postgres://user@host/database to run it there\n"
            )
            .as_bytes(),
        );
        return None;
    };
    let url = url.to_string_lossy().into_owned();
    let db = Db::connect(&url)
        .unwrap_or_else(|error| panic!("{POSTGRES_URL}={url}: cannot connect: {error}"));
    let schema = quote(name);
    db.execute_batch(&format!(
        "SET client_min_messages = warning;
         DROP SCHEMA IF EXISTS {schema} CASCADE;
         CREATE SCHEMA {schema};
         SET search_path TO {schema};"
    ))
    .unwrap_or_else(|error| panic!("cannot create schema {schema}: {error}"));
    Some(db)
}

/// Another connection to the schema of [`postgres`] called `name`, which
/// must exist, for tests that need two sessions.
pub fn postgres_session(name: &str) -> Db {
    let url = std::env::var(POSTGRES_URL).expect("LOADER_TEST_POSTGRES");
    let db = Db::connect(&url).unwrap();
    db.execute_batch(&format!("SET search_path TO {}", quote(name)))
        .unwrap();
    db
}

/// The schema [`postgres`] creates for the running test.
pub fn current_schema() -> String {
    schema_name()
}

/// `loader_<test binary>_<test name>`, made a valid identifier of at most
/// 63 bytes (PostgreSQL's limit), unique per test.
fn schema_name() -> String {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("main");
    let raw = format!("{}_{test}", env!("CARGO_CRATE_NAME"));
    let mut name: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if name.len() > 50 {
        let hash = raw.bytes().fold(0xcbf29ce484222325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
        });
        name.truncate(40);
        name.push_str(&format!("_{:x}", hash & 0xffff_ffff));
    }
    format!("t_{name}")
}

fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

/// A value both drivers can bind.
pub trait Bind: rusqlite::ToSql + ToSql + Sync {}
impl<T: rusqlite::ToSql + ToSql + Sync> Bind for T {}

/// Runs `sql` with `params` bound, on either backend (test setup only).
/// Write placeholders as `$1`, `$2`: SQLite reads them as parameters too.
pub fn execute(db: &Db, sql: &str, params: &[&dyn Bind]) {
    match db.backend() {
        Backend::Postgres => {
            let values: Vec<&(dyn ToSql + Sync)> =
                params.iter().map(|p| *p as &(dyn ToSql + Sync)).collect();
            db.postgres()
                .expect("PostgreSQL client")
                .execute(sql, &values)
                .unwrap_or_else(|error| panic!("{sql}: {error:?}"));
        }
        _ => {
            db.sqlite()
                .expect("SQLite connection")
                .execute(
                    sql,
                    rusqlite::params_from_iter(params.iter().map(|p| *p as &dyn rusqlite::ToSql)),
                )
                .unwrap_or_else(|error| panic!("{sql}: {error:?}"));
        }
    }
}

/// The rows of a hand-written query whose columns are all integers (or
/// `NULL`), on either backend: the reference the library's results are
/// compared with.
pub fn integer_rows(db: &Db, sql: &str) -> Vec<Vec<Option<i64>>> {
    match db.backend() {
        Backend::Postgres => {
            use loader_runtime::postgres_driver::types::Type;
            let rows = db
                .postgres()
                .expect("PostgreSQL client")
                .query(sql, &[])
                .unwrap_or_else(|error| panic!("{sql}: {error:?}"));
            rows.iter()
                .map(|row| {
                    (0..row.len())
                        .map(|i| match *row.columns()[i].type_() {
                            Type::INT2 => row.get::<_, Option<i16>>(i).map(i64::from),
                            Type::INT4 => row.get::<_, Option<i32>>(i).map(i64::from),
                            _ => row.get::<_, Option<i64>>(i),
                        })
                        .collect()
                })
                .collect()
        }
        _ => {
            let conn = db.sqlite().expect("SQLite connection");
            let mut statement = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
            let columns = statement.column_count();
            statement
                .query_map([], |row| (0..columns).map(|i| row.get(i)).collect())
                .unwrap()
                .map(Result::unwrap)
                .collect()
        }
    }
}

/// The name of a backend, for assertion messages.
pub fn name(db: &Db) -> &'static str {
    match db.backend() {
        Backend::Postgres => "PostgreSQL",
        _ => "SQLite",
    }
}

/// How a statement of this backend binds a key set.
pub fn key_set(db: &Db) -> &'static str {
    match db.backend() {
        Backend::Postgres => "= ANY($1)",
        _ => "IN rarray(?1)",
    }
}
