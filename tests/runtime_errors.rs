//! Bad data and schema drift come back as errors that name the entity, the
//! column, the row's key and the SQL; nothing panics.

mod common;

use common::backend::databases;
use common::{Post, SCHEMA, User, blogs};
use loader_runtime::{Db, Error};

/// The blog schema with the rows `sql` inserts, on every backend.
fn dbs_with(sql: &str) -> Vec<Db> {
    let dbs = databases();
    for db in &dbs {
        db.execute_batch(SCHEMA).unwrap();
        db.execute_batch(sql).unwrap();
    }
    dbs
}

#[test]
fn null_in_a_non_option_field() {
    // A column declared without NOT NULL, read into a `String` field.
    for db in databases() {
        db.execute_batch(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT);
             INSERT INTO users VALUES (1, 'ada'), (2, NULL);",
        )
        .unwrap();
        let error = User::all(&db).unwrap_err();
        let Error::Decode {
            entity,
            column,
            key,
            sql,
            ..
        } = &error
        else {
            panic!("expected Error::Decode, got {error:?}");
        };
        assert_eq!(
            (*entity, *column, key.as_deref()),
            ("User", "username", Some("2"))
        );
        assert!(sql.contains("FROM \"users\""));
        let message = error.to_string();
        assert!(
            message.contains("`username`")
                && message.contains("`User`")
                && message.contains("key 2"),
            "{message}"
        );
        // The cause, in the driver's words, is part of the message.
        assert!(message.to_lowercase().contains("null"), "{message}");
    }
}

#[test]
fn text_in_an_integer_field_of_a_preloaded_child() {
    // `editor_id` is an `Option<i64>` field over a text column here.
    for db in databases() {
        db.execute_batch(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL);
         CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL,
                             editor_id TEXT, title TEXT NOT NULL);
         INSERT INTO users VALUES (1, 'ada');
         INSERT INTO posts VALUES (7, 1, 'seven', 'title');",
        )
        .unwrap();
        let error = User::query().preload(User::posts()).all(&db).unwrap_err();
        match &error {
            Error::Decode {
                entity,
                column,
                key,
                ..
            } => assert_eq!(
                (*entity, *column, key.as_deref()),
                ("Post", "editor_id", Some("7"))
            ),
            other => panic!("expected Error::Decode, got {other:?}"),
        }
        // The connection is left as it was (on PostgreSQL the posts went
        // out in the users' wave, with COMMIT): mended, the same load works.
        db.execute_batch("UPDATE posts SET editor_id = NULL")
            .unwrap();
        let users = User::query().preload(User::posts()).all(&db).unwrap();
        assert_eq!(users[0].posts()[0].id, 7);
    }
}

/// A row that cannot be decoded in the first statement of a wave: the
/// error names it, the rest of the wave is still read (on PostgreSQL the
/// users, posts and COMMIT are one pipelined round trip), and the
/// connection serves the next load.
#[test]
fn undecodable_root_with_its_children_in_the_same_wave() {
    for db in databases() {
        db.execute_batch(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT);
             CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL,
                                 editor_id INTEGER, title TEXT NOT NULL);
             INSERT INTO users VALUES (1, 'ada'), (2, NULL), (3, 'alan');
             INSERT INTO posts VALUES (7, 1, NULL, 'seven'), (8, 3, NULL, 'eight');",
        )
        .unwrap();
        let query = User::query().preload(User::posts());
        match query.all(&db).unwrap_err() {
            Error::Decode {
                entity,
                column,
                key,
                ..
            } => assert_eq!(
                (entity, column, key.as_deref()),
                ("User", "username", Some("2"))
            ),
            other => panic!("expected Error::Decode, got {other:?}"),
        }
        db.execute_batch("UPDATE users SET username = 'grace' WHERE id = 2")
            .unwrap();
        let users = query.all(&db).unwrap();
        let posts: Vec<(i64, usize)> = users.iter().map(|u| (u.id, u.posts().len())).collect();
        assert_eq!(posts, [(1, 1), (2, 0), (3, 1)]);
    }
}

#[test]
fn missing_table() {
    for db in databases() {
        let error = User::all(&db).unwrap_err();
        match &error {
            Error::Query {
                entity,
                sql,
                source,
            } => {
                assert_eq!(*entity, "User");
                assert!(sql.starts_with("SELECT"));
                let message = source.to_string();
                assert!(
                    message.contains("no such table") || message.contains("does not exist"),
                    "{message}"
                );
            }
            other => panic!("expected Error::Query, got {other:?}"),
        }
    }
}

#[test]
fn missing_column_in_a_preload() {
    for db in databases() {
        db.execute_batch(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL);
             CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL);
             INSERT INTO users VALUES (1, 'ada');",
        )
        .unwrap();
        let error = User::query().preload(User::posts()).all(&db).unwrap_err();
        match &error {
            Error::Query { entity, source, .. } => {
                assert_eq!(*entity, "Post");
                let message = source.to_string();
                assert!(
                    message.contains("no such column") || message.contains("does not exist"),
                    "{message}"
                );
            }
            other => panic!("expected Error::Query, got {other:?}"),
        }
    }
}

