//! Relation loading without N+1 queries, checked at compile time, on SQLite
//! and PostgreSQL.
//!
//! `#[derive(Entity)]` maps a struct to a table and its `#[has_many]` and
//! `#[belongs_to]` attributes to relations. Each relation gets
//!
//! * a **lazy accessor**, `user.load_posts(&db)?`, one query per call: the
//!   N+1 path, visible in [`Db::query_log`](crate::Monitor::query_log);
//! * a **preload handle**, `User::posts()`, for
//!   [`Query::preload`]: one query per relation for any number of rows,
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

extern crate self as loader_runtime;

#[cfg(feature = "async")]
mod async_db;
mod backend;
mod column;
mod db;
mod diagnostics;
mod engine;
mod entity;
mod error;
mod executor;
mod loaded;
mod monitor;
mod onto;
#[cfg(feature = "r2d2")]
pub mod pool;
pub mod preload;
mod query;
pub mod relation;
mod row;
mod scope;
#[cfg(feature = "serde")]
pub mod serialize;
mod sql;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

#[cfg(feature = "async")]
pub use async_db::{AsyncDb, AsyncTransaction, BoxFuture, DEFAULT_BATCH_DELAY, RelationLoader};
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
pub use preload::{Count, Has, HasCount, Preload, PreloadList, With};
pub use query::Query;
pub use relation::Relation;
pub use row::{BoxError, Field, FieldError, Row};
pub use scope::{Expr, OrderBy};
pub use sql::{Backend, Sql};

/// Maps a struct to a table; see the [crate documentation](crate).
pub use loader_derive::Entity;

/// Re-exported so users can name rusqlite types (e.g. to open a connection
/// with flags) without a second dependency that could drift in version.
pub use rusqlite;

/// Re-exported (cargo feature `postgres`) so users can build a
/// `postgres::Client` or `postgres::Config` for [`Db::from_postgres_client`]
/// with the version this crate was built with.
#[cfg(feature = "postgres")]
pub use postgres as postgres_driver;

/// Re-exported (cargo features `postgres` and `async`) so users can build a
/// `tokio_postgres::Config` for [`AsyncDb::from_postgres_config`], or a
/// pool for [`AsyncDb::from_postgres_pool`], with the versions this crate
/// was built with.
#[cfg(all(feature = "postgres", feature = "async"))]
pub use {deadpool_postgres, tokio_postgres};
