//! Polymorphic relations: a comment on a post or on a photo, named by a
//! type column and an id column. Preloading runs one statement per target
//! type present among the comments (none for the others), each target's
//! own relations preload below it, the value is an enum the compiler
//! checks, lazy loads agree, NULL and dangling keys give `None`, and an
//! unknown type value is `Error::UnknownType` naming the entity, column and
//! value; on both databases and both APIs, by key set and by subquery.

mod common;

use common::backend::{integer_rows, name};
use common::conn::conns;
use common::filters::{FilterCase, check_filter, ids_of};
use loader_runtime::{Db, Entity, Error, Form};

#[derive(Entity, Debug, Clone, PartialEq, serde::Serialize)]
#[entity(table = "users")]
#[has_many(Post, fk = "author_id")]
#[has_many(Comment, through = "posts", source = "comments")]
struct User {
    id: i64,
    name: String,
}

#[derive(Entity, Debug, Clone, PartialEq, serde::Serialize)]
#[entity(table = "posts")]
#[belongs_to(User, fk = "author_id", name = "author")]
#[has_many(Comment, as = "commentable")]
struct Post {
    id: i64,
    author_id: i64,
    title: String,
}

#[derive(Entity, Debug, Clone, PartialEq, serde::Serialize)]
#[entity(table = "albums")]
struct Album {
    id: i64,
    name: String,
}

#[derive(Entity, Debug, Clone, PartialEq, serde::Serialize)]
#[entity(table = "photos")]
#[belongs_to(Album, fk = "album_id")]
#[has_many(Comment, as = "commentable")]
#[has_one(Comment, as = "commentable", name = "first_comment")]
struct Photo {
    id: i64,
    album_id: i64,
    url: String,
}

#[derive(Entity, Debug, Clone, PartialEq, serde::Serialize)]
#[entity(table = "comments")]
#[polymorphic(
    Post = "post",
    Photo = "photo",
    fk = "commentable_id",
    type_column = "commentable_type",
    name = "commentable"
)]
struct Comment {
    id: i64,
    commentable_type: Option<String>,
    commentable_id: Option<i64>,
    body: String,
}

/// Comments on posts and photos with equal ids (post 1 and photo 1), a
/// NULL type, a NULL id, a dangling post id; comments 1–8 hold known types.
fn fill(db: &Db) {
    db.execute_batch(
        "CREATE TABLE users (id BIGINT PRIMARY KEY, name TEXT NOT NULL);
         CREATE TABLE posts (id BIGINT PRIMARY KEY, author_id BIGINT NOT NULL, title TEXT NOT NULL);
         CREATE TABLE albums (id BIGINT PRIMARY KEY, name TEXT NOT NULL);
         CREATE TABLE photos (id BIGINT PRIMARY KEY, album_id BIGINT NOT NULL, url TEXT NOT NULL);
         CREATE TABLE comments (id BIGINT PRIMARY KEY, commentable_type TEXT, commentable_id BIGINT,
                                body TEXT NOT NULL);
         INSERT INTO users VALUES (1, 'ada'), (2, 'grace');
         INSERT INTO posts VALUES (1, 1, 'Notes'), (2, 2, 'Compilers'), (3, 1, 'Engines');
         INSERT INTO albums VALUES (1, 'holidays'), (2, 'work');
         INSERT INTO photos VALUES (1, 2, 'a.png'), (2, 1, 'b.png');
         INSERT INTO comments VALUES (1, 'post', 1, 'on post 1'), (2, 'photo', 1, 'on photo 1'),
           (3, 'post', 2, 'on post 2'), (4, 'photo', 2, 'on photo 2'), (5, NULL, NULL, 'on nothing'),
           (6, 'post', 99, 'on a deleted post'), (7, 'post', NULL, 'no id'), (8, 'post', 1, 'again');",
    )
    .unwrap();
}

