//! Opening a `Db` on either backend from a URL, pools of them, and what
//! each backend's statements look like in the query log.

mod common;

use common::{Post, SCHEMA, User};
use loader_runtime::pool::DbManager;
use loader_runtime::{Backend, Db, Error, Form};

#[test]
fn sqlite_urls_open_sqlite() {
    for url in ["sqlite::memory:", ":memory:"] {
        let db = Db::connect(url).unwrap();
        assert_eq!(db.backend(), Backend::Sqlite, "{url}");
        assert!(db.sqlite().is_some());
        assert!(db.postgres().is_none());
    }
    let dir = std::env::temp_dir().join(format!("loader-connect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (index, prefix) in ["sqlite://", "sqlite:", ""].iter().enumerate() {
        // A folder named like a key-value pair is still a path.
        let path = dir.join(format!("host=y{index}")).join("db.sqlite");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let db = Db::connect(&format!("{prefix}{}", path.display())).unwrap();
        db.execute_batch(SCHEMA).unwrap();
        assert_eq!(db.backend(), Backend::Sqlite);
        assert!(
            path.exists(),
            "{prefix} creates the file at {}",
            path.display()
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A server that refuses the connection is an `Err` naming the cause, for
/// a URL and for libpq's key-value form (which is not taken for a path).
#[test]
fn an_unreachable_postgres_server_is_an_error() {
    for url in [
        "postgres://postgres@127.0.0.1:1/nothing",
        "host=127.0.0.1 port=1 user=postgres dbname=nothing",
    ] {
        let error = Db::connect(url).unwrap_err();
        assert!(matches!(error, Error::Database(_)), "{url}: {error:?}");
        let message = error.to_string();
        assert!(
            message.contains("connect") || message.contains("refused"),
            "{url}: {message}"
        );
        assert!(
            !std::path::Path::new(url).exists(),
            "no SQLite file made for {url}"
        );
    }
}

#[test]
fn statements_are_written_in_each_backends_dialect() {
    for db in common::blogs(3, 2, 0) {
        let users = User::all(&db).unwrap();
        users[0].load_posts(&db).unwrap();
        let posts = Post::query()
            .preload(Post::author().preload(User::posts()))
            .filter(|p| p.id.le(4))
            .all(&db)
            .unwrap();
        assert_eq!(posts.len(), 4);
        let log: Vec<String> = db.query_log().iter().map(|r| r.sql.to_string()).collect();
        let (one, set) = match db.backend() {
            Backend::Postgres => ("$1", "= ANY($1)"),
            _ => ("?1", "IN rarray(?1)"),
        };
        assert!(log[1].contains(&format!("= {one}")), "lazy: {}", log[1]);
        assert!(log[2].contains(one), "filter: {}", log[2]);
        assert!(log[3].contains(set), "authors: {}", log[3]);
        assert!(log[4].contains(set), "their posts: {}", log[4]);
        let other = if one == "$1" { "?1" } else { "$1" };
        assert!(log.iter().all(|sql| !sql.contains(other)), "{log:?}");
    }
}

/// r2d2 pools of PostgreSQL `Db`s: each new connection runs the setup, and
/// the pooled `Db`s preload like any other.
#[test]
fn postgres_pool() {
    let Some(db) = common::backend::postgres() else {
        return;
    };
    common::fill_blog(&db, 5, 2, 0);
    let schema = common::backend::current_schema();
    let mut manager = DbManager::postgres(&common::backend::url_for(&schema)).unwrap();
    if !common::backend::pooled() {
        manager = manager.with_setup(format!("SET search_path TO \"{schema}\""));
    }
    let pool = r2d2::Pool::builder().max_size(3).build(manager).unwrap();
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let pool = pool.clone();
            std::thread::spawn(move || {
                let db = pool.get().unwrap();
                assert_eq!(db.backend(), Backend::Postgres);
                let users = User::query().preload(User::posts()).all(&db).unwrap();
                users.iter().map(|u| u.posts().len()).sum::<usize>()
            })
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.join().unwrap(), 10);
    }
    assert!(DbManager::postgres("postgres://[bad").is_err());
}

/// The prepared statements of `db`'s session and how often each ran as a
/// kept statement (the query about them left out).
fn kept_statements(db: &Db) -> Vec<(String, i64)> {
    db.postgres()
        .unwrap()
        .query(
            "SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| (row.get::<_, String>(0), row.get::<_, i64>(1)))
        .filter(|(sql, _)| !sql.contains("pg_prepared_statements"))
        .collect()
}

/// On PostgreSQL every statement text is prepared once per connection. One
/// that binds more than 1,000 keys then runs unnamed, with the parameter
/// types of that prepared twin, so each run is planned for the keys it gets
/// and never with a generic plan (the twin never executes); a page of keys
/// runs the kept statement, which saves planning it again.
#[test]
fn postgres_runs_large_key_set_statements_unnamed() {
    if !common::backend::prepared_statements() {
        eprintln!("skipped: the test server's URL turns prepared statements off");
        return;
    }
    let Some(db) = common::backend::postgres() else {
        return;
    };
    // 1,100 users with one post each, the post's id its author's.
    common::fill_blog(&db, 1_100, 1, 0);
    // By key, which a page would not learn to be (it would name its
    // owners by subquery once its count is known).
    let load = |db: &Db, posts: i64| {
        let loaded = Post::query()
            .filter(|p| p.id.le(posts))
            .preload(Post::author().preload(User::posts()))
            .form(Form::Keys)
            .all(db)
            .unwrap();
        assert_eq!(loaded.len() as i64, posts);
        assert!(loaded.iter().all(|p| p.author().posts()[0].id == p.id));
    };

    // A page: 20 authors' keys, twice over (authors, then their posts).
    for _ in 0..7 {
        load(&db, 20);
        User::all(&db).unwrap()[0].load_posts(&db).unwrap();
    }
    let kept = kept_statements(&db);
    let key_sets: Vec<_> = kept
        .iter()
        .filter(|(sql, _)| sql.contains("ANY($1)"))
        .collect();
    assert_eq!(
        key_sets.len(),
        2,
        "each key-set statement is prepared once: {kept:?}"
    );
    assert!(
        key_sets.iter().all(|(_, runs)| *runs == 7),
        "a page of keys runs the kept statement: {kept:?}"
    );
    let others: Vec<&String> = kept
        .iter()
        .map(|(sql, _)| sql)
        .filter(|sql| !sql.contains("ANY($1)"))
        .collect();
    assert_eq!(
        others
            .iter()
            .filter(|sql| sql.contains("\"posts\".\"author_id\" = $1"))
            .count(),
        1,
        "the lazy statement is prepared once: {kept:?}"
    );
    assert_eq!(
        others.len(),
        3,
        "filtered root, every user, lazy posts: {kept:?}"
    );

    // 1,100 keys, on a session of its own: planned for each run.
    let large = common::backend::postgres_session(&common::backend::current_schema());
    for _ in 0..7 {
        load(&large, 1_100);
    }
    let kept = kept_statements(&large);
    let key_sets: Vec<_> = kept
        .iter()
        .filter(|(sql, _)| sql.contains("ANY($1)"))
        .collect();
    assert_eq!(key_sets.len(), 2, "{kept:?}");
    assert!(
        key_sets.iter().all(|(_, runs)| *runs == 0),
        "no key set of more than 1,000 keys ran as a kept statement: {kept:?}"
    );
}

/// A statement naming its owners by a subquery runs kept when the subquery
/// has no values (every post: one plan whatever the run), and unnamed,
/// planned for each run, when it has some (a page's `LIMIT $1` decides how
/// many owners it names).
#[test]
fn postgres_keeps_subqueries_without_values() {
    if !common::backend::prepared_statements() {
        eprintln!("skipped: the test server's URL turns prepared statements off");
        return;
    }
    let Some(db) = common::backend::postgres() else {
        return;
    };
    common::fill_blog(&db, 30, 2, 0);
    for _ in 0..7 {
        let every = Post::query()
            .preload(Post::author())
            .form(loader_runtime::Form::Subquery)
            .all(&db)
            .unwrap();
        assert!(every.iter().all(|p| p.author().id == p.author_id));
        let page = Post::query()
            .limit(20)
            .preload(Post::author())
            .all(&db)
            .unwrap();
        assert_eq!(page.len(), 20);
        assert!(page.iter().all(|p| p.author().id == p.author_id));
    }
    let kept = kept_statements(&db);
    let runs = |limited: bool| -> Vec<i64> {
        kept.iter()
            .filter(|(sql, _)| sql.contains("ANY(ARRAY(SELECT") && sql.contains("LIMIT") == limited)
            .map(|(_, runs)| *runs)
            .collect()
    };
    assert_eq!(runs(false), [7], "every post's authors, kept: {kept:?}");
    assert_eq!(
        runs(true),
        [0],
        "a page's authors, planned per run: {kept:?}"
    );
}

/// A PostgreSQL connection killed by the server: the next statement is an
/// `Err`, not a panic, and the `Db` then reports itself closed (which is
/// how a pool drops it).
#[test]
fn a_killed_postgres_connection_is_an_error_and_closed() {
    if common::backend::pooled() {
        // The pooler keeps the client's connection when the server kills
        // its own: the statement fails, the connection stays open.
        eprintln!("skipped through a pooler: the server's connection is not the client's");
        return;
    }
    let Some(db) = common::backend::postgres() else {
        return;
    };
    common::fill_blog(&db, 2, 1, 0);
    assert!(!db.is_closed());
    let pid: i32 = db
        .postgres()
        .unwrap()
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    let other = common::backend::postgres_session(&common::backend::current_schema());
    other
        .execute_batch(&format!("SELECT pg_terminate_backend({pid})"))
        .unwrap();
    let error = User::query().preload(User::posts()).all(&db).unwrap_err();
    assert!(
        matches!(error, Error::Database(_) | Error::Query { .. }),
        "{error:?}"
    );
    assert!(db.is_closed(), "after {error}");
    assert!(!Db::open_in_memory().unwrap().is_closed());
}
