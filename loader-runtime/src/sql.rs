//! Statements in the SQL dialect of each backend.

/// The database a [`Db`](crate::Db) talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// SQLite, embedded (rusqlite, bundled).
    Sqlite,
    /// PostgreSQL, over tokio-postgres (cargo feature `postgres`).
    Postgres,
}

/// One statement, written by the derive at compile time for each backend:
/// `?1` placeholders and `IN rarray(?1)` key sets for SQLite, `$1` and
/// `= ANY($1)` for PostgreSQL. Identifiers are quoted the same way on both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sql {
    /// The SQLite text.
    pub sqlite: &'static str,
    /// The PostgreSQL text.
    pub postgres: &'static str,
}

impl Sql {
    /// A statement with no text (entities whose derive failed, composite
    /// keys without a key-set read).
    pub const EMPTY: Sql = Sql {
        sqlite: "",
        postgres: "",
    };

    /// A statement with the same text on both backends (no parameters).
    pub const fn both(text: &'static str) -> Sql {
        Sql {
            sqlite: text,
            postgres: text,
        }
    }

    /// The text for `backend`.
    pub const fn text(&self, backend: Backend) -> &'static str {
        match backend {
            Backend::Sqlite => self.sqlite,
            Backend::Postgres => self.postgres,
        }
    }
}

impl Backend {
    /// Appends the placeholder of parameter `number` (1-based): `?3`, `$3`.
    pub(crate) fn placeholder(self, sql: &mut String, number: usize) {
        sql.push(match self {
            Backend::Sqlite => '?',
            Backend::Postgres => '$',
        });
        sql.push_str(&number.to_string());
    }

    /// The text between a column and the placeholder of an array that the
    /// column's value must be in, and the text after the placeholder.
    pub(crate) fn in_array(self) -> (&'static str, &'static str) {
        match self {
            Backend::Sqlite => (" IN rarray(", ")"),
            Backend::Postgres => (" = ANY(", ")"),
        }
    }
}
