//! The query builder that `Entity::query()` starts.

use std::fmt;
use std::marker::PhantomData;

use crate::db::Db;
use crate::entity::{Entity, Keyed};
use crate::error::Result;
use crate::loaded::Loaded;
use crate::preload::{Preload, PreloadList};
use crate::scope::{Expr, OrderBy, Param, Scope, SelectParts, scoped_select};

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
    entity: PhantomData<fn() -> E>,
}

impl<E: Entity> Query<E, ()> {
    /// A query for every `E`, with nothing preloaded.
    pub fn new() -> Self {
        Query {
            preloads: (),
            scope: Scope::default(),
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
    pub fn preload<W: Preload<E>>(self, relation: W) -> Query<E, (W, P)> {
        Query {
            preloads: (relation, self.preloads),
            scope: self.scope,
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
    pub fn limit(mut self, limit: u64) -> Self {
        self.scope.limit = Some(limit);
        self
    }

    /// Skips the first `offset` rows.
    pub fn offset(mut self, offset: u64) -> Self {
        self.scope.offset = Some(offset);
        self
    }

    /// Runs the query: every row of the table, ordered by primary key, each
    /// with its preloaded relations.
    ///
    /// When there are preloads and the connection is not already inside a
    /// transaction, all statements run in one read transaction, so the
    /// relations come from the same snapshot as the entities.
    pub fn all(&self, db: &Db) -> Result<Vec<Loaded<E, P>>> {
        if self.scope.is_empty() {
            let sql = E::META.sql.select_all.text(db.backend());
            return self.run(db, |db| db.fetch::<E>(sql, &[]), true);
        }
        let (text, params) = scoped_select(db.backend(), &self.select_parts(), None, &self.scope);
        self.run(
            db,
            |db| db.fetch::<E>(text, &params),
            self.scope.selects_all(),
        )
    }

    /// Runs the query for the one row with primary key `key`, if any (the
    /// query's filter, if any, must match it too).
    pub fn find(&self, db: &Db, key: &E::Key) -> Result<Option<Loaded<E, P>>>
    where
        E: Keyed,
    {
        if self.scope.is_empty() {
            let sql = E::META.sql.select_by_key.text(db.backend());
            let rows = self.run(db, |db| db.fetch::<E>(sql, &[Param::of(key)]), false)?;
            return Ok(rows.into_iter().next());
        }
        let mut scope = self.scope.clone();
        scope.add_filter(Expr::compare(
            E::META.sql.primary_key,
            " = ",
            crate::column::to_value(key),
        ));
        let (text, params) = scoped_select(db.backend(), &self.select_parts(), None, &scope);
        let rows = self.run(db, |db| db.fetch::<E>(text, &params), false)?;
        Ok(rows.into_iter().next())
    }

    fn select_parts(&self) -> SelectParts<'static> {
        let sql = &E::META.sql;
        SelectParts {
            columns: sql.column_list,
            from: sql.from,
            table: sql.table,
            owner: None,
            owner_column: false,
            primary_key: sql.primary_key,
        }
    }

    fn run(
        &self,
        db: &Db,
        roots: impl FnOnce(&Db) -> Result<Vec<E>>,
        whole: bool,
    ) -> Result<Vec<Loaded<E, P>>> {
        let _span = tracing::debug_span!(
            target: "loader::query",
            "query",
            entity = E::META.name,
            preloads = P::LEN,
        )
        .entered();
        // The statements of a preload read one snapshot of the database.
        let snapshot = if P::LEN > 0 { db.begin(true)? } else { None };
        let roots = roots(db)?;
        let values = self.preloads.load(db, &roots, whole)?;
        let loaded = roots
            .into_iter()
            .zip(values)
            .map(|(entity, values)| Loaded::new(entity, values))
            .collect();
        if let Some(snapshot) = snapshot {
            snapshot.commit()?;
        }
        Ok(loaded)
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
