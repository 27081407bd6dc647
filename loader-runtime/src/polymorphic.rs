//! Polymorphic relations: a type column and an id column that point at one
//! of several entities (`commentable_type`, `commentable_id`).
//!
//! The derive turns `#[polymorphic(...)]` into one `belongs_to` per target
//! type, whose key is the id when the type column names that target and
//! `NULL` otherwise, so the engine loads each target type as any
//! `belongs_to`: one statement per type present among the owners, none for
//! the others. [`Poly`] is the preload handle that holds them; its values
//! are an enum the derive generates, one variant per target.

use std::marker::PhantomData;

use crate::engine::{Io, Owners};
use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::preload::{Checked, Here, Lacks, Node, Preload, PreloadList, There, With};
use crate::relation::Relation;

/// A polymorphic relation declared on `Owner`: implemented by the derive
/// for the relation's marker type.
#[doc(hidden)]
pub trait Polymorphic: Sized + Send + Sync + 'static {
    /// The entity that holds the type and id columns.
    type Owner: Entity;
    /// The relation's name (`commentable`).
    const NAME: &'static str;
    /// The type column's name, for errors.
    const TYPE_COLUMN: &'static str;
    /// The type values, one per target, in declaration order.
    const TYPES: &'static [&'static str];
    /// The type an owner names, if any (`None` for `NULL`).
    fn type_of(owner: &Self::Owner) -> Option<&str>;
    /// The owner's key, for errors.
    fn describe(owner: &Self::Owner) -> Option<String>;
}

/// How the loaded targets of a polymorphic relation, one `belongs_to` per
/// target type in `L`, become the value an owner holds (the derive's enum).
#[doc(hidden)]
pub trait Assemble<L: PreloadList<Self::Owner>>: Polymorphic {
    /// What one owner holds.
    type Output: Send + Sync;
    /// The value of one owner from its parts, at most one of them `Some`.
    fn assemble(parts: L::Values) -> Self::Output;
}

/// The preload handle of a polymorphic relation (`Comment::commentable()`):
/// one `belongs_to` per target type, each with its own nested preloads.
///
/// [`preload`](Poly::preload) adds a relation of one of the targets, found
/// by its type: `Comment::commentable().preload(Post::author())` preloads
/// the authors of the comments' posts, and nothing for their photos.
///
/// ```
/// use loader_runtime::{Db, Entity};
///
/// #[derive(Entity)]
/// #[entity(table = "posts")]
/// #[has_many(Comment, as = "commentable")] // the comments whose type is "post"
/// struct Post { id: i64, title: String }
///
/// #[derive(Entity)]
/// #[entity(table = "photos")]
/// struct Photo { id: i64, url: String }
///
/// #[derive(Entity)]
/// #[entity(table = "comments")]
/// #[polymorphic(Post = "post", Photo = "photo", fk = "commentable_id",
///               type_column = "commentable_type", name = "commentable")]
/// struct Comment { id: i64, commentable_type: String, commentable_id: i64 }
///
/// let db = Db::open_in_memory()?;
/// db.execute_batch(
///     "CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT NOT NULL);
///      CREATE TABLE photos (id INTEGER PRIMARY KEY, url TEXT NOT NULL);
///      CREATE TABLE comments (id INTEGER PRIMARY KEY, commentable_type TEXT NOT NULL,
///                             commentable_id INTEGER NOT NULL);
///      INSERT INTO posts VALUES (1, 'Notes');
///      INSERT INTO photos VALUES (1, 'a.png');
///      INSERT INTO comments VALUES (1, 'post', 1), (2, 'photo', 1);",
/// )?;
/// // Comments, then one statement per target type present: 3 in all.
/// let comments = Comment::query().preload(Comment::commentable()).all(&db)?;
/// assert_eq!(db.query_count(), 3);
/// for comment in &comments {
///     match comment.commentable() {
///         Some(CommentCommentable::Post(post)) => assert_eq!(post.title, "Notes"),
///         Some(CommentCommentable::Photo(photo)) => assert_eq!(photo.url, "a.png"),
///         None => unreachable!("every comment here has a target"),
///     }
/// }
/// let posts = Post::query().preload(Post::comments()).all(&db)?;
/// assert_eq!(posts[0].comments().len(), 1); // not the comment on photo 1
/// # Ok::<(), loader_runtime::Error>(())
/// ```
pub struct Poly<M, L> {
    parts: L,
    marker: PhantomData<fn() -> M>,
}

impl<M, L: Clone> Clone for Poly<M, L> {
    fn clone(&self) -> Self {
        Poly {
            parts: self.parts.clone(),
            marker: PhantomData,
        }
    }
}

