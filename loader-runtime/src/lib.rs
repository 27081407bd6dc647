//! Relation loading without N+1 queries, checked at compile time, on SQLite
//! and PostgreSQL.
//!
//! `#[derive(Entity)]` maps a struct to a table and its `#[has_many]` and
//! `#[belongs_to]` attributes to relations. Each relation gets
//!
//! * a **lazy accessor**, `user.load_posts(&db)?`, one query per call: the
//!   N+1 path, visible in [`Db::query_log`](crate::Monitor::query_log);
//! * a **preload handle**, `User::posts()`, for
//!   [`Query::preload`]: one query per relation for any number of rows
//!   (two for a `many_to_many` of many owners: its join table, then each
//!   target once),
//!   with the keys bound as one array parameter and the SQL emitted by the
//!   derive at compile time;
//! * an **accessor on the loaded value**, `user.posts()`, that only compiles
//!   when the query preloaded `posts`.
//!
//! ```
//! use loader_runtime::{Db, Entity};
//!
//! #[derive(Entity, Debug)]
//! #[entity(table = "users")]
//! #[has_many(Post, fk = "author_id")]
//! struct User { id: i64, username: String }
//!
//! #[derive(Entity, Debug)]
//! #[entity(table = "posts")]
//! #[belongs_to(User, fk = "author_id", name = "author")]
//! #[has_many(Comment, fk = "post_id")]
//! struct Post { id: i64, author_id: i64, title: String }
//!
//! #[derive(Entity, Debug)]
//! #[entity(table = "comments")]
//! struct Comment { id: i64, post_id: i64, body: String }
//!
//! let db = Db::open_in_memory()?;
//! db.execute_batch(
//!     "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL);
//!      CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL, title TEXT NOT NULL);
//!      CREATE TABLE comments (id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL, body TEXT NOT NULL);
//!      INSERT INTO users VALUES (1, 'ada'), (2, 'grace');
//!      INSERT INTO posts VALUES (1, 1, 'Notes'), (2, 2, 'Compilers');
//!      INSERT INTO comments VALUES (1, 1, 'First!'), (2, 1, 'Nice'), (3, 2, 'Hm');",
//! )?;
//!
//! let users = User::query()
//!     .preload(User::posts().preload(Post::comments()))
//!     .all(&db)?;
//! assert_eq!(db.query_count(), 3); // users, posts, comments: one query per level
//! for user in &users {
//!     for post in user.posts() {
//!         println!("{} wrote {:?} ({} comments)", user.username, post.title, post.comments().len());
//!     }
//! }
//! assert_eq!(users[0].posts()[0].comments().len(), 2);
//! # Ok::<(), loader_runtime::Error>(())
//! ```

