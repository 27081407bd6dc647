//! The query builder that `Entity::query()` starts.

use std::fmt;
use std::marker::PhantomData;

use crate::distinct::Lacks;
use crate::engine::{Form, Map, QueryJob};
use crate::entity::{Entity, Keyed};
use crate::executor::Executor;
use crate::loaded::Loaded;
use crate::preload::{Checked, Preload, PreloadList};
use crate::scope::{Expr, OrderBy, RowCount, Scope};

/// A query for entities `E` with the relations `P` preloaded.
///
/// Start one with `E::query()`. Running it issues one statement for the
/// entities plus one per preloaded relation, however many rows there are.
///
/// ```
/// use loader_runtime::{Db, Entity};
///
/// #[derive(Entity)]
/// #[entity(table = "users")]
/// #[has_many(Post, fk = "author_id")]
/// struct User { id: i64, username: String }
///
/// #[derive(Entity)]
/// #[entity(table = "posts")]
/// #[belongs_to(User, fk = "author_id", name = "author")]
/// struct Post { id: i64, author_id: i64, title: String }
///
/// let db = Db::open_in_memory()?;
/// db.execute_batch(
///     "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL);
///      CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL, title TEXT NOT NULL);
///      INSERT INTO users VALUES (1, 'ada'), (2, 'grace');
///      INSERT INTO posts VALUES (1, 1, 'Notes'), (2, 2, 'Compilers'), (3, 1, 'Engines');",
/// )?;
/// let posts = Post::query().preload(Post::author()).all(&db)?;
/// let authors: Vec<&str> = posts.iter().map(|p| p.author().username.as_str()).collect();
/// assert_eq!(authors, ["ada", "grace", "ada"]);
/// assert_eq!(db.query_count(), 2); // the two posts of `ada` share one lookup
/// # Ok::<(), loader_runtime::Error>(())
/// ```
#[must_use = "a query does nothing until it is run with `.all(&db)` or `.find(&db, key)`"]
pub struct Query<E: Entity, P = ()> {
    preloads: P,
    scope: Scope<E>,
    form: Option<Form>,
    entity: PhantomData<fn() -> E>,
}

impl<E: Entity> Query<E, ()> {
    /// A query for every `E`, with nothing preloaded.
    pub fn new() -> Self {
        Query {
            preloads: (),
            scope: Scope::default(),
            form: None,
            entity: PhantomData,
        }
    }
}

impl<E: Entity> Default for Query<E, ()> {
    fn default() -> Self {
        Query::new()
    }
}

impl<E: Entity, P: PreloadList<E>> Query<E, P> {
    /// Also loads `relation` for every entity the query returns: one more
    /// query in all, whatever the number of rows.
    pub fn preload<W: Preload<E>>(self, relation: W) -> Query<E, (Checked<W, E>, P)>
    where
        P: Lacks<E, W>,
    {
        Query {
            preloads: (relation, self.preloads),
            scope: self.scope,
            form: self.form,
            entity: PhantomData,
        }
    }

    /// Keeps the rows that match `condition`, built from the entity's
    /// columns: `User::query().filter(|u| u.active.eq(true))`. Several
    /// filters must all match.
    pub fn filter(mut self, condition: impl FnOnce(&E::Columns) -> Expr<E>) -> Self {
        self.scope.add_filter(condition(&E::COLUMNS));
        self
    }

    /// Orders the rows: `.order_by(|u| u.username.asc())`. Later calls break
    /// ties of earlier ones; the primary key breaks the last ties (the
    /// default order is by primary key).
    pub fn order_by(mut self, order: impl FnOnce(&E::Columns) -> OrderBy<E>) -> Self {
        self.scope.add_order(order(&E::COLUMNS));
        self
    }

    /// Returns at most `limit` rows.
    pub fn limit(mut self, limit: impl RowCount) -> Self {
        self.scope.limit = Some(limit.rows());
        self
    }

    /// Skips the first `offset` rows.
    pub fn offset(mut self, offset: impl RowCount) -> Self {
        self.scope.offset = Some(offset.rows());
        self
    }