impl<M, L: std::fmt::Debug> std::fmt::Debug for Poly<M, L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poly").field("parts", &self.parts).finish()
    }
}

impl<M: Polymorphic, L: PreloadList<M::Owner>> Poly<M, L> {
    #[doc(hidden)]
    pub fn new(parts: L) -> Self {
        Poly {
            parts,
            marker: PhantomData,
        }
    }

    /// Also preloads `relation` of the targets of the one type it belongs
    /// to: one more statement, run only if some owner points at that type.
    pub fn preload<W, I>(self, relation: W) -> Poly<M, <L as AddNested<W, I>>::Output>
    where
        L: AddNested<W, I>,
        <L as AddNested<W, I>>::Output: PreloadList<M::Owner>,
    {
        Poly::new(self.parts.add(relation))
    }
}

/// A list of per-type `belongs_to` handles one of which (at position `I`)
/// targets the entity that `W` is a relation of.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{W}` is not a relation of any target of this polymorphic relation",
    label = "none of the targets has this relation",
    note = "`.preload(...)` on a polymorphic relation takes a relation of one of its targets, such as `.preload(Post::author())` when `Post` is a target"
)]
pub trait AddNested<W, I> {
    /// The list with `W` added below its target.
    type Output;
    fn add(self, relation: W) -> Self::Output;
}

#[diagnostic::do_not_recommend]
impl<R, N, T, W> AddNested<W, Here> for (With<R, N>, T)
where
    R: Relation,
    N: PreloadList<R::Target> + Lacks<R::Target, W>,
    W: Preload<R::Target>,
{
    type Output = (With<R, (Checked<W, R::Target>, N)>, T);
    fn add(self, relation: W) -> Self::Output {
        (self.0.preload(relation), self.1)
    }
}

#[diagnostic::do_not_recommend]
impl<H, T, W, I> AddNested<W, There<I>> for (H, T)
where
    T: AddNested<W, I>,
{
    type Output = (H, T::Output);
    fn add(self, relation: W) -> Self::Output {
        (self.0, self.1.add(relation))
    }
}

/// The engine's state for a polymorphic preload: that of its per-type
/// `belongs_to` list.
#[doc(hidden)]
pub struct PolyNode<M: Polymorphic, L: PreloadList<M::Owner>> {
    state: L::State,
    marker: PhantomData<fn() -> M>,
}

impl<M, L> Node<M::Owner> for PolyNode<M, L>
where
    M: Assemble<L>,
    L: PreloadList<M::Owner>,
{
    type Handle = Poly<M, L>;
    type Output = M::Output;

    fn start(handle: &Poly<M, L>) -> Self {
        PolyNode {
            state: handle.parts.start(),
            marker: PhantomData,
        }
    }

    fn step(
        &mut self,
        handle: &Poly<M, L>,
        owners: Owners<'_, M::Owner>,
        io: &mut Io,
    ) -> Result<()> {
        handle.parts.step(&mut self.state, owners, io)
    }

    fn waiting(&self) -> bool {
        L::waiting(&self.state)
    }

    fn finish(
        self,
        handle: &Poly<M, L>,
        owners: &[M::Owner],
    ) -> Result<impl ExactSizeIterator<Item = M::Output> + use<M, L>> {
        if let Some(owner) = owners
            .iter()
            .find(|owner| M::type_of(owner).is_some_and(|name| !M::TYPES.contains(&name)))
        {
            return Err(unknown_type::<M>(owner));
        }
        let parts = handle.parts.finish(self.state, owners)?;
        Ok(parts.map(M::assemble))
    }
}

/// [`Error::UnknownType`] for `owner`, whose type column names no target.
#[doc(hidden)]
pub fn unknown_type<M: Polymorphic>(owner: &M::Owner) -> Error {
    Error::UnknownType {
        entity: <M::Owner as Entity>::META.name,
        relation: M::NAME,
        column: M::TYPE_COLUMN,
        value: M::type_of(owner).unwrap_or_default().to_owned(),
        key: M::describe(owner),
        expected: M::TYPES
            .iter()
            .map(|name| format!("`{name}`"))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// A field that holds a polymorphic relation's type: text, or `NULL` for
/// none.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot hold the type of a polymorphic relation",
    note = "the type column of `#[polymorphic(...)]` must be a `String` or an `Option<String>` field"
)]
pub trait TypeField {
    /// The type named, if any.
    fn type_name(&self) -> Option<&str>;
}

