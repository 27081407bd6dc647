//! What a nested level knows of its owners when it plans its statement.

use crate::scope::Param;

/// The owners of a nested level: their rows once they have arrived, and
/// how a statement can name them before that.
pub struct Owners<'a, E> {
    /// The owners, once their statement has been read.
    pub(crate) rows: Option<&'a [E]>,
    /// Whether the owners are every row of their table (a child table can
    /// then be read whole, with no key set).
    pub(crate) whole: bool,
    /// The owners' statement, to name them in a subquery (the
    /// [`Subquery`](super::Form::Subquery) form only).
    pub(crate) sql: Option<&'a OwnerSql>,
    /// The span of the owners' statement, the parent of this level's.
    pub(crate) span: &'a tracing::Span,
}

impl<E> Clone for Owners<'_, E> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<E> Copy for Owners<'_, E> {}

impl<'a, E> Owners<'a, E> {
    /// The owners' keys as a set, once their rows are here.
    pub(crate) fn len(&self) -> Option<usize> {
        self.rows.map(<[E]>::len)
    }
}

/// A level's statement as a subquery for the levels below it: its text up
/// to the `ORDER BY` (kept only when a `LIMIT` or `OFFSET` needs it), its
/// parameters, and the quoted table name that its columns are qualified by.
#[derive(Debug, Clone)]
pub(crate) struct OwnerSql {
    pub text: String,
    pub params: Vec<Param>,
    pub table: &'static str,
}