//! # Backends
//!
//! SQLite is built in (rusqlite, bundled). With the cargo feature
//! `postgres`, the same entities and preloads run on PostgreSQL: open the
//! [`Db`] with [`Db::connect`]`("postgres://...")`. The derive writes every
//! statement for both at compile time (`?1` and `IN rarray(?1)` for SQLite,
//! `$1` and `= ANY($1)` for PostgreSQL); see [`Sql`] and [`Backend`].
//!
//! # Relations through other relations
//!
//! `#[has_many(Target, through = "relation")]` goes through a `has_many`,
//! `has_one` or `many_to_many` of the same entity, then follows the
//! relation of the entity it leads to that has the same name (or the one
//! `source = "..."` names: a `has_many`, `has_one`, `belongs_to`,
//! `many_to_many` or another relation through others, so chains reach any
//! depth). A preload is one statement that joins the rows on the way and
//! decodes none of them; each target comes once per owner, however many
//! paths lead to it. A `has_many` through a `has_many` of every owner (or
//! of more than 1,000) reads instead the middle rows' two keys and the
//! targets, without a join, and links them by hashing (two statements, one
//! round trip on PostgreSQL), as a `many_to_many` reads its join table. Scopes, counts, nested preloads, lazy loads and
//! relation filters work as for any `has_many`.
//!
//! ```
//! use loader_runtime::{Db, Entity};
//!
//! #[derive(Entity)]
//! #[entity(table = "users")]
//! #[has_many(Post, fk = "author_id")]
//! #[has_many(Comment, through = "posts")] // the `comments` of `Post`
//! #[has_many(Category, through = "posts", source = "category")]
//! struct User { id: i64, name: String }
//!
//! #[derive(Entity)]
//! #[entity(table = "posts")]
//! #[has_many(Comment, fk = "post_id")]
//! #[belongs_to(Category, fk = "category_id")]
//! struct Post { id: i64, author_id: i64, category_id: i64 }
//!
//! #[derive(Entity)]
//! #[entity(table = "comments")]
//! struct Comment { id: i64, post_id: i64, body: String }
//!
//! #[derive(Entity)]
//! #[entity(table = "categories")]
//! struct Category { id: i64, name: String }
//!
//! let db = Db::open_in_memory()?;
//! db.execute_batch(
//!     "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
//!      CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL, category_id INTEGER NOT NULL);
//!      CREATE TABLE comments (id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL, body TEXT NOT NULL);
//!      CREATE TABLE categories (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
//!      INSERT INTO users VALUES (1, 'ada'), (2, 'grace');
//!      INSERT INTO categories VALUES (1, 'essays');
//!      INSERT INTO posts VALUES (1, 1, 1), (2, 1, 1), (3, 2, 1);
//!      INSERT INTO comments VALUES (1, 1, 'First!'), (2, 2, 'Nice'), (3, 3, 'Hm');",
//! )?;
//! let users = User::query()
//!     .preload(User::comments())
//!     .preload(User::categories())
//!     .all(&db)?;
//! // users; the posts' two keys and the comments; the posts' (author,
//! // category) pairs and the categories they name
//! assert_eq!(db.query_count(), 5);
//! assert_eq!(users[0].comments().len(), 2);
//! assert_eq!(users[0].categories().len(), 1); // two posts, one category
//! let commenters = User::query().filter(|u| u.comments().any(|c| c.body.eq("Hm"))).all(&db)?;
//! assert_eq!(commenters[0].name, "grace");
//! # Ok::<(), loader_runtime::Error>(())
//! ```

extern crate self as loader_runtime;

#[cfg(feature = "async")]
mod async_db;
mod backend;
mod column;
mod concat;
mod db;
mod diagnostics;
mod distinct;
mod engine;
mod entity;
mod error;
mod executor;
mod loaded;
mod monitor;
mod onto;
mod polymorphic;
#[cfg(feature = "r2d2")]
pub mod pool;
pub mod preload;
mod query;
mod related;
pub mod relation;
mod row;
mod scope;
#[cfg(feature = "serde")]
pub mod serialize;
mod sql;
pub mod types;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

#[cfg(feature = "async")]
pub use async_db::{AsyncDb, AsyncTransaction, BoxFuture, DEFAULT_BATCH_DELAY, RelationLoader};
#[cfg(feature = "postgres")]
pub use backend::postgres::PgClient;
pub use column::{Column, SqlValue};
pub use db::Db;
pub use diagnostics::NPlusOne;
pub use engine::Form;
pub use entity::{Entity, EntityMeta, EntitySql, ForeignKey, Key, Keyed};
pub use error::{Error, Result};
pub use executor::Executor;
pub use loaded::Loaded;
pub use monitor::{DEFAULT_LOG_CAPACITY, Monitor, PoolWait, QueryRecord};
pub use onto::{Held, Onto, onto};
pub use polymorphic::Poly;
pub use preload::{Count, Has, HasCount, Preload, PreloadList, With};
pub use query::Query;
pub use related::RelationFilter;
pub use relation::Relation;
pub use row::{BoxError, FieldError, Row};
pub use scope::{Expr, OrderBy, RowCount};
pub use sql::{Backend, Sql};
pub use types::{Field, ToValue};

