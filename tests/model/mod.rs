//! The model-based property tests, once for each key type (included by
//! `tests/model_based.rs` with integer keys and `tests/model_based_uuid.rs`
//! with UUID keys, each defining `Id`, `id` and `ID_TYPES`): on random
//! data (skewed fan-out, orphans, NULL and dangling keys, duplicate join rows, text keys with quotes,
//! unicode and empty strings), every preload tree returns exactly the graph
//! that lazy loading returns and that a plain in-memory model computes, with
//! 1 + (relations in the tree) statements; one tree also filters its roots
//! and a preload by related rows (`EXISTS` filters, many_to_many and a
//! nullable belongs_to among them); one preloads `has_many` relations
//! through posts (to their comments, and to their tags: each tag once per
//! user however many of their posts carry it) and filters by them.
//!
//! The suite runs 256 datasets through every tree (a few seconds on 2 cores in a
//! debug build). For a longer soak: `PROPTEST_CASES=10000 cargo test --test model_based`.

use crate::common::backend::execute;
use crate::common::conn::Conn;
use crate::{ID_TYPES, Id, id, on};
use loader_runtime::{Backend, Db, Entity, Error, Form};
use proptest::prelude::*;

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "users")]
#[has_many(Post, fk = "author_id")]
#[has_many(Comment, through = "posts")]
#[has_many(Tag, through = "posts")]
struct User {
    id: Id,
    name: String,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "posts")]
#[belongs_to(User, fk = "author_id", name = "author")]
#[belongs_to(User, fk = "editor_id", name = "editor")]
#[has_many(Comment, fk = "post_id")]
#[many_to_many(Tag, through = "post_tags", fk = "post_id", target_fk = "tag")]
struct Post {
    id: Id,
    author_id: Id,
    editor_id: Option<Id>,
    title: String,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "comments")]
#[belongs_to(Post, fk = "post_id")]
struct Comment {
    id: Id,
    post_id: Option<Id>,
    body: String,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "tags")]
#[many_to_many(Post, through = "post_tags", fk = "tag", target_fk = "post_id")]
struct Tag {
    #[entity(primary_key)]
    label: String,
}

/// The dataset, as the in-memory model sees it.
#[derive(Debug, Clone)]
struct Data {
    users: Vec<User>,
    posts: Vec<Post>,
    comments: Vec<Comment>,
    tags: Vec<Tag>,
    /// (post id, tag label), duplicates and dangling pairs included.
    post_tags: Vec<(Id, String)>,
}

const LABELS: &[&str] = &[
    "",
    "rust",
    "o'reilly",
    "a\"b",
    "ünïcödé",
    "1) OR (1=1",
    "Rust",
];

fn data() -> impl Strategy<Value = Data> {
    (0usize..12).prop_flat_map(|user_count| {
        let author = prop_oneof![
            // Most posts go to user 1: one parent with many children.
            4 => Just(1i64),
            4 => 1..=(user_count.max(1) as i64),
            1 => Just(999i64),
        ];
        let editor = prop_oneof![
            2 => Just(None),
            2 => (1..=(user_count.max(1) as i64)).prop_map(Some),
            1 => Just(Some(777i64)),
        ];
        let posts = prop::collection::vec((author, editor, "[a-z' ]{0,6}"), 0..40);
        let comments =
            prop::collection::vec((prop::option::weighted(0.9, 1i64..45), ".{0,4}"), 0..60);
        let tags = prop::sample::subsequence(LABELS.to_vec(), 0..=LABELS.len());
        let links = prop::collection::vec((1i64..45, prop::sample::select(LABELS.to_vec())), 0..50);
        let names = prop::collection::vec(".{0,5}", user_count);
        (names, posts, comments, tags, links).prop_map(|(names, posts, comments, tags, links)| {
            Data {
                users: names
                    .into_iter()
                    .enumerate()
                    .map(|(i, name)| User {
                        id: id(i as i64 + 1),
                        name,
                    })
                    .collect(),
                posts: posts
                    .into_iter()
                    .enumerate()
                    .map(|(i, (author_id, editor_id, title))| Post {
                        // Ids not in insertion order, so grouping is exercised.
                        id: id(((i as i64 * 7) % 41) + 1 + 41 * (i as i64 / 41)),
                        author_id: id(author_id),
                        editor_id: editor_id.map(id),
                        title,
                    })
                    .collect(),
                comments: comments
                    .into_iter()
                    .enumerate()
                    .map(|(i, (post_id, body))| Comment {
                        id: id(i as i64 + 1),
                        post_id: post_id.map(id),
                        body,
                    })
                    .collect(),
                tags: tags
                    .into_iter()
                    .map(|label| Tag {
                        label: label.to_owned(),
                    })
                    .collect(),
                post_tags: links
                    .into_iter()
                    .map(|(post, tag)| (id(post), tag.to_owned()))
                    .collect(),
            }
        })
    })
}