#[test]
fn dangling_required_foreign_key() {
    for db in dbs_with(
        "INSERT INTO users VALUES (1, 'ada');
         INSERT INTO posts VALUES (1, 1, NULL, 'fine'), (2, 42, NULL, 'dangling');",
    ) {
        let posts = Post::all(&db).unwrap();
        assert!(matches!(
            posts[1].load_author(&db),
            Err(Error::MissingRelated { relation: "author", ref key, .. }) if key == "42"
        ));
        let error = Post::query().preload(Post::author()).all(&db).unwrap_err();
        match error {
            Error::MissingRelated {
                entity,
                relation,
                target,
                key,
                ..
            } => assert_eq!(
                (entity, relation, target, key.as_str()),
                ("Post", "author", "User", "42")
            ),
            other => panic!("expected Error::MissingRelated, got {other:?}"),
        }
    }
}

#[test]
fn dangling_nullable_foreign_key_reads_as_none() {
    for db in dbs_with(
        "INSERT INTO users VALUES (1, 'ada');
         INSERT INTO posts VALUES (1, 1, 42, 'edited by nobody we know');",
    ) {
        let posts = Post::query().preload(Post::editor()).all(&db).unwrap();
        assert!(posts[0].editor().is_none());
        assert_eq!(posts[0].load_editor(&db).unwrap(), None);
    }
}

#[test]
fn null_nullable_foreign_key_is_never_queried() {
    for db in blogs(3, 1, 0) {
        db.execute_batch("UPDATE posts SET editor_id = NULL")
            .unwrap();
        db.reset_query_log();
        let posts = Post::query().preload(Post::editor()).all(&db).unwrap();
        assert!(posts.iter().all(|post| post.editor().is_none()));
        assert_eq!(db.query_count(), 1, "no key, no query");
        assert_eq!(posts[0].load_editor(&db).unwrap(), None);
        assert_eq!(db.query_count(), 1);
    }
}

/// PostgreSQL is strict about types where SQLite is not: a key that does
/// not fit the column's type and a column that does not fit the field's
/// are errors naming what did not fit, not panics.
#[test]
fn postgres_type_mismatches_are_errors() {
    let Some(db) = common::backend::postgres() else {
        return;
    };
    db.execute_batch(SCHEMA).unwrap();
    db.execute_batch("INSERT INTO users VALUES (1, 'ada')")
        .unwrap();
    // `users.id` is `int4`: 2^40 cannot be bound to it.
    let error = User::find(&db, &(1 << 40)).unwrap_err();
    assert!(
        matches!(error, Error::Query { entity: "User", .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("out of range"), "{error}");
    // A `text` column read into an `i64` field names both types.
    db.execute_batch("ALTER TABLE users ALTER COLUMN id TYPE text")
        .unwrap();
    let error = User::all(&db).unwrap_err();
    match &error {
        Error::Decode {
            entity,
            column,
            key,
            ..
        } => {
            assert_eq!(
                (*entity, *column, key.as_deref()),
                ("User", "id", Some("'1'"))
            );
            let message = error.to_string();
            assert!(
                message.contains("`text`") && message.contains("i64"),
                "{message}"
            );
        }
        other => panic!("expected Error::Decode, got {other:?}"),
    }
}

/// The raw client and the library share one connection: the user may hold
/// it while the library runs, and its calls inside an async runtime, where
/// waiting would block the runtime's thread, are an `Err` rather than a
/// panic.
#[test]
fn the_raw_postgres_client_shares_the_connection() {
    let Some(db) = common::backend::postgres() else {
        return;
    };
    db.execute_batch(SCHEMA).unwrap();
    let client = db.postgres().unwrap();
    // The library reads the user's uncommitted row: one connection, one
    // transaction (which also keeps a pooler in transaction mode on one
    // server connection for the statement the driver prepares).
    let rolled_back = db.transaction(|db| {
        client.execute(
            "INSERT INTO users (id, username) VALUES ($1, $2)",
            &[&1_i32, &"ada"],
        )?;
        assert_eq!(User::all(db)?.len(), 1);
        let count = client.query_one("SELECT count(*) FROM users", &[])?;
        assert_eq!(count.get::<_, i64>(0), 1);
        let by_id = client.prepare("SELECT username FROM users WHERE id = $1")?;
        let found = client.query_opt(&by_id, &[&1_i32])?;
        assert_eq!(
            found.map(|row| row.get::<_, String>(0)).as_deref(),
            Some("ada")
        );
        assert!(client.query_opt(&by_id, &[&2_i32])?.is_none());
        // The rest of tokio-postgres, waited for on the same connection.
        let rows = client.block_on(client.client().query(&by_id, &[&1_i32]))??;
        assert_eq!(rows.len(), 1);
        Err::<(), _>(Error::Database("roll back".into()))
    });
    assert!(matches!(rolled_back, Err(Error::Database(_))));
    assert!(User::all(&db).unwrap().is_empty());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let error = runtime
        .block_on(async { client.query("SELECT 1", &[]) })
        .unwrap_err();
    assert!(error.to_string().contains("AsyncDb"), "{error}");
}