/// Maps a struct to a table; see the [crate documentation](crate).
pub use loader_derive::Entity;

/// Makes a newtype or a fieldless enum a column type: a [`Field`] and a
/// [`ToValue`], usable as a field, a key (with `Clone, PartialEq, Eq,
/// Hash, Debug`) and a filter value.
///
/// A struct of one field is stored as that field: `struct UserId(i64)`
/// reads and binds as an `i64`, so `Post.author_id: UserId` against
/// `User.id: UserId` is checked by the compiler, and a foreign key of
/// another id type is a compile error on its `fk` literal.
///
/// A fieldless enum is stored as text labels: the variant names, or under
/// `#[sql_type(rename_all = "snake_case")]` (also `lowercase`,
/// `UPPERCASE`, `SCREAMING_SNAKE_CASE`, `kebab-case`, `camelCase`,
/// `PascalCase`), or per variant `#[sql_type(rename = "...")]`; a
/// PostgreSQL enum type reads and binds the same labels. With
/// `#[sql_type(integer)]` it is stored as its discriminants. A value the
/// enum lacks is an [`Error::Decode`] naming the entity, the column and
/// the value.
///
/// ```
/// use loader_runtime::{Db, Entity, Error, SqlType};
///
/// #[derive(SqlType, Clone, Copy, PartialEq, Eq, Hash, Debug)]
/// struct UserId(i64);
///
/// #[derive(SqlType, Clone, Copy, PartialEq, Debug)]
/// #[sql_type(rename_all = "snake_case")]
/// enum Status { Draft, InReview, Published }
///
/// #[derive(SqlType, Clone, Copy, PartialEq, Debug)]
/// #[sql_type(integer)]
/// enum Priority { Low = 1, High = 5 }
///
/// #[derive(Entity, Debug)]
/// #[entity(table = "users")]
/// #[has_many(Post, fk = "author_id")]
/// struct User { id: UserId, name: String }
///
/// #[derive(Entity, Debug)]
/// #[entity(table = "posts")]
/// struct Post { id: i64, author_id: UserId, status: Status, priority: Priority }
///
/// let db = Db::open_in_memory()?;
/// db.execute_batch(
///     "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
///      CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL,
///                          status TEXT NOT NULL, priority INTEGER NOT NULL);
///      INSERT INTO users VALUES (1, 'ada');
///      INSERT INTO posts VALUES (1, 1, 'in_review', 5), (2, 1, 'draft', 1);",
/// )?;
/// let users = User::query().preload(User::posts()).all(&db)?;
/// assert_eq!(users[0].posts().len(), 2);
/// let drafts = Post::query().filter(|p| p.status.eq(Status::Draft)).all(&db)?;
/// assert_eq!(drafts[0].priority, Priority::Low);
///
/// db.execute_batch("UPDATE posts SET status = 'retracted' WHERE id = 2")?;
/// let Err(Error::Decode { column, source, .. }) = Post::all(&db) else { panic!() };
/// assert_eq!(column, "status");
/// assert!(source.to_string().contains("`retracted` is not a value of `Status`"));
/// # Ok::<(), loader_runtime::Error>(())
/// ```
pub use loader_derive::SqlType;

/// Re-exported so users can name rusqlite types (e.g. to open a connection
/// with flags) without a second dependency that could drift in version.
pub use rusqlite;

/// Re-exported (cargo feature `postgres`) so users can build a
/// `tokio_postgres::Config` for [`Db::connect_postgres`] or
/// [`AsyncDb::from_postgres_config`], and bind values through
/// [`Db::postgres`], with the version this crate was built with.
#[cfg(feature = "postgres")]
pub use tokio_postgres;

/// Re-exported (cargo features `postgres` and `async`) so users can build a
/// pool for [`AsyncDb::from_postgres_pool`] with the version this crate
/// was built with.
#[cfg(all(feature = "postgres", feature = "async"))]
pub use deadpool_postgres;