/// A fresh in-memory SQLite database holding `data`.
fn load(data: &Data) -> Db {
    let db = Db::open_in_memory().unwrap();
    fill(&db, data);
    db
}

/// Creates the tables in `db` (dropping earlier ones) and inserts `data`.
fn fill(db: &Db, data: &Data) {
    // PostgreSQL: the key type of `ID_TYPES`, and
    // byte-order text so that the database orders labels like the model.
    let (int, text_key) = match db.backend() {
        Backend::Postgres => (ID_TYPES.postgres, "TEXT COLLATE \"C\""),
        _ => (ID_TYPES.sqlite, "TEXT"),
    };
    db.execute_batch(&format!(
        "DROP TABLE IF EXISTS users; DROP TABLE IF EXISTS posts; DROP TABLE IF EXISTS comments;
         DROP TABLE IF EXISTS tags; DROP TABLE IF EXISTS post_tags;
         CREATE TABLE users (id {int} PRIMARY KEY, name TEXT NOT NULL);
         CREATE TABLE posts (id {int} PRIMARY KEY, author_id {int} NOT NULL, editor_id {int},
                             title TEXT NOT NULL);
         CREATE TABLE comments (id {int} PRIMARY KEY, post_id {int}, body TEXT NOT NULL);
         CREATE TABLE tags (label {text_key} PRIMARY KEY);
         CREATE TABLE post_tags (post_id {int} NOT NULL, tag {text_key} NOT NULL);",
    ))
    .unwrap();
    for u in &data.users {
        execute(db, "INSERT INTO users VALUES ($1, $2)", &[&u.id, &u.name]);
    }
    for p in &data.posts {
        execute(
            db,
            "INSERT INTO posts VALUES ($1, $2, $3, $4)",
            &[&p.id, &p.author_id, &p.editor_id, &p.title],
        );
    }
    for c in &data.comments {
        execute(
            db,
            "INSERT INTO comments VALUES ($1, $2, $3)",
            &[&c.id, &c.post_id, &c.body],
        );
    }
    for t in &data.tags {
        execute(db, "INSERT INTO tags VALUES ($1)", &[&t.label]);
    }
    for (post, tag) in &data.post_tags {
        execute(db, "INSERT INTO post_tags VALUES ($1, $2)", &[post, tag]);
    }
    db.reset_query_log();
}

