//! Bad data and schema drift come back as errors that name the entity, the
//! column, the row's key and the SQL; nothing panics.

mod common;

use common::{Post, SCHEMA, User, blog};
use loader_runtime::{Db, Error};

fn db_with(sql: &str) -> Db {
    let db = Db::open_in_memory().unwrap();
    db.execute_batch(SCHEMA).unwrap();
    db.execute_batch(sql).unwrap();
    db
}

#[test]
fn null_in_a_non_option_field() {
    // SQLite lets a NULL into a column declared without NOT NULL elsewhere.
    let db = Db::open_in_memory().unwrap();
    db.sqlite()
        .unwrap()
        .execute_batch(
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
        message.contains("`username`") && message.contains("`User`") && message.contains("key 2"),
        "{message}"
    );
}

#[test]
fn text_in_an_integer_field_of_a_preloaded_child() {
    let db = db_with(
        "INSERT INTO users VALUES (1, 'ada');
         INSERT INTO posts VALUES (7, 1, 'seven', 'title');",
    );
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
}

#[test]
fn missing_table() {
    let db = Db::open_in_memory().unwrap();
    let error = User::all(&db).unwrap_err();
    match &error {
        Error::Query {
            entity,
            sql,
            source,
        } => {
            assert_eq!(*entity, "User");
            assert!(sql.starts_with("SELECT"));
            assert!(source.to_string().contains("no such table"), "{source}");
        }
        other => panic!("expected Error::Query, got {other:?}"),
    }
}

#[test]
fn missing_column_in_a_preload() {
    let db = Db::open_in_memory().unwrap();
    db.sqlite()
        .unwrap()
        .execute_batch(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL);
             CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL);
             INSERT INTO users VALUES (1, 'ada');",
        )
        .unwrap();
    let error = User::query().preload(User::posts()).all(&db).unwrap_err();
    match &error {
        Error::Query { entity, source, .. } => {
            assert_eq!(*entity, "Post");
            assert!(source.to_string().contains("no such column"), "{source}");
        }
        other => panic!("expected Error::Query, got {other:?}"),
    }
}

#[test]
fn dangling_required_foreign_key() {
    let db = db_with(
        "INSERT INTO users VALUES (1, 'ada');
         INSERT INTO posts VALUES (1, 1, NULL, 'fine'), (2, 42, NULL, 'dangling');",
    );
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

#[test]
fn dangling_nullable_foreign_key_reads_as_none() {
    let db = db_with(
        "INSERT INTO users VALUES (1, 'ada');
         INSERT INTO posts VALUES (1, 1, 42, 'edited by nobody we know');",
    );
    let posts = Post::query().preload(Post::editor()).all(&db).unwrap();
    assert!(posts[0].editor().is_none());
    assert_eq!(posts[0].load_editor(&db).unwrap(), None);
}

#[test]
fn null_nullable_foreign_key_is_never_queried() {
    let db = blog(3, 1, 0);
    db.sqlite()
        .unwrap()
        .execute("UPDATE posts SET editor_id = NULL", [])
        .unwrap();
    db.reset_query_log();
    let posts = Post::query().preload(Post::editor()).all(&db).unwrap();
    assert!(posts.iter().all(|post| post.editor().is_none()));
    assert_eq!(db.query_count(), 1, "no key, no query");
    assert_eq!(posts[0].load_editor(&db).unwrap(), None);
    assert_eq!(db.query_count(), 1);
}
