//! Seeing the queries: N+1 detection, unused-preload detection and the
//! query-count assertions of [`Db`](crate::Db).

use std::collections::HashMap;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, Ordering};

/// What to do when the same lazy loader runs many times in one scope (the
/// N+1 pattern). Set with [`Db::set_n_plus_one`](crate::Monitor::set_n_plus_one);
/// a scope starts when the `Db` is opened and at each
/// [`Db::reset_query_log`](crate::Monitor::reset_query_log) (call it at the start
/// of each request or test).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NPlusOne {
    /// Count nothing, report nothing.
    Off,
    /// Once a lazy loader has run more than `threshold` times in the scope,
    /// emit one `WARN` event (target `loader::n_plus_one`) naming the entity,
    /// the relation, the count, the caller's source location and the
    /// preload to write instead. The default, with a threshold of 2.
    Warn {
        /// How many lazy loads of one relation are tolerated.
        threshold: usize,
    },
    /// Like `Warn`, but the lazy load that crosses the threshold (and every
    /// one after it) returns [`Error::NPlusOne`](crate::Error::NPlusOne), like
    /// Rails' `strict_loading` and SQLAlchemy's `raiseload`.
    Strict {
        /// How many lazy loads of one relation are tolerated.
        threshold: usize,
    },
}

impl Default for NPlusOne {
    fn default() -> Self {
        NPlusOne::Warn { threshold: 2 }
    }
}

/// Per-`Db` diagnostic state.
#[derive(Default)]
pub(crate) struct Diagnostics {
    pub n_plus_one: NPlusOne,
    pub lazy_loads: HashMap<(&'static str, &'static str), LazyLoads>,
    pub forbidden: usize,
    pub unused_preloads: bool,
}

pub(crate) struct LazyLoads {
    pub count: usize,
    pub reported: bool,
}

/// What one lazy load may turn into.
pub(crate) enum Verdict {
    Fine,
    Warn { count: usize },
    Refuse { count: usize },
}

impl Diagnostics {
    /// Counts one lazy load of `relation` of `entity` and says whether it
    /// crosses the N+1 threshold.
    pub fn lazy_load(&mut self, entity: &'static str, relation: &'static str) -> Verdict {
        let (threshold, strict) = match self.n_plus_one {
            NPlusOne::Off => return Verdict::Fine,
            NPlusOne::Warn { threshold } => (threshold, false),
            NPlusOne::Strict { threshold } => (threshold, true),
        };
        let loads = self
            .lazy_loads
            .entry((entity, relation))
            .or_insert(LazyLoads {
                count: 0,
                reported: false,
            });
        loads.count += 1;
        if loads.count <= threshold {
            return Verdict::Fine;
        }
        if strict {
            return Verdict::Refuse { count: loads.count };
        }
        if std::mem::replace(&mut loads.reported, true) {
            Verdict::Fine
        } else {
            Verdict::Warn { count: loads.count }
        }
    }
}

/// The preload a user should write instead of a lazy loop.
pub(crate) fn suggestion(entity: &str, relation: &str) -> String {
    format!("add `.preload({entity}::{relation}())` to the query that loaded these `{entity}` rows")
}

/// Whether the loaded values of one preloaded relation were ever read.
/// Shared by every value one preload statement produced; reports when the
/// last of them is dropped unread.
pub struct Usage {
    read: AtomicBool,
    entity: &'static str,
    relation: &'static str,
    site: Option<&'static Location<'static>>,
}

impl Usage {
    pub(crate) fn new(
        entity: &'static str,
        relation: &'static str,
        site: Option<&'static Location<'static>>,
    ) -> Self {
        Usage {
            read: AtomicBool::new(false),
            entity,
            relation,
            site,
        }
    }

    pub(crate) fn mark_read(&self) {
        self.read.store(true, Ordering::Relaxed);
    }
}

impl Drop for Usage {
    fn drop(&mut self) {
        if *self.read.get_mut() {
            return;
        }
        let site = self
            .site
            .map_or_else(|| "an unknown place".to_owned(), ToString::to_string);
        tracing::warn!(
            target: "loader::unused_preload",
            entity = self.entity,
            relation = self.relation,
            site = %site,
            "relation `{}` of `{}` was preloaded at {} but never read; remove that `.preload(...)`",
            self.relation,
            self.entity,
            site,
        );
    }
}

impl std::fmt::Debug for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Usage")
            .field("relation", &self.relation)
            .field("read", &self.read.load(Ordering::Relaxed))
            .finish()
    }
}