/// A loaded graph in one canonical shape: an entity's key and, per
/// relation, its related nodes in order.
#[derive(Debug, Clone, PartialEq)]
struct Node {
    key: String,
    relations: Vec<(&'static str, Vec<Node>)>,
}

fn leaf(key: impl ToString) -> Node {
    Node {
        key: key.to_string(),
        relations: Vec::new(),
    }
}

fn node(key: impl ToString, relations: Vec<(&'static str, Vec<Node>)>) -> Node {
    Node {
        key: key.to_string(),
        relations,
    }
}

/// The in-memory model of each relation.
impl Data {
    fn sorted_users(&self) -> Vec<&User> {
        let mut users: Vec<&User> = self.users.iter().collect();
        users.sort_by_key(|u| u.id);
        users
    }
    fn sorted_posts(&self) -> Vec<&Post> {
        let mut posts: Vec<&Post> = self.posts.iter().collect();
        posts.sort_by_key(|p| p.id);
        posts
    }
    fn posts_of(&self, user: Id) -> Vec<&Post> {
        self.sorted_posts()
            .into_iter()
            .filter(|p| p.author_id == user)
            .collect()
    }
    fn comments_of(&self, post: Id) -> Vec<&Comment> {
        self.comments
            .iter()
            .filter(|c| c.post_id == Some(post))
            .collect()
    }
    fn user(&self, id: Option<Id>) -> Option<&User> {
        self.users.iter().find(|u| Some(u.id) == id)
    }
    fn post(&self, id: Option<Id>) -> Option<&Post> {
        self.posts.iter().find(|p| Some(p.id) == id)
    }
    fn tags_of(&self, post: Id) -> Vec<&Tag> {
        let mut tags: Vec<&Tag> = self
            .post_tags
            .iter()
            .filter(|(p, _)| *p == post)
            .filter_map(|(_, label)| self.tags.iter().find(|t| &t.label == label))
            .collect();
        tags.sort_by(|a, b| a.label.cmp(&b.label));
        tags
    }
    /// The comments on `user`'s posts, by comment id.
    fn comments_through_posts(&self, user: Id) -> Vec<&Comment> {
        let mut comments: Vec<&Comment> = self
            .posts_of(user)
            .iter()
            .flat_map(|p| self.comments_of(p.id))
            .collect();
        comments.sort_by_key(|c| c.id);
        comments
    }
    /// The tags on `user`'s posts, each once, by label.
    fn tags_through_posts(&self, user: Id) -> Vec<&Tag> {
        let mut tags: Vec<&Tag> = self
            .posts_of(user)
            .iter()
            .flat_map(|p| self.tags_of(p.id))
            .collect();
        tags.sort_by(|a, b| a.label.cmp(&b.label));
        tags.dedup_by(|a, b| a.label == b.label);
        tags
    }
    fn posts_of_tag(&self, label: &str) -> Vec<&Post> {
        let mut posts: Vec<&Post> = self
            .post_tags
            .iter()
            .filter(|(_, l)| l == label)
            .filter_map(|(post, _)| self.post(Some(*post)))
            .collect();
        posts.sort_by_key(|p| p.id);
        posts
    }
}

/// A preload tree: its statement count and three ways to compute its graph.
struct Shape {
    name: &'static str,
    statements: usize,
    preloaded: fn(&Conn, Form) -> Result<Vec<Node>, Error>,
    lazy: fn(&Conn) -> Result<Vec<Node>, Error>,
    model: fn(&Data) -> Option<Vec<Node>>,
}

fn shapes() -> Vec<Shape> {
    vec![
        Shape {
            name: "users without a rust tag (through posts) → comments and tags through posts",
            statements: 3,
            preloaded: |conn, form| {
                on!(conn, wait, |db| {
                    let users = wait!(
                        User::query()
                            .filter(|u| u.tags().none(|t| t.label.eq("rust")))
                            .preload(User::comments())
                            .preload(User::tags())
                            .form(form)
                            .all(db)
                    )?;
                    Ok(users
                        .iter()
                        .map(|u| {
                            node(
                                u.id,
                                vec![
                                    (
                                        "comments",
                                        u.comments().iter().map(|c| leaf(c.id)).collect(),
                                    ),
                                    ("tags", u.tags().iter().map(|t| leaf(&t.label)).collect()),
                                ],
                            )
                        })
                        .collect())
                })
            },
            lazy: |conn| {
                on!(conn, wait, |db| {
                    let mut out = Vec::new();
                    for u in wait!(User::all(db))? {
                        let tags = wait!(u.load_tags(db))?;
                        if tags.iter().any(|t| t.label == "rust") {
                            continue;
                        }
                        let comments = wait!(u.load_comments(db))?
                            .iter()
                            .map(|c| leaf(c.id))
                            .collect();
                        let tags = tags.iter().map(|t| leaf(&t.label)).collect();
                        out.push(node(u.id, vec![("comments", comments), ("tags", tags)]));
                    }
                    Ok(out)
                })
            },
            model: |d| {
                Some(
                    d.sorted_users()
                        .iter()
                        .filter(|u| !d.tags_through_posts(u.id).iter().any(|t| t.label == "rust"))
                        .map(|u| {
                            let comments = d
                                .comments_through_posts(u.id)
                                .iter()
                                .map(|c| leaf(c.id))
                                .collect();
                            let tags = d
                                .tags_through_posts(u.id)
                                .iter()
                                .map(|t| leaf(&t.label))
                                .collect();
                            node(u.id, vec![("comments", comments), ("tags", tags)])
                        })
                        .collect(),
                )
            },
        },
        Shape {
            name: "users with a commented post → their posts tagged rust or without an editor",
            statements: 2,
            preloaded: |conn, form| {
                on!(conn, wait, |db| {
                    let users = wait!(
                        User::query()
                            .filter(|u| u.posts().any(|p| p.comments().exists()))
                            .preload(User::posts().filter(|p| {
                                p.tags()
                                    .any(|t| t.label.eq("rust"))
                                    .or(!p.editor().exists())
                            }))
                            .form(form)
                            .all(db)
                    )?;
                    Ok(users
                        .iter()
                        .map(|u| {
                            node(
                                u.id,
                                vec![("posts", u.posts().iter().map(|p| leaf(p.id)).collect())],
                            )
                        })
                        .collect())
                })
            },
            lazy: |conn| {
                on!(conn, wait, |db| {
                    let mut out = Vec::new();
                    for u in wait!(User::all(db))? {
                        let mut commented = false;
                        let mut posts = Vec::new();
                        for p in wait!(u.load_posts(db))? {
                            commented |= !wait!(p.load_comments(db))?.is_empty();
                            let rust = wait!(p.load_tags(db))?.iter().any(|t| t.label == "rust");
                            if rust || wait!(p.load_editor(db))?.is_none() {
                                posts.push(leaf(p.id));
                            }
                        }
                        if commented {
                            out.push(node(u.id, vec![("posts", posts)]));
                        }
                    }
                    Ok(out)
                })
            },
            model: |d| {
                Some(
                    d.sorted_users()
                        .iter()
                        .filter(|u| {
                            d.posts_of(u.id)
                                .iter()
                                .any(|p| !d.comments_of(p.id).is_empty())
                        })
                        .map(|u| {
                            let posts = d
                                .posts_of(u.id)
                                .iter()
                                .filter(|p| {
                                    d.tags_of(p.id).iter().any(|t| t.label == "rust")
                                        || d.user(p.editor_id).is_none()
                                })
                                .map(|p| leaf(p.id))
                                .collect();
                            node(u.id, vec![("posts", posts)])
                        })
                        .collect(),
                )
            },
        },
        Shape {
            name: "users → posts → comments",
            statements: 3,
            preloaded: |conn, form| {
                on!(conn, wait, |db| {
                    let users = wait!(
                        User::query()
                            .preload(User::posts().preload(Post::comments()))
                            .form(form)
                            .all(db)
                    )?;
                    Ok(users
                        .iter()
                        .map(|u| {
                            let posts = u
                                .posts()
                                .iter()
                                .map(|p| {
                                    node(
                                        p.id,
                                        vec![(
                                            "comments",
                                            p.comments().iter().map(|c| leaf(c.id)).collect(),
                                        )],
                                    )
                                })
                                .collect();
                            node(u.id, vec![("posts", posts)])
                        })
                        .collect())
                })
            },
            lazy: |conn| {
                on!(conn, wait, |db| {
                    let mut out = Vec::new();
                    for u in wait!(User::all(db))? {
                        let mut posts = Vec::new();
                        for p in wait!(u.load_posts(db))? {
                            let comments = wait!(p.load_comments(db))?
                                .iter()
                                .map(|c| leaf(c.id))
                                .collect();
                            posts.push(node(p.id, vec![("comments", comments)]));
                        }
                        out.push(node(u.id, vec![("posts", posts)]));
                    }
                    Ok(out)
                })
            },
            model: |d| {
                Some(
                    d.sorted_users()
                        .iter()
                        .map(|u| {
                            let posts = d
                                .posts_of(u.id)
                                .iter()
                                .map(|p| {
                                    node(
                                        p.id,
                                        vec![(
                                            "comments",
                                            d.comments_of(p.id)
                                                .iter()
                                                .map(|c| leaf(c.id))
                                                .collect(),
                                        )],
                                    )
                                })
                                .collect();
                            node(u.id, vec![("posts", posts)])
                        })
                        .collect(),
                )
            },
        },
        Shape {
            name: "posts → editor, tags",
            // Every post: the tags read as the join table, then each tag once.
            statements: 4,
            preloaded: |conn, form| {
                on!(conn, wait, |db| {
                    let posts = wait!(
                        Post::query()
                            .preload(Post::editor())
                            .preload(Post::tags())
                            .form(form)
                            .all(db)
                    )?;
                    Ok(posts
                        .iter()
                        .map(|p| {
                            node(
                                p.id,
                                vec![
                                    (
                                        "editor",
                                        p.editor().map(|e| leaf(e.id)).into_iter().collect(),
                                    ),
                                    ("tags", p.tags().iter().map(|t| leaf(&t.label)).collect()),
                                ],
                            )
                        })
                        .collect())
                })
            },
            lazy: |conn| {
                on!(conn, wait, |db| {
                    let mut out = Vec::new();
                    for p in wait!(Post::all(db))? {
                        let editor = wait!(p.load_editor(db))?
                            .map(|e| leaf(e.id))
                            .into_iter()
                            .collect();
                        let tags = wait!(p.load_tags(db))?
                            .iter()
                            .map(|t| leaf(&t.label))
                            .collect();
                        out.push(node(p.id, vec![("editor", editor), ("tags", tags)]));
                    }
                    Ok(out)
                })
            },
            model: |d| {
                Some(
                    d.sorted_posts()
                        .iter()
                        .map(|p| {
                            node(
                                p.id,
                                vec![
                                    (
                                        "editor",
                                        d.user(p.editor_id)
                                            .map(|e| leaf(e.id))
                                            .into_iter()
                                            .collect(),
                                    ),
                                    (
                                        "tags",
                                        d.tags_of(p.id).iter().map(|t| leaf(&t.label)).collect(),
                                    ),
                                ],
                            )
                        })
                        .collect(),
                )
            },
        },
        Shape {
            name: "comments → post → author → posts",
            statements: 4,
            preloaded: |conn, form| {
                on!(conn, wait, |db| {
                    let comments = wait!(
                        Comment::query()
                            .preload(Comment::post().preload(Post::author().preload(User::posts())))
                            .form(form)
                            .all(db)
                    )?;
                    Ok(comments
                        .iter()
                        .map(|c| {
                            let post = c.post().map(|p| {
                                let author = p.author();
                                let posts = author.posts().iter().map(|q| leaf(q.id)).collect();
                                node(
                                    p.id,
                                    vec![("author", vec![node(author.id, vec![("posts", posts)])])],
                                )
                            });
                            node(c.id, vec![("post", post.into_iter().collect())])
                        })
                        .collect())
                })
            },
            lazy: |conn| {
                on!(conn, wait, |db| {
                    let mut out = Vec::new();
                    for c in wait!(Comment::all(db))? {
                        let post = match wait!(c.load_post(db))? {
                            Some(p) => {
                                let author = wait!(p.load_author(db))?;
                                let posts = wait!(author.load_posts(db))?
                                    .iter()
                                    .map(|q| leaf(q.id))
                                    .collect();
                                vec![node(
                                    p.id,
                                    vec![("author", vec![node(author.id, vec![("posts", posts)])])],
                                )]
                            }
                            None => vec![],
                        };
                        out.push(node(c.id, vec![("post", post)]));
                    }
                    Ok(out)
                })
            },
            model: |d| {
                let mut out = Vec::new();
                for c in &d.comments {
                    let post = match d.post(c.post_id) {
                        Some(p) => {
                            // A dangling required key is an error for both loaders.
                            let author = d.user(Some(p.author_id))?;
                            let posts = d.posts_of(author.id).iter().map(|q| leaf(q.id)).collect();
                            vec![node(
                                p.id,
                                vec![("author", vec![node(author.id, vec![("posts", posts)])])],
                            )]
                        }
                        None => vec![],
                    };
                    out.push(node(c.id, vec![("post", post)]));
                }
                Some(out)
            },
        },
        Shape {
            name: "tags → posts → comments",
            statements: 4,
            preloaded: |conn, form| {
                on!(conn, wait, |db| {
                    let tags = wait!(
                        Tag::query()
                            .preload(Tag::posts().preload(Post::comments()))
                            .form(form)
                            .all(db)
                    )?;
                    Ok(tags
                        .iter()
                        .map(|t| {
                            let posts = t
                                .posts()
                                .iter()
                                .map(|p| {
                                    node(
                                        p.id,
                                        vec![(
                                            "comments",
                                            p.comments().iter().map(|c| leaf(c.id)).collect(),
                                        )],
                                    )
                                })
                                .collect();
                            node(&t.label, vec![("posts", posts)])
                        })
                        .collect())
                })
            },
            lazy: |conn| {
                on!(conn, wait, |db| {
                    let mut out = Vec::new();
                    for t in wait!(Tag::all(db))? {
                        let mut posts = Vec::new();
                        for p in wait!(t.load_posts(db))? {
                            let comments = wait!(p.load_comments(db))?
                                .iter()
                                .map(|c| leaf(c.id))
                                .collect();
                            posts.push(node(p.id, vec![("comments", comments)]));
                        }
                        out.push(node(&t.label, vec![("posts", posts)]));
                    }
                    Ok(out)
                })
            },
            model: |d| {
                let mut tags: Vec<&Tag> = d.tags.iter().collect();
                tags.sort_by(|a, b| a.label.cmp(&b.label));
                Some(
                    tags.iter()
                        .map(|t| {
                            let posts = d
                                .posts_of_tag(&t.label)
                                .iter()
                                .map(|p| {
                                    node(
                                        p.id,
                                        vec![(
                                            "comments",
                                            d.comments_of(p.id)
                                                .iter()
                                                .map(|c| leaf(c.id))
                                                .collect(),
                                        )],
                                    )
                                })
                                .collect();
                            node(&t.label, vec![("posts", posts)])
                        })
                        .collect(),
                )
            },
        },
    ]
}

fn check(data: &Data) -> Result<(), TestCaseError> {
    check_on(&Conn::Sync(load(data)), data)
}

/// Checks every shape on `db`, which holds `data`, with the preloads naming
/// their owners by key set and by subquery.
fn check_on(db: &Conn, data: &Data) -> Result<(), TestCaseError> {
    for shape in shapes() {
        for form in [Form::Keys, Form::Subquery] {
            db.reset_query_log();
            let preloaded = (shape.preloaded)(db, form);
            let preload_statements = db.query_count();
            let lazy = (shape.lazy)(db);
            let model = (shape.model)(data);
            match (&preloaded, &lazy, &model) {
                (Ok(preloaded), Ok(lazy), Some(model)) => {
                    prop_assert_eq!(
                        preloaded,
                        lazy,
                        "{} {:?}: preloaded vs lazy",
                        shape.name,
                        form
                    );
                    prop_assert_eq!(
                        preloaded,
                        model,
                        "{} {:?}: preloaded vs model",
                        shape.name,
                        form
                    );
                    // By key set, one per relation at most: a level with no
                    // keys runs none (the exact count is checked below on
                    // data where every level has rows). By subquery, every
                    // statement goes out at once.
                    match form {
                        Form::Subquery => prop_assert_eq!(preload_statements, shape.statements),
                        _ => {
                            prop_assert!(
                                preload_statements <= shape.statements,
                                "{}: {} statements",
                                shape.name,
                                preload_statements
                            );
                            // Where a wave is one round trip, tables read
                            // whole went out with the roots.
                            if preloaded.is_empty() && !crate::common::backend::pipelines(db.sync())
                            {
                                prop_assert_eq!(preload_statements, 1);
                            }
                        }
                    }
                }
                (Err(Error::MissingRelated { .. }), Err(Error::MissingRelated { .. }), None) => {}
                _ => prop_assert!(
                    false,
                    "{} {:?}: preloaded {:?}, lazy {:?}, model {:?}",
                    shape.name,
                    form,
                    preloaded.as_ref().map(|_| "graph"),
                    lazy.as_ref().map(|_| "graph"),
                    model.as_ref().map(|_| "graph")
                ),
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn preloaded_graph_equals_lazy_graph_and_model(data in data()) {
        check(&data)?;
    }
}

/// One PostgreSQL session for the cases below, its tables refilled for
/// each case.
static POSTGRES: std::sync::Mutex<Option<Conn>> = std::sync::Mutex::new(None);

proptest! {
    // Fewer cases than on SQLite: each lazy load is a round trip here.
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn on_postgres_preloaded_graph_equals_lazy_graph_and_model(data in data()) {
        let mut session = POSTGRES.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if session.is_none() {
            let Some(db) = crate::common::backend::postgres() else {
                return Ok(());
            };
            *session = Some(Conn::Sync(db));
        }
        let conn = session.as_ref().unwrap();
        let data = without_nul(data);
        fill(conn.sync(), &data);
        check_on(conn, &data)?;
    }
}

/// `data` with NUL characters replaced: PostgreSQL's text cannot hold them.
fn without_nul(mut data: Data) -> Data {
    let strip = |text: &mut String| *text = text.replace('\0', "\u{fffd}");
    data.users.iter_mut().for_each(|u| strip(&mut u.name));
    data.posts.iter_mut().for_each(|p| strip(&mut p.title));
    data.comments.iter_mut().for_each(|c| strip(&mut c.body));
    data
}

/// The async handles of the cases below, one per backend, their tables
/// refilled for each case through their sync twins.
static ASYNC: std::sync::Mutex<Option<Vec<Conn>>> = std::sync::Mutex::new(None);

proptest! {
    // Each case refills a file database (and a PostgreSQL schema).
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn async_preloaded_graph_equals_lazy_graph_and_model(data in data()) {
        let mut conns = ASYNC.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let conns = conns.get_or_insert_with(|| {
            let name = concat!(env!("CARGO_CRATE_NAME"), "_async");
            let mut conns = vec![Conn::async_sqlite(name)];
            conns.extend(Conn::async_postgres(&format!("t_{name}")));
            conns
        });
        let data = without_nul(data);
        for conn in conns.iter() {
            fill(conn.sync(), &data);
            conn.reset_query_log();
            check_on(conn, &data)?;
        }
    }
}

/// The statement count exactly: 1 + relations when every level has rows,
/// fewer only when a level comes back empty (no keys, no query).
#[test]
fn statement_count_is_one_plus_relations() {
    let data = Data {
        users: vec![User {
            id: id(1),
            name: "a".into(),
        }],
        posts: vec![Post {
            id: id(1),
            author_id: id(1),
            editor_id: Some(id(1)),
            title: "t".into(),
        }],
        comments: vec![Comment {
            id: id(1),
            post_id: Some(id(1)),
            body: "c".into(),
        }],
        tags: vec![Tag { label: "x".into() }],
        post_tags: vec![(id(1), "x".into())],
    };
    for shape in shapes() {
        let db = Conn::Sync(load(&data));
        (shape.preloaded)(&db, Form::Keys).unwrap();
        assert_eq!(db.query_count(), shape.statements, "{}", shape.name);
    }
}
