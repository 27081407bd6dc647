//! JSON columns (cargo feature `serde_json`): `serde_json::Value`, and
//! [`Json<T>`] for a document read into a type of the user's; text on
//! SQLite, `json` or `jsonb` on PostgreSQL.

use std::fmt;
use std::ops::{Deref, DerefMut};

use rusqlite::types::ValueRef;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Field, PgValue, ToValue, Value};
use crate::row::BoxError;

/// A field holding a JSON document read into (and bound from) a `T`:
/// `Json<Vec<String>>`, `Json<Settings>` for a struct deriving serde's
/// traits. It dereferences to the `T`.
///
/// ```
/// use loader_runtime::types::Json;
/// use loader_runtime::{Db, Entity};
///
/// #[derive(Entity)]
/// #[entity(table = "posts")]
/// struct Post { id: i64, tags: Json<Vec<String>> }
///
/// let db = Db::open_in_memory()?;
/// db.execute_batch(r#"CREATE TABLE posts (id INTEGER PRIMARY KEY, tags TEXT NOT NULL);
///                     INSERT INTO posts VALUES (1, '["rust", "sql"]');"#)?;
/// let posts = Post::all(&db)?;
/// assert_eq!(posts[0].tags.len(), 2);
/// # Ok::<(), loader_runtime::Error>(())
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The document.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Json<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: fmt::Debug> fmt::Debug for Json<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<T: Serialize> Serialize for Json<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Json<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Json)
    }
}

/// The document's text in a SQLite value.
fn sqlite_document(value: ValueRef<'_>) -> Result<std::borrow::Cow<'_, [u8]>, BoxError> {
    Ok(match value {
        ValueRef::Text(text) | ValueRef::Blob(text) => text.into(),
        ValueRef::Integer(i) => i.to_string().into_bytes().into(),
        ValueRef::Real(r) => r.to_string().into_bytes().into(),
        ValueRef::Null => return Err("unexpected NULL".into()),
    })
}

/// The document's text in a PostgreSQL value: `json` and text as they
/// are, `jsonb` after its version byte.
#[cfg(feature = "postgres")]
fn postgres_document(value: PgValue<'_>) -> Result<&[u8], BoxError> {
    use tokio_postgres::types::Type;
    let raw = value.raw();
    match *value.ty() {
        Type::JSONB => match raw.split_first() {
            Some((1, document)) => Ok(document),
            _ => Err("unsupported jsonb version".into()),
        },
        Type::JSON => Ok(raw),
        _ if crate::backend::postgres::decode::is_text_type(value.ty()) => Ok(raw),
        _ => Err(value.mismatch::<serde_json::Value>()),
    }
}

fn parse<T: DeserializeOwned>(document: &[u8]) -> Result<T, BoxError> {
    serde_json::from_slice(document).map_err(|error| {
        format!(
            "cannot read JSON into `{}`: {error}",
            std::any::type_name::<T>()
        )
        .into()
    })
}

impl<T: DeserializeOwned + Serialize> Field for Json<T> {
    fn from_sqlite(value: ValueRef<'_>) -> Result<Self, BoxError> {
        parse(&sqlite_document(value)?).map(Json)
    }

    fn from_postgres(value: PgValue<'_>) -> Result<Self, BoxError> {
        #[cfg(feature = "postgres")]
        return parse(postgres_document(value)?).map(Json);
        #[cfg(not(feature = "postgres"))]
        value.unreachable()
    }
}

/// A document that cannot be represented as JSON (a map with non-string
/// keys) is bound as JSON `null`.
impl<T: Serialize> ToValue for Json<T> {
    fn to_value(&self) -> Value {
        Value::Json(serde_json::to_value(&self.0).unwrap_or(serde_json::Value::Null))
    }
}

impl Field for serde_json::Value {
    fn from_sqlite(value: ValueRef<'_>) -> Result<Self, BoxError> {
        parse(&sqlite_document(value)?)
    }

    fn from_postgres(value: PgValue<'_>) -> Result<Self, BoxError> {
        #[cfg(feature = "postgres")]
        return parse(postgres_document(value)?);
        #[cfg(not(feature = "postgres"))]
        value.unreachable()
    }
}

impl ToValue for serde_json::Value {
    fn to_value(&self) -> Value {
        Value::Json(self.clone())
    }
}