/// What each comment points at, by hand: `(comment, 'post' or 'photo', id)`.
fn expected(db: &Db, only: &str) -> Vec<(i64, Option<(&'static str, i64)>)> {
    integer_rows(
        db,
        &format!(
            "SELECT c.id, p.id, ph.id FROM comments c
             LEFT JOIN posts p ON c.commentable_type = 'post' AND p.id = c.commentable_id
             LEFT JOIN photos ph ON c.commentable_type = 'photo' AND ph.id = c.commentable_id
             WHERE {only} ORDER BY c.id"
        ),
    )
    .into_iter()
    .map(|row| {
        let target = match (row[1], row[2]) {
            (Some(post), _) => Some(("post", post)),
            (_, Some(photo)) => Some(("photo", photo)),
            _ => None,
        };
        (row[0].unwrap(), target)
    })
    .collect()
}

fn describe(target: Option<CommentCommentable<&Post, &Photo>>) -> Option<(&'static str, i64)> {
    match target {
        Some(CommentCommentable::Post(post)) => Some(("post", post.id)),
        Some(CommentCommentable::Photo(photo)) => Some(("photo", photo.id)),
        None => None,
    }
}

#[test]
fn one_statement_per_target_type_present() {
    for conn in conns(fill) {
        let place = format!("{} {}", name(conn.sync()), conn.name());
        for (only, types_present) in [
            ("c.id <= 8", 2),
            ("c.commentable_type = 'photo'", 1),
            ("c.id = 5", 0),
        ] {
            let want = expected(conn.sync(), only);
            let filter = |c: &<Comment as Entity>::Columns| match only {
                "c.id <= 8" => c.id.le(8),
                "c.id = 5" => c.id.eq(5),
                _ => c.commentable_type.eq("photo"),
            };
            let (got, statements) = on!(&conn, wait, |db| {
                db.reset_query_log();
                let comments = wait!(
                    Comment::query()
                        .filter(filter)
                        .preload(Comment::commentable())
                        .form(Form::Keys)
                        .all(db)
                )
                .unwrap();
                let got: Vec<_> = comments
                    .iter()
                    .map(|c| {
                        let target = c.commentable().map(|t| match t {
                            CommentCommentable::Post(p) => CommentCommentable::Post(p.entity()),
                            CommentCommentable::Photo(p) => CommentCommentable::Photo(p.entity()),
                        });
                        (c.id, describe(target))
                    })
                    .collect();
                (got, db.query_count())
            });
            assert_eq!(got, want, "{place}: {only}");
            assert_eq!(
                statements,
                1 + types_present,
                "{place}: {only}: one per type present"
            );
        }
        // The targets are the right rows, not only the right ids.
        on!(&conn, wait, |db| {
            let comments = wait!(
                Comment::query()
                    .filter(|c| c.id.le(4))
                    .preload(Comment::commentable())
                    .all(db)
            )
            .unwrap();
            match comments[1].commentable() {
                Some(CommentCommentable::Photo(photo)) => assert_eq!(photo.url, "a.png", "{place}"),
                other => panic!("{place}: comment 2 is on photo 1, got {other:?}"),
            }
            match comments[0].commentable() {
                Some(CommentCommentable::Post(post)) => assert_eq!(post.title, "Notes", "{place}"),
                other => panic!("{place}: comment 1 is on post 1, got {other:?}"),
            }
        });
    }
}

#[test]
fn each_target_preloads_its_own_relations() {
    for conn in conns(fill) {
        let place = format!("{} {}", name(conn.sync()), conn.name());
        for form in [Form::Keys, Form::Subquery] {
            let (pairs, statements) = on!(&conn, wait, |db| {
                db.reset_query_log();
                let comments = wait!(
                    Comment::query()
                        .filter(|c| c.id.le(8))
                        .preload(
                            Comment::commentable()
                                .preload(Post::author())
                                .preload(Photo::album()),
                        )
                        .form(form)
                        .all(db)
                )
                .unwrap();
                let pairs: Vec<(i64, String)> = comments
                    .iter()
                    .map(|c| {
                        let owner = match c.commentable() {
                            Some(CommentCommentable::Post(post)) => post.author().name.clone(),
                            Some(CommentCommentable::Photo(photo)) => photo.album().name.clone(),
                            None => String::new(),
                        };
                        (c.id, owner)
                    })
                    .collect();
                (pairs, db.query_count())
            });
            let want: Vec<(i64, String)> = vec![
                (1, "ada".into()),
                (2, "work".into()),
                (3, "grace".into()),
                (4, "holidays".into()),
                (5, String::new()),
                (6, String::new()),
                (7, String::new()),
                (8, "ada".into()),
            ];
            assert_eq!(pairs, want, "{place} {form:?}");
            // comments; posts, their authors; photos, their albums.
            assert_eq!(statements, 5, "{place} {form:?}");
        }
    }
}

#[test]
fn lazy_loads_equal_the_preload() {
    for conn in conns(fill) {
        let place = format!("{} {}", name(conn.sync()), conn.name());
        on!(&conn, wait, |db| {
            let comments = wait!(
                Comment::query()
                    .filter(|c| c.id.le(8))
                    .preload(Comment::commentable())
                    .all(db)
            )
            .unwrap();
            for comment in &comments {
                db.reset_query_log();
                let lazy = wait!(comment.load_commentable(db)).unwrap();
                let preloaded = comment.commentable().map(|t| match t {
                    CommentCommentable::Post(p) => CommentCommentable::Post(p.entity().clone()),
                    CommentCommentable::Photo(p) => CommentCommentable::Photo(p.entity().clone()),
                });
                assert_eq!(lazy, preloaded, "{place}: comment {}", comment.id);
                let queried =
                    comment.commentable_type.is_some() && comment.commentable_id.is_some();
                assert_eq!(
                    db.query_count(),
                    usize::from(queried),
                    "{place}: comment {}",
                    comment.id
                );
            }
        });
    }
}

#[test]
fn an_unknown_type_value_is_an_error_naming_it() {
    for conn in conns(|db| {
        fill(db);
        db.execute_batch("INSERT INTO comments VALUES (9, 'video', 1, 'on a video')")
            .unwrap();
    }) {
        let place = format!("{} {}", name(conn.sync()), conn.name());
        on!(&conn, wait, |db| {
            let error =
                wait!(Comment::query().preload(Comment::commentable()).all(db)).unwrap_err();
            match &error {
                Error::UnknownType {
                    entity,
                    relation,
                    column,
                    value,
                    key,
                    expected,
                } => {
                    assert_eq!(
                        (*entity, *relation, *column, value.as_str(), key.as_deref()),
                        (
                            "Comment",
                            "commentable",
                            "commentable_type",
                            "video",
                            Some("9")
                        ),
                        "{place}"
                    );
                    assert_eq!(expected, "`post`, `photo`", "{place}");
                }
                other => panic!("{place}: {other:?}"),
            }
            assert!(error.to_string().contains("`video`"), "{place}: {error}");
            // Without the preload the rows read fine; the lazy load says the same.
            let comments = wait!(Comment::query().filter(|c| c.id.eq(9)).all(db)).unwrap();
            let lazy = wait!(comments[0].load_commentable(db)).unwrap_err();
            assert!(
                matches!(lazy, Error::UnknownType { .. }),
                "{place}: {lazy:?}"
            );
        });
    }
}

/// The other side: a post's comments are the comments whose type is
/// `post` and whose id is the post's (a photo's comment with the same id
/// is not one), preloaded, counted, filtered, lazily loaded and gone
/// through, each equal to hand-written SQL.
#[test]
fn the_inverse_reads_only_its_own_type() {
    for conn in conns(fill) {
        let place = format!("{} {}", name(conn.sync()), conn.name());
        let db = conn.sync();
        let by_owner = |sql: &str| -> Vec<(i64, Vec<i64>)> {
            let mut map = std::collections::BTreeMap::<i64, Vec<i64>>::new();
            for row in integer_rows(db, sql) {
                let entry = map.entry(row[0].unwrap()).or_default();
                if let Some(id) = row[1] {
                    entry.push(id);
                }
            }
            map.into_iter().collect()
        };
        let want_posts = by_owner(
            "SELECT p.id, c.id FROM posts p LEFT JOIN comments c
               ON c.commentable_type = 'post' AND c.commentable_id = p.id ORDER BY p.id, c.id",
        );
        let want_photos = by_owner(
            "SELECT p.id, c.id FROM photos p LEFT JOIN comments c
               ON c.commentable_type = 'photo' AND c.commentable_id = p.id ORDER BY p.id, c.id",
        );
        let want_users = by_owner(
            "SELECT u.id, c.id FROM users u LEFT JOIN posts p ON p.author_id = u.id
               LEFT JOIN comments c ON c.commentable_type = 'post' AND c.commentable_id = p.id ORDER BY u.id, c.id",
        );
        assert_eq!(want_posts[0], (1, vec![1, 8]), "{place}");
        let (posts, photos, users, counts, first, statements) = on!(&conn, wait, |db| {
            db.reset_query_log();
            let posts = wait!(
                Post::query()
                    .preload(Post::comments())
                    .preload(Post::comments().filter(|c| c.body.like("on%")).count())
                    .all(db)
            )
            .unwrap();
            let photos = wait!(
                Photo::query()
                    .preload(Photo::comments())
                    .preload(Photo::first_comment())
                    .all(db)
            )
            .unwrap();
            let users = wait!(User::query().preload(User::comments()).all(db)).unwrap();
            let statements = db.query_count();
            for post in &posts {
                let lazy: Vec<i64> = wait!(post.load_comments(db))
                    .unwrap()
                    .iter()
                    .map(|c| c.id)
                    .collect();
                assert_eq!(
                    lazy,
                    post.comments().iter().map(|c| c.id).collect::<Vec<_>>(),
                    "{place}"
                );
            }
            (
                posts
                    .iter()
                    .map(|p| (p.id, p.comments().iter().map(|c| c.id).collect()))
                    .collect::<Vec<(i64, Vec<i64>)>>(),
                photos
                    .iter()
                    .map(|p| (p.id, p.comments().iter().map(|c| c.id).collect()))
                    .collect::<Vec<(i64, Vec<i64>)>>(),
                users
                    .iter()
                    .map(|u| (u.id, u.comments().iter().map(|c| c.id).collect()))
                    .collect::<Vec<(i64, Vec<i64>)>>(),
                posts.iter().map(|p| p.comments_count()).collect::<Vec<_>>(),
                photos
                    .iter()
                    .map(|p| p.first_comment().map(|c| c.id))
                    .collect::<Vec<_>>(),
                statements,
            )
        });
        assert_eq!(posts, want_posts, "{place}: a post's comments");
        assert_eq!(photos, want_photos, "{place}: a photo's comments");
        assert_eq!(
            users, want_users,
            "{place}: through posts to their comments"
        );
        assert_eq!(
            counts,
            [1, 1, 0],
            "{place}: a filtered count ('again' does not match)"
        );
        assert_eq!(first, [Some(2), Some(4)], "{place}");
        assert_eq!(statements, 3 + 3 + 2, "{place}");
        // Relation filters: posts with a comment, photos without one.
        let (commented, uncommented) = on!(&conn, wait, |db| {
            let commented = wait!(Post::query().filter(|p| p.comments().exists()).all(db)).unwrap();
            let uncommented = wait!(
                Photo::query()
                    .filter(|p| p.comments().none(|c| c.body.eq("on photo 1")))
                    .all(db)
            )
            .unwrap();
            (
                commented.iter().map(|p| p.id).collect::<Vec<_>>(),
                uncommented.iter().map(|p| p.id).collect::<Vec<_>>(),
            )
        });
        assert_eq!(commented, [1, 2], "{place}");
        assert_eq!(uncommented, [2], "{place}");
    }
}

/// Serialized, the target is an object under the relation's name (`null`
/// for none), the row's type column saying which entity it is.
#[test]
fn serializes_the_target_under_the_relation_name() {
    let db = Db::open_in_memory().unwrap();
    fill(&db);
    let comments = Comment::query()
        .filter(|c| c.id.le(5))
        .preload(Comment::commentable().preload(Post::author()))
        .all(&db)
        .unwrap();
    let json = serde_json::to_value(&comments).unwrap();
    assert_eq!(json[0]["commentable"]["title"], "Notes");
    assert_eq!(json[0]["commentable"]["author"]["name"], "ada");
    assert_eq!(json[1]["commentable_type"], "photo");
    assert_eq!(json[1]["commentable"]["url"], "a.png");
    assert!(json[4]["commentable"].is_null());
}

/// Filtering by the polymorphic target: `c.commentable().post().is(...)`
/// is one `EXISTS` over posts that also checks the type column, so a
/// photo with a post's id does not match; combined with `or`, negated, and
/// nested inside a filter through the inverse (where `comments` is an
/// aliased subquery table), each equal to hand-written SQL.
#[test]
fn filters_by_the_target_of_each_type() {
    type Case = (
        &'static str,
        fn() -> loader_runtime::Expr<Comment>,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            "on a post titled Notes",
            || Comment::columns().commentable().post().is(|p| p.title.eq("Notes")),
            "SELECT c.id FROM comments c WHERE EXISTS (SELECT 1 FROM posts p WHERE p.id = c.commentable_id
               AND c.commentable_type = 'post' AND p.title = 'Notes') ORDER BY c.id",
        ),
        (
            "on an existing photo, or on a post by grace",
            || {
                let c = Comment::columns();
                c.commentable()
                    .photo()
                    .exists()
                    .or(c.commentable().post().is(|p| p.author().is(|u| u.name.eq("grace"))))
            },
            "SELECT c.id FROM comments c WHERE EXISTS (SELECT 1 FROM photos ph WHERE ph.id = c.commentable_id
               AND c.commentable_type = 'photo') OR EXISTS (SELECT 1 FROM posts p JOIN users u ON u.id = p.author_id
               WHERE p.id = c.commentable_id AND c.commentable_type = 'post' AND u.name = 'grace') ORDER BY c.id",
        ),
        (
            "not on an existing post (NULL, dangling and photo comments included)",
            || !Comment::columns().commentable().post().exists(),
            "SELECT c.id FROM comments c WHERE NOT EXISTS (SELECT 1 FROM posts p WHERE p.id = c.commentable_id
               AND c.commentable_type = 'post') ORDER BY c.id",
        ),
    ];
    for conn in conns(fill) {
        let place = format!("{} {}", name(conn.sync()), conn.name());
        for &(what, filter, sql) in &cases {
            let got = check_filter(&conn, &place, &FilterCase { what, filter, sql });
            assert!(!got.is_empty(), "{place}: {what}");
        }
        // Nested: photos with a comment... whose target is a post (never:
        // a photo's comments target photos), and posts with a comment whose
        // target post is by ada (their own comments).
        let want = ids_of(
            conn.sync(),
            "SELECT p.id FROM posts p WHERE EXISTS (SELECT 1 FROM comments c WHERE c.commentable_id = p.id
               AND c.commentable_type = 'post' AND EXISTS (SELECT 1 FROM posts q WHERE q.id = c.commentable_id
               AND c.commentable_type = 'post' AND q.author_id = 1)) ORDER BY p.id",
        );
        let (posts, photos) = on!(&conn, wait, |db| {
            let posts = wait!(
                Post::query()
                    .filter(|p| p
                        .comments()
                        .any(|c| c.commentable().post().is(|q| q.author_id.eq(1))))
                    .all(db)
            )
            .unwrap();
            let photos = wait!(
                Photo::query()
                    .filter(|p| p.comments().any(|c| c.commentable().post().exists()))
                    .all(db)
            )
            .unwrap();
            (posts.iter().map(|p| p.id).collect::<Vec<_>>(), photos.len())
        });
        assert_eq!(posts, want, "{place}: nested");
        assert_eq!(posts, [1], "{place}");
        assert_eq!(photos, 0, "{place}: a photo's comments never target a post");
    }
}
