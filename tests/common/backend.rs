//! Running one test on every backend: SQLite always, PostgreSQL when
//! `LOADER_TEST_POSTGRES` holds a connection URL (`.ci/run` sets it).
//! Each PostgreSQL test gets its own schema, dropped and created afresh, so
//! tests run in parallel without seeing each other's tables.

use std::io::Write;

use loader_runtime::tokio_postgres::types::ToSql;
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

/// The variable that says the server is reached through a connection
/// pooler in transaction mode (`.ci/run` sets it for its PgBouncer pass):
/// session settings do not survive a transaction there, so each test gets
/// a database of its own (made through `LOADER_TEST_POSTGRES_DIRECT`)
/// instead of a schema on its `search_path`.
pub const POOLER: &str = "LOADER_TEST_POOLER";

/// Whether the tests go through a pooler (see [`POOLER`]).
pub fn pooled() -> bool {
    std::env::var_os(POOLER).is_some()
}

/// `LOADER_TEST_POSTGRES` with its database replaced by `name` (its query,
/// such as `prepared_statements=false`, kept).
fn url_with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority_end = base
        .find("://")
        .map(|scheme| scheme + 3)
        .and_then(|start| base[start..].find('/').map(|slash| start + slash))
        .unwrap_or(base.len());
    format!("{}/{name}{query}", &base[..authority_end])
}

/// The URL a sync connection to the test place `name` opens: the test
/// server's, or under a pooler the database `name` through it.
pub fn url_for(name: &str) -> String {
    let url = std::env::var(POSTGRES_URL).expect("LOADER_TEST_POSTGRES");
    if pooled() {
        url_with_database(&url, name)
    } else {
        url
    }
}

/// A connection to a fresh place called `name` for a test's tables: a
/// schema on its `search_path`, or under a pooler a database of its own.
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
    if pooled() {
        let direct = std::env::var("LOADER_TEST_POSTGRES_DIRECT")
            .expect("LOADER_TEST_POSTGRES_DIRECT: the server's own URL, to create databases");
        let admin = Db::connect(&direct)
            .unwrap_or_else(|error| panic!("LOADER_TEST_POSTGRES_DIRECT={direct}: {error}"));
        let database = quote(name);
        // One statement per batch: a batch is a transaction, which
        // DROP DATABASE and CREATE DATABASE refuse.
        admin
            .execute_batch("SET client_min_messages = warning")
            .unwrap();
        admin
            .execute_batch(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
            .unwrap_or_else(|error| panic!("cannot drop database {database}: {error}"));
        admin
            .execute_batch(&format!("CREATE DATABASE {database}"))
            .unwrap_or_else(|error| panic!("cannot create database {database}: {error}"));
        let db = Db::connect(&url_for(name)).unwrap_or_else(|error| {
            panic!("{POSTGRES_URL}={url} (database {name}): cannot connect: {error}")
        });
        return Some(db);
    }
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

/// Another connection to the place `name` of [`postgres_schema`], which
/// must exist, for tests that need two sessions.
pub fn postgres_session(name: &str) -> Db {
    let db = Db::connect(&url_for(name)).unwrap();
    if !pooled() {
        db.execute_batch(&format!("SET search_path TO {}", quote(name)))
            .unwrap();
    }
    db
}

/// The configuration of an async handle on the place `name`: the test
/// server's with `search_path` set at connection, or under a pooler the
/// database `name` (a pooler does not pass startup options on).
pub fn async_config(name: &str) -> tokio_postgres::Config {
    let url = std::env::var(POSTGRES_URL).expect("LOADER_TEST_POSTGRES");
    let (url, _) = split_prepared(&url);
    let mut config: tokio_postgres::Config = url.parse().unwrap();
    if pooled() {
        config.dbname(name);
    } else {
        config.options(format!("-c search_path={name}"));
    }
    config
}

/// [`async_config`] through a proxy listening on `port` on 127.0.0.1.
pub fn async_config_through(name: &str, port: u16) -> tokio_postgres::Config {
    let config = async_config(name);
    let mut proxied = tokio_postgres::Config::new();
    proxied.host("127.0.0.1").port(port);
    if let Some(user) = config.get_user() {
        proxied.user(user);
    }
    if let Some(dbname) = config.get_dbname() {
        proxied.dbname(dbname);
    }
    if let Some(options) = config.get_options() {
        proxied.options(options);
    }
    proxied
}

/// Whether the test server's URL turns prepared statements off.
pub fn prepared_statements() -> bool {
    std::env::var(POSTGRES_URL).map_or(true, |url| split_prepared(&url).1)
}

/// The URL without the library's `prepared_statements` option, and its value.
fn split_prepared(url: &str) -> (String, bool) {
    for off in [
        "prepared_statements=false",
        "prepared_statements=off",
        "prepared_statements=0",
    ] {
        if url.contains(off) {
            let rest = url
                .replace(&format!("?{off}&"), "?")
                .replace(&format!("&{off}"), "")
                .replace(&format!("?{off}"), "");
            return (rest, false);
        }
    }
    (url.to_owned(), true)
}

/// The place (schema, or under a pooler database) `db` works in.
pub fn place(db: &Db) -> String {
    let sql = if pooled() {
        "SELECT current_database()::text"
    } else {
        "SELECT current_schema()::text"
    };
    // A simple query: nothing prepared, one message, whatever the pooler.
    let messages = db.postgres().unwrap().simple_query(sql).unwrap();
    messages
        .iter()
        .find_map(|message| match message {
            loader_runtime::tokio_postgres::SimpleQueryMessage::Row(row) => {
                row.get(0).map(str::to_owned)
            }
            _ => None,
        })
        .expect("a row")
}

/// Runs `work` on a thread of its own: the sync `Db` refuses to run
/// PostgreSQL statements on a thread with a runtime.
pub fn blocking<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| scope.spawn(work).join().unwrap())
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
            // In a transaction, so that a pooler in transaction mode keeps
            // the statement the driver prepares on one server connection.
            db.transaction(|db| {
                let client = db.postgres().expect("PostgreSQL client");
                client.execute(sql, &values)
            })
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
            use loader_runtime::tokio_postgres::types::Type;
            let rows = db
                .transaction(|db| db.postgres().expect("PostgreSQL client").query(sql, &[]))
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

/// Whether this backend sends a wave's statements in one round trip
/// (PostgreSQL): a child table read whole then goes out with its owners,
/// so it is read even when they turn out to be none.
pub fn pipelines(db: &Db) -> bool {
    db.backend() == Backend::Postgres
}

/// How a statement of this backend binds a key set.
pub fn key_set(db: &Db) -> &'static str {
    match db.backend() {
        Backend::Postgres => "= ANY($1)",
        _ => "IN rarray(?1)",
    }
}

/// An async handle on the place `name` (see [`async_config`]), without
/// prepared statements when the test server's URL says so.
pub fn async_db(config: tokio_postgres::Config) -> loader_runtime::AsyncDb {
    let db = loader_runtime::AsyncDb::from_postgres_config(config).unwrap();
    if prepared_statements() {
        db
    } else {
        db.without_prepared_statements()
    }
}
