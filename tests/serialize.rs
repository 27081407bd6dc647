//! Preloaded graphs serialize as the entity's own fields (with its serde
//! attributes) plus one entry per preloaded relation, named as the
//! relation: checked field by field with serde_json, on every backend.

#![allow(clippy::duplicated_attributes)]

mod common;

use loader_runtime::{Entity, Loaded};
use serde::Serialize;
use serde_json::{Value, json};

#[derive(Entity, Serialize, Debug)]
#[entity(table = "users")]
#[has_many(Post, fk = "author_id")]
struct User {
    id: i64,
    #[serde(rename = "name")]
    username: String,
}

#[derive(Entity, Serialize, Debug)]
#[entity(table = "posts")]
#[serde(rename_all = "camelCase")]
#[belongs_to(User, fk = "author_id", name = "author")]
#[belongs_to(User, fk = "editor_id", name = "editor")]
#[has_many(Comment, fk = "post_id")]
#[many_to_many(Tag, through = "post_tags", fk = "post_id", target_fk = "tag_id")]
struct Post {
    id: i64,
    #[serde(skip)]
    author_id: i64,
    editor_id: Option<i64>,
    post_title: String,
}

#[derive(Entity, Serialize, Debug)]
#[entity(table = "comments")]
struct Comment {
    id: i64,
    #[serde(skip)]
    post_id: i64,
    body: String,
}

#[derive(Entity, Serialize, Debug)]
#[entity(table = "tags")]
struct Tag {
    id: i64,
    label: String,
}

fn fill(db: &loader_runtime::Db) {
    db.execute_batch(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL);
         CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL, editor_id INTEGER,
                             post_title TEXT NOT NULL);
         CREATE TABLE comments (id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL, body TEXT NOT NULL);
         CREATE TABLE tags (id INTEGER PRIMARY KEY, label TEXT NOT NULL);
         CREATE TABLE post_tags (post_id INTEGER NOT NULL, tag_id INTEGER NOT NULL);
         INSERT INTO users VALUES (1, 'ada'), (2, 'grace'), (3, 'linus');
         INSERT INTO posts VALUES (10, 1, 2, 'Notes'), (11, 1, NULL, 'Sketch'), (12, 2, NULL, 'A-0');
         INSERT INTO comments VALUES (100, 10, 'Visionary.'), (101, 10, 'Still relevant.'), (102, 12, 'First!');
         INSERT INTO tags VALUES (1, 'math'), (2, 'compilers');
         INSERT INTO post_tags VALUES (10, 1), (12, 2), (12, 1);",
    )
    .unwrap();
}

#[test]
fn a_nested_preload_serializes_field_by_field() {
    for conn in common::conn::conns(fill) {
        let query = User::query()
            .preload(
                User::posts()
                    .preload(Post::comments())
                    .preload(Post::author())
                    .preload(Post::editor())
                    .preload(Post::tags())
                    .preload(Post::comments().count()),
            )
            .preload(User::posts().count());
        let users = on!(&conn, wait, |db| wait!(query.all(db))).unwrap();
        let json = serde_json::to_value(&users).unwrap();
        let name = conn.name();
        let ada = &json[0];
        // The entity's fields as its serde attributes say, then the relations.
        assert_eq!(ada["id"], 1, "{name}");
        assert_eq!(ada["name"], "ada", "{name}: rename");
        assert!(ada.get("username").is_none(), "{name}");
        assert_eq!(ada["posts_count"], 2, "{name}");
        let notes = &ada["posts"][0];
        // The order, exactly: the entity's fields (rename_all, skip), then
        // the relations in the order they were preloaded.
        assert_eq!(
            serde_json::to_string(&users[0].posts()[0]).unwrap(),
            concat!(
                r#"{"id":10,"editorId":2,"postTitle":"Notes","#,
                r#""comments":[{"id":100,"body":"Visionary."},{"id":101,"body":"Still relevant."}],"#,
                r#""author":{"id":1,"name":"ada"},"editor":{"id":2,"name":"grace"},"#,
                r#""tags":[{"id":1,"label":"math"}],"comments_count":2}"#
            ),
            "{name}"
        );
        assert_eq!(notes["postTitle"], "Notes");
        assert_eq!(
            notes["comments"],
            json!([{"id": 100, "body": "Visionary."}, {"id": 101, "body": "Still relevant."}])
        );
        assert_eq!(notes["comments_count"], 2);
        assert_eq!(notes["author"], json!({"id": 1, "name": "ada"}));
        assert_eq!(notes["editor"], json!({"id": 2, "name": "grace"}));
        assert_eq!(notes["tags"], json!([{"id": 1, "label": "math"}]));
        let sketch = &ada["posts"][1];
        assert_eq!(sketch["editor"], Value::Null, "{name}: a NULL key is null");
        assert_eq!(sketch["comments"], json!([]));
        assert_eq!(sketch["tags"], json!([]));
        assert_eq!(
            json[1]["posts"][0]["tags"],
            json!([{"id": 1, "label": "math"}, {"id": 2, "label": "compilers"}]),
            "{name}: many_to_many in key order"
        );
        assert_eq!(json[2]["posts"], json!([]), "{name}: no posts");
        assert_eq!(json[2]["posts_count"], 0);
        // One value serializes the same as inside a list.
        let one: &Loaded<User, _> = &users[1];
        assert_eq!(serde_json::to_value(one).unwrap(), json[1]);
    }
}

/// An entity that does not serialize as a struct cannot be flattened into
/// its loaded value's object: an error from the serializer, not a panic.
#[test]
fn an_entity_that_is_not_a_struct_is_a_serializer_error() {
    #[derive(Entity)]
    #[entity(table = "notes")]
    struct Note {
        id: i64,
    }
    impl Serialize for Note {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_i64(self.id)
        }
    }
    let db = loader_runtime::Db::open_in_memory().unwrap();
    db.execute_batch("CREATE TABLE notes (id INTEGER PRIMARY KEY); INSERT INTO notes VALUES (1)")
        .unwrap();
    let notes = Note::query().all(&db).unwrap();
    let error = serde_json::to_string(&notes).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("must serialize as a struct or a map"),
        "{error}"
    );
}