impl TypeField for String {
    fn type_name(&self) -> Option<&str> {
        Some(self)
    }
}

impl TypeField for Option<String> {
    fn type_name(&self) -> Option<&str> {
        self.as_deref()
    }
}

/// A polymorphic relation that `P` preloaded at position `I`: what the
/// derive's accessor (`comment.commentable()`) requires.
#[doc(hidden)]
pub trait HasPoly<M: Polymorphic, I>: PreloadList<M::Owner> {
    /// The per-type `belongs_to` list.
    type Parts: PreloadList<M::Owner>;
    /// The loaded value.
    fn get(values: &Self::Values) -> &<M as Assemble<Self::Parts>>::Output
    where
        M: Assemble<Self::Parts>;
}

#[diagnostic::do_not_recommend]
impl<M, L, T> HasPoly<M, Here> for (Poly<M, L>, T)
where
    M: Assemble<L>,
    L: PreloadList<M::Owner>,
    Poly<M, L>: Preload<M::Owner, Output = M::Output>,
    T: PreloadList<M::Owner>,
{
    type Parts = L;
    fn get(values: &Self::Values) -> &M::Output {
        &values.0
    }
}

#[diagnostic::do_not_recommend]
impl<M, H, T, I> HasPoly<M, There<I>> for (H, T)
where
    M: Polymorphic,
    H: Preload<M::Owner>,
    T: HasPoly<M, I>,
{
    type Parts = T::Parts;
    fn get(values: &Self::Values) -> &<M as Assemble<T::Parts>>::Output
    where
        M: Assemble<T::Parts>,
    {
        T::get(&values.1)
    }
}

/// What the inverse of a polymorphic relation (`#[has_many(Comment, as =
/// "commentable")]` on `Post`) needs: the rows of the owner's type, and
/// each row's key of type `K`.
#[doc(hidden)]
pub struct PolyChild<C, K> {
    /// The qualified type column.
    pub type_column: &'static str,
    /// The owner's type as an SQL string literal, `'post'`.
    pub type_sql: &'static str,
    /// The qualified id column.
    pub fk: &'static str,
    /// ` AND <type column> = 'post'`: what a relation going through this
    /// one adds to its join, so that the type index serves it.
    pub condition: &'static str,
    /// ` FROM (SELECT * FROM <table> WHERE <type> = 'post') AS <table>`.
    pub from: &'static str,
    /// A row's id, typed as the owner's key.
    pub id_of: fn(&C) -> Option<&K>,
}

/// A polymorphic relation one of whose targets is `T`: implemented by the
/// derive for each target.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{T}` is not a target of this polymorphic relation",
    label = "`as` names a polymorphic relation that does not list `{T}`",
    note = "add `{T} = \"...\"` to the `#[polymorphic(...)]` attribute it names"
)]
pub trait PolymorphicTarget<T: crate::entity::Keyed>: Polymorphic {
    /// What `T`'s inverse relation needs.
    const CHILD: PolyChild<Self::Owner, T::Key>;
}

/// The [`PolyChild`] of target `T` of the polymorphic relation whose
/// preload handle is `handle` (`Comment::commentable`): how the derive of
/// `T` finds it by name, a relation the entity lacks being rustc's "no
/// function or associated item named ..." on the `as` literal.
#[doc(hidden)]
pub const fn poly_child<T, M, L>(handle: fn() -> Poly<M, L>) -> PolyChild<M::Owner, T::Key>
where
    T: crate::entity::Keyed,
    M: PolymorphicTarget<T>,
{
    let _ = handle;
    M::CHILD
}

/// `impl Serialize` for a polymorphic relation's enum (with the `serde`
/// feature; nothing without it): each variant serializes as its target, so
/// `"commentable": {"id": 1, "title": ...}`, the type column of the row
/// saying which target it is.
#[cfg(feature = "serde")]
#[doc(hidden)]
#[macro_export]
macro_rules! __serialize_polymorphic {
    ($name:ident { $($variant:ident($param:ident)),* }) => {
        impl<$($param: $crate::__private::serde::Serialize),*> $crate::__private::serde::Serialize
            for $name<$($param),*>
        {
            fn serialize<__S: $crate::__private::serde::Serializer>(
                &self,
                serializer: __S,
            ) -> ::core::result::Result<__S::Ok, __S::Error> {
                match self {
                    $($name::$variant(value) => value.serialize(serializer),)*
                }
            }
        }
    };
}

/// Without the `serde` feature, polymorphic enums are not serializable.
#[cfg(not(feature = "serde"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __serialize_polymorphic {
    ($($tokens:tt)*) => {};
}
