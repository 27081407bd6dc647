//! A preloaded graph holds exactly what lazy loading returns, in the same
//! order, for has_many, belongs_to (required and nullable) and nesting: on
//! every backend, with the sync `Db` and the `AsyncDb`.

mod common;

use common::conn::blog_conns as blogs;
use common::{Comment, Post, User};
use loader_runtime::{Entity, Loaded};

fn entities<E: Entity + Clone, P: loader_runtime::PreloadList<E>>(
    loaded: &[Loaded<E, P>],
) -> Vec<E> {
    loaded.iter().map(|l| l.entity().clone()).collect()
}

#[test]
fn has_many_matches_lazy() {
    for db in blogs(20, 3, 0) {
        // One user without posts, to check that empty children stay empty.
        db.sync()
            .execute_batch("INSERT INTO users VALUES (21, 'no posts')")
            .unwrap();
        on!(&db, wait, |db| {
            let users = wait!(User::query().preload(User::posts()).all(db)).unwrap();
            assert_eq!(users.len(), 21);
            for user in &users {
                let lazy = wait!(user.load_posts(db)).unwrap();
                assert_eq!(entities(user.posts()), lazy, "posts of user {}", user.id);
                assert!(lazy.windows(2).all(|w| w[0].id < w[1].id), "ordered by id");
            }
            assert!(users[20].posts().is_empty());
        });
    }
}

#[test]
fn belongs_to_matches_lazy() {
    for db in blogs(7, 3, 0) {
        let query = Post::query()
            .preload(Post::author())
            .preload(Post::editor());
        let (posts, with_editor) = on!(&db, wait, |db| {
            let posts = wait!(query.all(db)).unwrap();
            let mut with_editor = 0;
            for post in &posts {
                assert_eq!(
                    post.author().entity(),
                    &wait!(post.load_author(db)).unwrap()
                );
                let lazy_editor = wait!(post.load_editor(db)).unwrap();
                assert_eq!(post.editor().map(|e| e.entity().clone()), lazy_editor);
                with_editor += usize::from(lazy_editor.is_some());
            }
            (posts, with_editor)
        });
        assert!(
            with_editor > 0 && with_editor < posts.len(),
            "both kinds of rows are covered"
        );
    }
}

#[test]
fn nested_preload_matches_lazy() {
    for db in blogs(6, 3, 2) {
        let query = User::query().preload(
            User::posts()
                .preload(Post::comments())
                .preload(Post::author()),
        );
        on!(&db, wait, |db| {
            let users = wait!(query.all(db)).unwrap();
            assert_eq!(db.query_count(), 4);
            for user in &users {
                let lazy_posts = wait!(user.load_posts(db)).unwrap();
                assert_eq!(entities(user.posts()), lazy_posts);
                for post in user.posts() {
                    assert_eq!(
                        entities(post.comments()),
                        wait!(post.load_comments(db)).unwrap()
                    );
                    assert_eq!(post.author().entity(), user.entity());
                }
            }
        });
    }
}

#[test]
fn find_preloads_one_root() {
    for db in blogs(5, 2, 1) {
        let query = User::query().preload(User::posts().preload(Post::comments()));
        on!(&db, wait, |db| {
            let user = wait!(query.find(db, &3)).unwrap().expect("user 3 exists");
            assert_eq!(user.username, "user 3");
            assert_eq!(entities(user.posts()), wait!(user.load_posts(db)).unwrap());
            assert!(wait!(User::query().find(db, &99)).unwrap().is_none());
        });
    }
}

#[test]
fn orphans_and_null_keys_are_left_out() {
    for db in blogs(2, 1, 1) {
        // A comment whose post does not exist: no post may receive it.
        db.sync()
            .execute_batch("INSERT INTO comments VALUES (100, 999, 'orphan')")
            .unwrap();
        let query = Post::query().preload(Post::comments().preload(Comment::post()));
        let posts = on!(&db, wait, |db| wait!(query.all(db))).unwrap();
        let bodies: Vec<&str> = posts
            .iter()
            .flat_map(|post| post.comments())
            .map(|comment| comment.body.as_str())
            .collect();
        assert_eq!(bodies.len(), 2);
        assert!(!bodies.contains(&"orphan"));
    }
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "tags")]
#[has_many(Tagging, fk = "tag")]
struct Tag {
    #[entity(primary_key)]
    name: String,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "taggings")]
#[belongs_to(Tag, fk = "tag")]
struct Tagging {
    id: i64,
    // `fk = "tag"` on both sides names the column; the field has another name.
    #[entity(column = "tag")]
    tag_name: String,
}

#[test]
fn text_keys_with_quotes_are_bound_not_spliced() {
    let names = ["o'reilly", "1) OR (1=1", "\"quoted\"", "", "ünïcödé"];
    let fill = |db: &loader_runtime::Db| {
        db.execute_batch(
            "CREATE TABLE tags (name TEXT PRIMARY KEY);
             CREATE TABLE taggings (id INTEGER PRIMARY KEY, tag TEXT NOT NULL);",
        )
        .unwrap();
        for (index, name) in names.iter().enumerate() {
            common::backend::execute(db, "INSERT INTO tags VALUES ($1)", &[name]);
            for copy in 0..=index {
                let id = (index * 10 + copy) as i64;
                common::backend::execute(
                    db,
                    "INSERT INTO taggings VALUES (CAST($1 AS BIGINT), $2)",
                    &[&id, name],
                );
            }
        }
    };
    for conn in common::conn::conns(fill) {
        let key_set = common::backend::key_set(conn.sync());
        on!(&conn, wait, |db| {
            let tags = wait!(Tag::query().preload(Tag::taggings()).all(db)).unwrap();
            assert_eq!(tags.len(), names.len());
            for tag in &tags {
                let position = names.iter().position(|n| *n == tag.name).unwrap();
                assert_eq!(
                    tag.taggings().len(),
                    position + 1,
                    "taggings of {:?}",
                    tag.name
                );
                assert_eq!(
                    entities(tag.taggings()),
                    wait!(tag.load_taggings(db)).unwrap()
                );
            }
            let taggings = wait!(Tagging::query().preload(Tagging::tag()).all(db)).unwrap();
            assert!(taggings.iter().all(|t| t.tag().name == t.tag_name));
            // Reached through a belongs_to, the taggings query binds the text
            // keys (in the key form: the table is small, and after the load
            // above a PostgreSQL connection would name them by subquery).
            let query = Tagging::query()
                .preload(Tagging::tag().preload(Tag::taggings()))
                .form(loader_runtime::Form::Keys);
            let taggings = wait!(query.all(db)).unwrap();
            let last = db.query_log().last().unwrap().sql.to_string();
            assert!(last.contains(key_set), "{last}");
            for tagging in &taggings {
                assert!(tagging.tag().taggings().iter().any(|t| t.id == tagging.id));
            }
            let tag = wait!(Tag::find(db, &"o'reilly".to_owned()))
                .unwrap()
                .unwrap();
            assert_eq!(wait!(tag.load_taggings(db)).unwrap().len(), 1);
        });
    }
}
