//! N+1 detection, forbidden queries and unused-preload tracking.

use std::cell::RefCell;
use std::panic::Location;
use std::sync::Arc;

use super::Db;
use crate::diagnostics::{Diagnostics, NPlusOne, Usage, Verdict, suggestion};
use crate::error::{Error, Result};

impl Db {
    /// Chooses what happens when one lazy loader runs many times in a scope
    /// (see [`NPlusOne`]; by default, a warning through `tracing`).
    ///
    /// ```
    /// use loader_runtime::{Db, Entity, Error, NPlusOne};
    ///
    /// #[derive(Entity)]
    /// #[entity(table = "users")]
    /// #[has_many(Post, fk = "author_id")]
    /// struct User { id: i64 }
    ///
    /// #[derive(Entity, Debug)]
    /// #[entity(table = "posts")]
    /// struct Post { id: i64, author_id: i64 }
    ///
    /// let db = Db::open_in_memory()?;
    /// db.execute_batch(
    ///     "CREATE TABLE users (id INTEGER PRIMARY KEY);
    ///      CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL);
    ///      INSERT INTO users VALUES (1), (2), (3);",
    /// )?;
    /// db.set_n_plus_one(NPlusOne::Strict { threshold: 2 });
    /// let users = User::all(&db)?;
    /// users[0].load_posts(&db)?;
    /// users[1].load_posts(&db)?;
    /// let error = users[2].load_posts(&db).unwrap_err();
    /// assert!(matches!(error, Error::NPlusOne { relation: "posts", count: 3, .. }));
    /// assert!(error.to_string().contains(".preload(User::posts())"));
    /// # Ok::<(), loader_runtime::Error>(())
    /// ```
    pub fn set_n_plus_one(&self, mode: NPlusOne) {
        let mut diagnostics = self.diagnostics.borrow_mut();
        diagnostics.n_plus_one = mode;
        diagnostics.lazy_loads.clear();
    }

    /// When on, each preloaded relation whose values are all dropped without
    /// one accessor call is reported with a `WARN` event (target
    /// `loader::unused_preload`) naming the place the preload was written,
    /// like Bullet's "unused eager loading". Off by default: it costs an
    /// atomic flag per preloaded relation and a write per accessor call.
    pub fn set_unused_preload_detection(&self, on: bool) {
        self.diagnostics.borrow_mut().unused_preloads = on;
    }

    /// Runs `block` with queries forbidden: any statement the library would
    /// run in it fails with [`Error::QueryForbidden`] instead (like
    /// django-zen-queries), so a template or serializer that should only
    /// read preloaded data cannot query by accident.
    pub fn forbid_queries<R>(&self, block: impl FnOnce() -> R) -> R {
        struct Allow<'a>(&'a RefCell<Diagnostics>);
        impl Drop for Allow<'_> {
            fn drop(&mut self) {
                self.0.borrow_mut().forbidden -= 1;
            }
        }
        self.diagnostics.borrow_mut().forbidden += 1;
        let _allow = Allow(&self.diagnostics);
        block()
    }

    /// Counts one lazy load for N+1 detection; warns or refuses per the mode.
    #[track_caller]
    pub(crate) fn lazy_load(&self, entity: &'static str, relation: &'static str) -> Result<()> {
        let verdict = self.diagnostics.borrow_mut().lazy_load(entity, relation);
        let location = Location::caller();
        match verdict {
            Verdict::Fine => Ok(()),
            Verdict::Warn { count } => {
                tracing::warn!(
                    target: "loader::n_plus_one",
                    entity,
                    relation,
                    count,
                    location = %location,
                    "N+1 queries: `{relation}` of `{entity}` was loaded lazily {count} times in this scope, last at {location}; {}",
                    suggestion(entity, relation),
                );
                Ok(())
            }
            Verdict::Refuse { count } => Err(Error::NPlusOne {
                entity,
                relation,
                count,
                location: location.to_string(),
                suggestion: suggestion(entity, relation),
            }),
        }
    }

    /// The usage tracker of one preloaded relation, when unused-preload
    /// detection is on.
    pub(crate) fn usage(
        &self,
        entity: &'static str,
        relation: &'static str,
        site: Option<&'static Location<'static>>,
    ) -> Option<Arc<Usage>> {
        self.diagnostics
            .borrow()
            .unused_preloads
            .then(|| Arc::new(Usage::new(entity, relation, site)))
    }
}
