//! Serializing preloaded graphs (cargo feature `serde`): a
//! [`Loaded<E, P>`](crate::Loaded) is the entity's own fields, as its
//! `Serialize` writes them (so `rename`, `rename_all` and `skip` apply),
//! followed by one entry per preloaded relation, named as the relation:
//! an array for `has_many` and `many_to_many`, an object (or `null`) for
//! `belongs_to` and `has_one`, a number for a count (`posts_count`).
//!
//! ```
//! use loader_runtime::{Db, Entity};
//! use serde::Serialize;
//!
//! #[derive(Entity, Serialize)]
//! #[entity(table = "users")]
//! #[has_many(Post, fk = "author_id")]
//! struct User { id: i64, username: String }
//!
//! #[derive(Entity, Serialize)]
//! #[entity(table = "posts")]
//! #[serde(rename_all = "camelCase")]
//! struct Post { id: i64, #[serde(skip)] author_id: i64, post_title: String }
//!
//! let db = Db::open_in_memory()?;
//! db.execute_batch(
//!     "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL);
//!      CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL, post_title TEXT NOT NULL);
//!      INSERT INTO users VALUES (1, 'ada');
//!      INSERT INTO posts VALUES (7, 1, 'Notes'), (8, 1, 'Sketch');",
//! )?;
//! let users = User::query()
//!     .preload(User::posts())
//!     .preload(User::posts().count())
//!     .all(&db)?;
//! assert_eq!(
//!     serde_json::to_string(&users).unwrap(),
//!     r#"[{"id":1,"username":"ada","posts":[{"id":7,"postTitle":"Notes"},{"id":8,"postTitle":"Sketch"}],"posts_count":2}]"#
//! );
//! # Ok::<(), loader_runtime::Error>(())
//! ```

use serde::ser::{Impossible, Serialize, SerializeMap, SerializeSeq, SerializeStruct, Serializer};

use crate::entity::Entity;
use crate::loaded::Loaded;
use crate::preload::{Many, ManyShared, One, Preload, PreloadList, Related};

/// A preload list whose values can be written as map entries, one per
/// relation, in the order the preloads were written.
#[doc(hidden)]
pub trait SerializeValues<E: Entity>: PreloadList<E> {
    fn serialize_values<M: SerializeMap>(
        values: &Self::Values,
        map: &mut M,
    ) -> Result<(), M::Error>;
}

impl<E: Entity> SerializeValues<E> for () {
    fn serialize_values<M: SerializeMap>(_: &(), _: &mut M) -> Result<(), M::Error> {
        Ok(())
    }
}

impl<E: Entity, W: Preload<E>, T: SerializeValues<E>> SerializeValues<E> for (W, T)
where
    W::Output: Serialize,
{
    fn serialize_values<M: SerializeMap>(
        values: &Self::Values,
        map: &mut M,
    ) -> Result<(), M::Error> {
        T::serialize_values(&values.1, map)?;
        map.serialize_entry(W::NAME, &values.0)
    }
}

impl<E, P> Serialize for Loaded<E, P>
where
    E: Entity + Serialize,
    P: SerializeValues<E>,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        self.entity().serialize(Fields(&mut map))?;
        P::serialize_values(self.values(), &mut map)?;
        map.end()
    }
}

impl<T: Serialize> Serialize for Many<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.as_slice().serialize(serializer)
    }
}

impl<T: Serialize> Serialize for One<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.get().serialize(serializer)
    }
}

impl<T: Serialize> Serialize for ManyShared<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.as_related().serialize(serializer)
    }
}

impl<T: Serialize> Serialize for Related<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for item in self.iter() {
            seq.serialize_element(item)?;
        }
        seq.end()
    }
}

/// A serializer that writes the fields of a struct (or the entries of a
/// map) into an enclosing map, as `#[serde(flatten)]` does: how the
/// entity's own `Serialize` contributes its fields to a loaded value's
/// object.
struct Fields<'a, M>(&'a mut M);

fn not_a_struct<E: serde::ser::Error>() -> E {
    E::custom("a preloaded entity must serialize as a struct or a map (derive `Serialize` on it)")
}

macro_rules! refuse {
    ($($method:ident($($ty:ty),*);)*) => {
        $(fn $method(self, $(_: $ty),*) -> Result<(), M::Error> {
            Err(not_a_struct())
        })*
    };
}

impl<'a, M: SerializeMap> Serializer for Fields<'a, M> {
    type Ok = ();
    type Error = M::Error;
    type SerializeSeq = Impossible<(), M::Error>;
    type SerializeTuple = Impossible<(), M::Error>;
    type SerializeTupleStruct = Impossible<(), M::Error>;
    type SerializeTupleVariant = Impossible<(), M::Error>;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<(), M::Error>;

    refuse! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_char(char);
        serialize_str(&str);
        serialize_bytes(&[u8]);
        serialize_none();
        serialize_unit_variant(&'static str, u32, &'static str);
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), M::Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), M::Error> {
        Ok(())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), M::Error> {
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), M::Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), M::Error> {
        Err(not_a_struct())
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, M::Error> {
        Err(not_a_struct())
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, M::Error> {
        Err(not_a_struct())
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, M::Error> {
        Err(not_a_struct())
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, M::Error> {
        Err(not_a_struct())
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self, M::Error> {
        Ok(self)
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, M::Error> {
        Ok(self)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, M::Error> {
        Err(not_a_struct())
    }
}

impl<M: SerializeMap> SerializeStruct for Fields<'_, M> {
    type Ok = ();
    type Error = M::Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), M::Error> {
        self.0.serialize_entry(key, value)
    }

    fn end(self) -> Result<(), M::Error> {
        Ok(())
    }
}

impl<M: SerializeMap> SerializeMap for Fields<'_, M> {
    type Ok = ();
    type Error = M::Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), M::Error> {
        self.0.serialize_key(key)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), M::Error> {
        self.0.serialize_value(value)
    }

    fn end(self) -> Result<(), M::Error> {
        Ok(())
    }
}
