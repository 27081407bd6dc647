//! Typed columns and the conditions and orderings built from them.

use std::fmt;

use crate::scope::{Expr, OrderBy};
use crate::types::{ToValue, Value};

/// A column of entity `E` holding values of type `T`.
///
/// The derive makes one per field, reached through the closures that
/// `filter` and `order_by` take (`|post| post.published.eq(true)`) or
/// through `Post::columns()`. Conditions built from a column can only be
/// used in queries for its entity, and only with values of its type:
///
/// ```
/// use loader_runtime::{Db, Entity};
///
/// #[derive(Entity)]
/// #[entity(table = "posts")]
/// struct Post { id: i64, title: String, published: bool, score: Option<i64> }
///
/// let db = Db::open_in_memory()?;
/// db.execute_batch(
///     "CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT NOT NULL,
///                          published BOOLEAN NOT NULL, score INTEGER);
///      INSERT INTO posts VALUES (1, 'Rust', 1, 5), (2, 'SQL', 0, NULL), (3, 'Rust again', 1, NULL);",
/// )?;
/// let posts = Post::query()
///     .filter(|p| p.published.eq(true).and(p.title.like("Rust%")))
///     .order_by(|p| p.title.desc())
///     .all(&db)?;
/// let titles: Vec<&str> = posts.iter().map(|p| p.title.as_str()).collect();
/// assert_eq!(titles, ["Rust again", "Rust"]);
/// assert_eq!(Post::query().filter(|p| p.score.is_null()).all(&db)?.len(), 2);
/// # Ok::<(), loader_runtime::Error>(())
/// ```
///
/// ```compile_fail
/// # use loader_runtime::Entity;
/// # #[derive(Entity)] struct Post { id: i64, title: String }
/// Post::query().filter(|p| p.title.eq(42)); // error: `{integer}` is not a value of a `String` column
/// ```
pub struct Column<E, T> {
    name: &'static str,
    qualified: &'static str,
    get: fn(&E) -> &T,
}

impl<E, T> Column<E, T> {
    #[doc(hidden)]
    pub const fn new(name: &'static str, qualified: &'static str, get: fn(&E) -> &T) -> Self {
        Column {
            name,
            qualified,
            get,
        }
    }

    /// The column's name in the table, unquoted.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The column's quoted name, qualified by its quoted table:
    /// `"posts"."author_id"`.
    pub const fn qualified(&self) -> &'static str {
        self.qualified
    }

    /// This column's value in `row`.
    pub fn get<'e>(&self, row: &'e E) -> &'e T {
        (self.get)(row)
    }

    fn compare(self, operator: &'static str, value: Value) -> Expr<E> {
        Expr::compare(self.qualified, operator, value)
    }

    /// `column = value`.
    pub fn eq(self, value: impl SqlValue<T>) -> Expr<E> {
        self.compare(" = ", value.into_value())
    }

    /// `column <> value`.
    pub fn ne(self, value: impl SqlValue<T>) -> Expr<E> {
        self.compare(" <> ", value.into_value())
    }

    /// `column < value`.
    pub fn lt(self, value: impl SqlValue<T>) -> Expr<E> {
        self.compare(" < ", value.into_value())
    }

    /// `column <= value`.
    pub fn le(self, value: impl SqlValue<T>) -> Expr<E> {
        self.compare(" <= ", value.into_value())
    }

    /// `column > value`.
    pub fn gt(self, value: impl SqlValue<T>) -> Expr<E> {
        self.compare(" > ", value.into_value())
    }

    /// `column >= value`.
    pub fn ge(self, value: impl SqlValue<T>) -> Expr<E> {
        self.compare(" >= ", value.into_value())
    }

    /// `column IN (values)`, the values bound as one array parameter.
    pub fn is_in<V: SqlValue<T>>(self, values: impl IntoIterator<Item = V>) -> Expr<E> {
        Expr::is_in(
            self.qualified,
            values.into_iter().map(SqlValue::into_value).collect(),
        )
    }

    /// `column IS NULL`.
    pub fn is_null(self) -> Expr<E> {
        Expr::postfix(self.qualified, " IS NULL")
    }

    /// `column IS NOT NULL`.
    pub fn is_not_null(self) -> Expr<E> {
        Expr::postfix(self.qualified, " IS NOT NULL")
    }

    /// Ascending order.
    pub fn asc(self) -> OrderBy<E> {
        OrderBy::new(self.qualified, false)
    }

    /// Descending order.
    pub fn desc(self) -> OrderBy<E> {
        OrderBy::new(self.qualified, true)
    }
}

impl<E> Column<E, String> {
    /// `column LIKE pattern` (`%` and `_` are wildcards; ASCII
    /// case-insensitive in SQLite, case-sensitive in PostgreSQL).
    pub fn like(self, pattern: impl Into<String>) -> Expr<E> {
        self.compare(" LIKE ", Value::Text(pattern.into()))
    }
}

impl<E> Column<E, Option<String>> {
    /// `column LIKE pattern` (`%` and `_` are wildcards; ASCII
    /// case-insensitive in SQLite, case-sensitive in PostgreSQL).
    pub fn like(self, pattern: impl Into<String>) -> Expr<E> {
        self.compare(" LIKE ", Value::Text(pattern.into()))
    }
}

impl<E, T> Clone for Column<E, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<E, T> Copy for Column<E, T> {}

impl<E, T> fmt::Debug for Column<E, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Column").field(&self.name).finish()
    }
}

/// A value that can be compared with a column of type `T`: a `T`, a `&str`
/// for a text column, a `T` for an `Option<T>` column. It is always bound
/// as a parameter.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a value of a `{T}` column",
    label = "expected a value of type `{T}`",
    note = "a column is compared with values of its own type (or `&str` for `String`, `T` for `Option<T>`)"
)]
pub trait SqlValue<T> {
    #[doc(hidden)]
    fn into_value(self) -> Value;
}

impl<T: ToValue> SqlValue<T> for T {
    fn into_value(self) -> Value {
        self.to_value()
    }
}

impl<T: ToValue> SqlValue<T> for &T {
    fn into_value(self) -> Value {
        self.to_value()
    }
}

impl<T: ToValue> SqlValue<Option<T>> for T {
    fn into_value(self) -> Value {
        self.to_value()
    }
}

impl SqlValue<String> for &str {
    fn into_value(self) -> Value {
        Value::Text(self.to_owned())
    }
}

impl SqlValue<Option<String>> for &str {
    fn into_value(self) -> Value {
        Value::Text(self.to_owned())
    }
}