    /// Keyset pagination: only the rows after the row whose primary key is
    /// `key`, in the order given by [`order_by`](Query::order_by) (then by
    /// primary key); with [`limit`](Query::limit), the next page without an
    /// `OFFSET`. A key whose row no longer exists matches no row. See
    /// [`With::after`](crate::With::after) for the same on each owner's
    /// related rows.
    pub fn after(mut self, key: &E::Key) -> Self
    where
        E: crate::Keyed,
    {
        self.scope.after = Some(crate::types::ToValue::to_value(key));
        self
    }

    /// Chooses how the preloads' statements name their owners, instead of
    /// letting the connection decide. By default SQLite uses [`Form::Keys`]
    /// (a round trip costs nothing there), and PostgreSQL (`Db` and
    /// `AsyncDb` alike) uses [`Form::Subquery`] for few roots (a `limit` of
    /// at most 1,000, `find`, every row of a table that had at most 1,000
    /// rows when the handle last read it whole, or a filter whose statement
    /// found at most 100 rows when the handle last ran it), so that the whole
    /// tree is one round trip, and [`Form::Keys`] otherwise, so that the
    /// server does not evaluate the roots' conditions again for each level
    /// of a large load. The results are the same either way.
    ///
    /// ```
    /// # use loader_runtime::{Db, Entity, Form};
    /// # #[derive(Entity)] #[entity(table = "users")] #[has_many(Post, fk = "author_id")] struct User { id: i64 }
    /// # #[derive(Entity)] #[entity(table = "posts")] struct Post { id: i64, author_id: i64 }
    /// # let db = Db::open_in_memory()?;
    /// # db.execute_batch("CREATE TABLE users (id INTEGER PRIMARY KEY);
    /// #   CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL);
    /// #   INSERT INTO users VALUES (1), (2); INSERT INTO posts VALUES (1, 2);")?;
    /// let users = User::query()
    ///     .filter(|u| u.id.gt(1))
    ///     .preload(User::posts())
    ///     .form(Form::Subquery)
    ///     .all(&db)?;
    /// assert_eq!(users[0].posts().len(), 1);
    /// let sql = &db.query_log()[1].sql;
    /// assert!(sql.contains(r#""posts"."author_id" IN (SELECT "users"."id" FROM (SELECT"#), "{sql}");
    /// # Ok::<(), loader_runtime::Error>(())
    /// ```
    pub fn form(mut self, form: Form) -> Self {
        self.form = Some(form);
        self
    }

    pub(crate) fn chosen_form(&self) -> Option<Form> {
        self.form
    }

    /// Runs the query: every row of the table, ordered by primary key, each
    /// with its preloaded relations. With a [`Db`](crate::Db) it returns the
    /// rows; with an `AsyncDb`, a future of them.
    ///
    /// When there are preloads and the connection is not already inside a
    /// transaction, all statements run in one read transaction, so the
    /// relations come from the same snapshot as the entities.
    pub fn all<X: Executor>(&self, db: X) -> X::Output<Vec<Loaded<E, P>>> {
        db.run(QueryJob::all(self.clone()))
    }

    /// Runs the query for the one row with primary key `key`, if any (the
    /// query's filter, if any, must match it too).
    pub fn find<X: Executor>(&self, db: X, key: &E::Key) -> X::Output<Option<Loaded<E, P>>>
    where
        E: Keyed,
    {
        let job = QueryJob::find(self.clone(), crate::types::ToValue::to_value(key));
        db.run(Map::new(job, |rows: Vec<_>, _| Ok(rows.into_iter().next())))
    }

    pub(crate) fn preloads(&self) -> &P {
        &self.preloads
    }

    pub(crate) fn scope(&self) -> &Scope<E> {
        &self.scope
    }
}

impl<E: Entity, P: Clone> Clone for Query<E, P> {
    fn clone(&self) -> Self {
        Query {
            preloads: self.preloads.clone(),
            scope: self.scope.clone(),
            form: self.form,
            entity: PhantomData,
        }
    }
}

impl<E: Entity, P: fmt::Debug> fmt::Debug for Query<E, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Query")
            .field("entity", &E::META.name)
            .field("preloads", &self.preloads)
            .finish()
    }
}
