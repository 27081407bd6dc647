//! Preloading onto entities the program holds (from raw SQL, or changed
//! since they were read): the same graph as a query's preload, one
//! statement per relation, keys held twice loaded once, rows deleted since
//! still get their relations; on both APIs and both databases.

mod common;

use common::conn::blog_conns;
use common::{Comment, Post, User};
use loader_runtime::onto;

/// The posts `ids`, read with raw SQL rather than through the library.
fn raw_posts(db: &loader_runtime::Db, ids: &str) -> Vec<Post> {
    common::backend::integer_rows(
        db,
        &format!("SELECT id, author_id, editor_id FROM posts WHERE id IN ({ids}) ORDER BY id DESC"),
    )
    .into_iter()
    .map(|row| Post {
        id: row[0].unwrap(),
        author_id: row[1].unwrap(),
        editor_id: row[2],
        title: format!("post {}", row[0].unwrap()),
    })
    .collect()
}

#[test]
fn preloading_onto_raw_rows_equals_the_query_preload() {
    for conn in blog_conns(6, 3, 2) {
        let name = conn.name();
        let held = raw_posts(conn.sync(), "2, 5, 7, 11, 13");
        assert_eq!(held.len(), 5);
        let (loaded, expected) = on!(&conn, wait, |db| {
            db.reset_query_log();
            let loaded = wait!(
                onto(held.clone())
                    .preload(Post::author().preload(User::posts()))
                    .preload(Post::editor())
                    .preload(Post::comments().preload(Comment::post()))
                    .all(db)
            )
            .unwrap();
            assert_eq!(db.query_count(), 5, "{name}: one statement per relation");
            let query = Post::query()
                .filter(|p| p.id.is_in([2, 5, 7, 11, 13]))
                .order_by(|p| p.id.desc())
                .preload(Post::author().preload(User::posts()))
                .preload(Post::editor())
                .preload(Post::comments().preload(Comment::post()));
            (loaded, wait!(query.all(db)).unwrap())
        });
        assert_eq!(format!("{loaded:?}"), format!("{expected:?}"), "{name}");
        assert!(loaded.iter().all(|p| p.comments().len() == 2), "{name}");
    }
}

#[test]
fn keys_held_twice_are_loaded_once_and_keep_their_fields() {
    for conn in blog_conns(3, 2, 1) {
        let name = conn.name();
        let mut first = raw_posts(conn.sync(), "1");
        let mut again = first[0].clone();
        again.title = "changed in memory".to_owned();
        first.push(again);
        first.extend(raw_posts(conn.sync(), "2"));
        let loaded = on!(&conn, wait, |db| {
            db.reset_query_log();
            let loaded = wait!(onto(first.clone()).preload(Post::comments()).all(db)).unwrap();
            assert_eq!(db.query_count(), 1, "{name}");
            assert_eq!(db.query_log()[0].bound_values, 2, "{name}: each key once");
            loaded
        });
        assert_eq!(loaded.len(), 3);
        assert_eq!(loaded[0].title, "post 1");
        assert_eq!(
            loaded[1].title, "changed in memory",
            "{name}: its own fields"
        );
        assert_eq!(loaded[0].comments().len(), 1);
        assert_eq!(
            format!("{:?}", loaded[0].comments()),
            format!("{:?}", loaded[1].comments()),
            "{name}: the same comments for the same key"
        );
        assert_eq!(loaded[2].id, 2);
    }
}

#[test]
fn rows_deleted_since_still_get_their_relations() {
    for conn in blog_conns(2, 1, 1) {
        let name = conn.name();
        let users: Vec<User> = on!(&conn, wait, |db| wait!(User::all(db))).unwrap();
        conn.sync()
            .execute_batch("DELETE FROM users WHERE id = 1")
            .unwrap();
        let loaded = on!(&conn, wait, |db| {
            wait!(
                onto(users.clone())
                    .preload(User::posts().preload(Post::comments()))
                    .all(db)
            )
        })
        .unwrap();
        assert_eq!(loaded.len(), 2, "{name}");
        assert_eq!(loaded[0].id, 1);
        assert_eq!(
            loaded[0].posts().len(),
            1,
            "{name}: its posts are still there"
        );
        assert_eq!(loaded[0].posts()[0].comments().len(), 1);
        // Nothing held: no statement at all.
        let empty = on!(&conn, wait, |db| {
            db.reset_query_log();
            let empty = wait!(onto(Vec::<User>::new()).preload(User::posts()).all(db)).unwrap();
            assert_eq!(db.query_count(), 0, "{name}");
            empty
        });
        assert!(empty.is_empty());
    }
}

/// Values already loaded gain relations and keep theirs: one statement for
/// the new relation only, the held graph unchanged.
#[test]
fn loaded_values_gain_relations_and_keep_theirs() {
    for conn in blog_conns(4, 2, 3) {
        let name = conn.name();
        let (before, after) = on!(&conn, wait, |db| {
            let posts = wait!(Post::query().preload(Post::author()).all(db)).unwrap();
            let before = format!("{:?}", posts.iter().map(|p| p.author()).collect::<Vec<_>>());
            db.reset_query_log();
            let posts = wait!(
                onto(posts)
                    .preload(Post::comments().count())
                    .preload(Post::editor())
                    .all(db)
            )
            .unwrap();
            assert_eq!(db.query_count(), 2, "{name}: the new relations only");
            assert!(posts.iter().all(|p| p.comments_count() == 3), "{name}");
            let with_editor = posts.iter().filter(|p| p.editor().is_some()).count();
            assert!(with_editor > 0 && with_editor < posts.len(), "{name}");
            let after = format!("{:?}", posts.iter().map(|p| p.author()).collect::<Vec<_>>());
            (before, after)
        });
        assert_eq!(after, before, "{name}: the authors held are kept");
    }
}
