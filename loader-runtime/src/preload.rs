//! The preload tree: which relations a query loads, as a type.
//!
//! `User::query().preload(User::posts().preload(Post::comments()))` builds a
//! value whose type lists the relations, `(With<posts, (With<comments>, ())>, ())`.
//! That type decides what the loaded values hold and which accessors compile.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;

use crate::diagnostics::Usage;
pub use crate::distinct::Lacks;
use crate::engine::{Io, Owners};
use crate::entity::{Entity, Keyed};
use crate::error::Result;
use crate::relation::{Counted, Relation, Scoped};
use crate::scope::{Expr, OrderBy, Scope};

/// A relation to preload, with the relations to preload below it.
///
/// Made by the relation handles the derive generates (`User::posts()`);
/// nest with [`With::preload`].
pub struct With<R: Relation, N = ()> {
    nested: N,
    scope: Scope<R::Target>,
}

impl<R: Relation> With<R, ()> {
    #[doc(hidden)]
    #[track_caller]
    pub fn new() -> Self {
        With {
            nested: (),
            scope: Scope::written_at(std::panic::Location::caller()),
        }
    }

    /// Counts each owner's targets instead of loading them: one
    /// `GROUP BY` statement, read with `value.<relation>_count()`. Honours
    /// [`filter`](With::filter).
    pub fn count(self) -> Count<<R as Countable>::Relation>
    where
        R: Counted,
    {
        Count { scope: self.scope }
    }
}

impl<R: Relation, N: PreloadList<R::Target>> With<R, N> {
    /// The relations preloaded below this one.
    #[doc(hidden)]
    pub fn nested(&self) -> &N {
        &self.nested
    }

    /// How the targets are narrowed.
    #[doc(hidden)]
    pub fn scope(&self) -> &Scope<R::Target> {
        &self.scope
    }

    /// The tracker of whether the loaded values are read, if wanted.
    pub(crate) fn usage(&self, track: bool) -> Option<Arc<Usage>> {
        crate::monitor::usage(
            track,
            <R::Owner as Entity>::META.name,
            R::NAME,
            self.scope.site,
        )
    }

    /// Also preloads `relation` of each loaded target, one more query in all.
    pub fn preload<W: Preload<R::Target>>(self, relation: W) -> With<R, (Checked<W, R::Target>, N)>
    where
        N: Lacks<R::Target, W>,
    {
        With {
            nested: (relation, self.nested),
            scope: self.scope,
        }
    }

    /// Keeps the targets that match `condition`, built from the target's
    /// columns: `User::posts().filter(|post| post.published.eq(true))`.
    /// Several filters must all match. Still one statement.
    pub fn filter(
        mut self,
        condition: impl FnOnce(&<R::Target as Entity>::Columns) -> Expr<R::Target>,
    ) -> Self
    where
        R: Scoped,
    {
        self.scope
            .add_filter(condition(&<R::Target as Entity>::COLUMNS));
        self
    }

    /// Orders each owner's targets: `User::posts().order_by(|p| p.created_at.desc())`.
    /// Later calls break ties of earlier ones; the primary key breaks the
    /// last ties.
    pub fn order_by(
        mut self,
        order: impl FnOnce(&<R::Target as Entity>::Columns) -> OrderBy<R::Target>,
    ) -> Self
    where
        R: Scoped,
    {
        self.scope.add_order(order(&<R::Target as Entity>::COLUMNS));
        self
    }

    /// Keeps the first `limit` targets of each owner, in the order given by
    /// [`order_by`](With::order_by): one statement with `ROW_NUMBER() OVER
    /// (PARTITION BY ...)`, never "load all, then truncate".
    pub fn limit_per_parent(mut self, limit: impl crate::scope::RowCount) -> Self
    where
        R: Scoped,
    {
        self.scope.per_owner = Some(limit.rows());
        self
    }

    /// Skips the first `offset` targets of each owner, in the order given by
    /// [`order_by`](With::order_by): with
    /// [`limit_per_parent`](With::limit_per_parent), page `k` of every
    /// owner's targets in one statement
    /// (`.limit_per_parent(10).offset_per_parent(10 * k)`).
    pub fn offset_per_parent(mut self, offset: impl crate::scope::RowCount) -> Self
    where
        R: Scoped,
    {
        self.scope.per_owner_offset = Some(offset.rows());
        self
    }

    /// Keyset pagination: keeps the targets that come after the target
    /// whose primary key is `key`, in the order given by
    /// [`order_by`](With::order_by) (then by primary key), each column
    /// compared as the database orders it. With
    /// [`limit_per_parent`](With::limit_per_parent), "the next `n` after
    /// this one" in one statement: `Post::comments().order_by(|c|
    /// c.created_at.desc()).after(&last_seen).limit_per_parent(20)`. The
    /// statement reads the cursor row's values itself, so the key is all a
    /// client keeps; a key whose row no longer exists keeps no target.
    ///
    /// ```
    /// use loader_runtime::{Db, Entity};
    ///
    /// #[derive(Entity)]
    /// #[entity(table = "posts")]
    /// #[has_many(Comment, fk = "post_id")]
    /// struct Post { id: i64 }
    ///
    /// #[derive(Entity)]
    /// #[entity(table = "comments")]
    /// struct Comment { id: i64, post_id: i64, score: i64 }
    ///
    /// let db = Db::open_in_memory()?;
    /// db.execute_batch(
    ///     "CREATE TABLE posts (id INTEGER PRIMARY KEY);
    ///      CREATE TABLE comments (id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL, score INTEGER NOT NULL);
    ///      INSERT INTO posts VALUES (1);
    ///      INSERT INTO comments VALUES (10, 1, 5), (11, 1, 9), (12, 1, 5), (13, 1, 1);",
    /// )?;
    /// let best = || Post::comments().order_by(|c| c.score.desc());
    /// let page = Post::query().preload(best().limit_per_parent(2)).all(&db)?;
    /// let ids: Vec<i64> = page[0].comments().iter().map(|c| c.id).collect();
    /// assert_eq!(ids, [11, 10]);
    /// // The next page: after the last comment seen (ties broken by key).
    /// let page = Post::query().preload(best().after(&10).limit_per_parent(2)).all(&db)?;
    /// let ids: Vec<i64> = page[0].comments().iter().map(|c| c.id).collect();
    /// assert_eq!(ids, [12, 13]);
    /// # Ok::<(), loader_runtime::Error>(())
    /// ```
    pub fn after(mut self, key: &<R::Target as Keyed>::Key) -> Self
    where
        R: Scoped,
        R::Target: Keyed,
    {
        self.scope.after = Some(crate::types::ToValue::to_value(key));
        self
    }
}

impl<R: Relation, N: Clone> Clone for With<R, N> {
    fn clone(&self) -> Self {
        With {
            nested: self.nested.clone(),
            scope: self.scope.clone(),
        }
    }
}

impl<R: Relation, N: fmt::Debug> fmt::Debug for With<R, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("With")
            .field("relation", &R::NAME)
            .field("scope", &self.scope)
            .field("nested", &self.nested)
            .finish()
    }
}

/// Preloads how many targets of relation `R` each owner has (made by
/// [`With::count`]).
pub struct Count<R: Relation> {
    scope: Scope<R::Target>,
}

impl<R: Relation> Count<R> {
    /// How the counted targets are narrowed.
    #[doc(hidden)]
    pub fn scope(&self) -> &Scope<R::Target> {
        &self.scope
    }
}

impl<R: Relation> Clone for Count<R> {
    fn clone(&self) -> Self {
        Count {
            scope: self.scope.clone(),
        }
    }
}

impl<R: Relation> fmt::Debug for Count<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Count")
            .field("relation", &R::NAME)
            .field("scope", &self.scope)
            .finish()
    }
}

/// A preload list that counts relation `R` at position `I`.
pub trait HasCount<R: Relation, I>: PreloadList<R::Owner> {
    /// The count of one owner.
    fn get(values: &Self::Values) -> usize;
}

impl<R, T> HasCount<R, Here> for (Count<R>, T)
where
    R: Relation,
    Count<R>: Preload<R::Owner, Output = usize>,
    T: PreloadList<R::Owner>,
{
    fn get(values: &Self::Values) -> usize {
        values.0
    }
}

impl<R, H, T, I> HasCount<R, There<I>> for (H, T)
where
    R: Relation,
    H: Preload<R::Owner>,
    T: HasCount<R, I>,
{
    fn get(values: &Self::Values) -> usize {
        T::get(&values.1)
    }
}

/// Something that can be preloaded for every entity `E` a query returns.
///
/// The derive implements it for the handle of each relation of `E`
/// (`With<posts, N>` for `User`), so preloading a relation of another
/// entity is a compile error that says so.
#[diagnostic::on_unimplemented(
    message = "this relation cannot be preloaded on `{E}`",
    label = "not a relation of `{E}`",
    note = "`.preload(...)` takes a relation of the entity being loaded, such as `{E}::<relation>()`",
    note = "to load a relation of a related entity, nest it: `.preload({E}::<relation>().preload(Other::<relation>()))`"
)]
pub trait Preload<E: Entity>: Clone + Send + Sync + 'static {
    /// What one entity holds once this relation is loaded for it.
    type Output: Send + Sync;
    /// The relation's name, for `Debug` output.
    const NAME: &'static str;
    /// The same name as a type (see `distinct`), so that preloading it
    /// twice at one level does not compile.
    #[doc(hidden)]
    type Name;
    /// The engine's state while it loads this relation.
    #[doc(hidden)]
    type Node: Node<E, Handle = Self, Output = Self::Output>;
}

/// `R` itself, once it is known to be countable: the relation of the
/// [`Count`] that [`With::count`] returns, so that counting a `belongs_to`
/// is one error, not also a failed `.preload(...)` after it.
#[doc(hidden)]
pub trait Countable {
    type Relation;
}

impl<R: Counted> Countable for R {
    type Relation = R;
}

/// `W` itself, once it is known to be a relation of `E`: what the
/// `preload` methods return in their types. When `W` is not (a relation of
/// another entity, or of the wrong level), the one error says so, and the
/// calls that follow (`.all(&db)`) are not reported as well.
pub type Checked<W, E> = <<W as Preload<E>>::Node as Node<E>>::Handle;

/// The engine's state for one preloaded relation while its statement is
/// planned, sent and read (see the `engine` module): one per relation kind.
#[doc(hidden)]
pub trait Node<E: Entity>: Send + Sized {
    /// The preload handle that describes the relation, its scope and the
    /// nested preloads.
    type Handle;
    /// What one owner holds.
    type Output;
    /// Nothing planned yet.
    fn start(handle: &Self::Handle) -> Self;
    /// Takes this relation's rows if they arrived in the last wave, then
    /// plans whatever statements of this relation and below it can be sent.
    fn step(&mut self, handle: &Self::Handle, owners: Owners<'_, E>, io: &mut Io) -> Result<()>;
    /// Whether a statement of this relation or below it is still to be
    /// planned.
    fn waiting(&self) -> bool;
    /// The loaded value of every owner, in the owners' order, one for each:
    /// made as they are taken, so that no vector of them is built between
    /// the rows and their `Loaded` (the iterator holds no borrow of the
    /// owners, which are moved into their `Loaded` as it runs).
    fn finish(
        self,
        handle: &Self::Handle,
        owners: &[E],
    ) -> Result<impl ExactSizeIterator<Item = Self::Output> + use<Self, E>>;
}

/// A list of preloads for entity `E`: `()` or `(Preload, PreloadList)`.
pub trait PreloadList<E: Entity>: Clone + Send + Sync + 'static {
    /// What one entity holds for the whole list.
    type Values: Send + Sync;
    /// How many relations the list holds at this level.
    const LEN: usize;
    /// The engine's state for every relation of the list.
    #[doc(hidden)]
    type State: Send;
    #[doc(hidden)]
    fn start(&self) -> Self::State;
    #[doc(hidden)]
    fn step(&self, state: &mut Self::State, owners: Owners<'_, E>, io: &mut Io) -> Result<()>;
    #[doc(hidden)]
    fn waiting(state: &Self::State) -> bool;
    /// Every owner's values, in the owners' order, one for each (see
    /// [`Node::finish`]).
    #[doc(hidden)]
    fn finish(
        &self,
        state: Self::State,
        owners: &[E],
    ) -> Result<impl ExactSizeIterator<Item = Self::Values> + use<Self, E>>;
}

/// Formats the values of a preload list as named fields.
#[doc(hidden)]
pub trait DebugValues<E: Entity>: PreloadList<E> {
    fn debug_values(values: &Self::Values, out: &mut fmt::DebugStruct<'_, '_>);
}

impl<E: Entity> DebugValues<E> for () {
    fn debug_values(_: &(), _: &mut fmt::DebugStruct<'_, '_>) {}
}

impl<E: Entity, W: Preload<E>, T: DebugValues<E>> DebugValues<E> for (W, T)
where
    W::Output: fmt::Debug,
{
    fn debug_values(values: &Self::Values, out: &mut fmt::DebugStruct<'_, '_>) {
        T::debug_values(&values.1, out);
        out.field(W::NAME, &values.0);
    }
}

impl<E: Entity> PreloadList<E> for () {
    type Values = ();
    const LEN: usize = 0;
    type State = ();

    fn start(&self) {}

    fn step(&self, _: &mut (), _: Owners<'_, E>, _: &mut Io) -> Result<()> {
        Ok(())
    }

    fn waiting(_: &()) -> bool {
        false
    }

    fn finish(&self, _: (), owners: &[E]) -> Result<impl ExactSizeIterator<Item = ()> + use<E>> {
        Ok(std::iter::repeat_n((), owners.len()))
    }
}

impl<E: Entity, W: Preload<E>, T: PreloadList<E>> PreloadList<E> for (W, T) {
    type Values = (W::Output, T::Values);
    const LEN: usize = 1 + T::LEN;
    type State = (W::Node, T::State);

    fn start(&self) -> Self::State {
        (W::Node::start(&self.0), self.1.start())
    }

    fn step(&self, state: &mut Self::State, owners: Owners<'_, E>, io: &mut Io) -> Result<()> {
        // The list is built newest first; plan the tail first so that the
        // statements go out in the order the preloads were written.
        self.1.step(&mut state.1, owners, io)?;
        state.0.step(&self.0, owners, io)
    }

    fn waiting(state: &Self::State) -> bool {
        state.0.waiting() || T::waiting(&state.1)
    }

    fn finish(
        &self,
        state: Self::State,
        owners: &[E],
    ) -> Result<impl ExactSizeIterator<Item = Self::Values> + use<E, W, T>> {
        let tail = self.1.finish(state.1, owners)?;
        let head = state.0.finish(&self.0, owners)?;
        Ok(head.zip(tail))
    }
}

/// Type-level position of a relation in a preload list (found by inference).
#[doc(hidden)]
pub struct Here;
/// Type-level position of a relation in a preload list (found by inference).
#[doc(hidden)]
pub struct There<I>(PhantomData<I>);

/// A preload list that contains relation `R` at position `I`.
///
/// The derive's accessors (`user.posts()`) require it, through a trait per
/// relation whose error message names the relation and the preload to add.
#[diagnostic::on_unimplemented(
    message = "relation `{R}` was not preloaded here",
    label = "`{R}` is not among the relations preloaded for this value",
    note = "this value's preloads are `{Self}`: add `.preload(...)` of the relation to the query that loaded it, or to the nested preload it comes from"
)]
pub trait Has<R: Relation, I>: PreloadList<R::Owner> {
    /// The relations preloaded below `R`.
    type Nested: PreloadList<R::Target>;
    /// The loaded value of `R`.
    fn get(values: &Self::Values) -> &R::Output<Self::Nested>;
}

// Neither impl is shown in errors: a missing relation is reported by the
// accessor's own trait, naming the relation, wherever it is missing in the
// list (not as `(): Has<..>` when a sibling was preloaded).
#[diagnostic::do_not_recommend]
impl<R, N, T> Has<R, Here> for (With<R, N>, T)
where
    R: Relation,
    N: PreloadList<R::Target>,
    With<R, N>: Preload<R::Owner, Output = R::Output<N>>,
    T: PreloadList<R::Owner>,
{
    type Nested = N;
    fn get(values: &Self::Values) -> &R::Output<N> {
        &values.0
    }
}

#[diagnostic::do_not_recommend]
impl<R, H, T, I> Has<R, There<I>> for (H, T)
where
    R: Relation,
    H: Preload<R::Owner>,
    T: Has<R, I>,
{
    type Nested = T::Nested;
    fn get(values: &Self::Values) -> &R::Output<T::Nested> {
        T::get(&values.1)
    }
}

/// The preloaded children of one parent: a slice of one shared buffer that
/// holds the children of every parent of the query, so a preload allocates
/// once per level, not once per parent.
pub struct Many<T> {
    all: Arc<Vec<T>>,
    start: usize,
    end: usize,
    usage: Option<Arc<Usage>>,
}

impl<T> Many<T> {
    pub(crate) fn new(
        all: Arc<Vec<T>>,
        start: usize,
        end: usize,
        usage: Option<Arc<Usage>>,
    ) -> Self {
        Many {
            all,
            start,
            end,
            usage,
        }
    }

    /// The children, in the relation's order.
    pub fn as_slice(&self) -> &[T] {
        mark_read(&self.usage);
        &self.all[self.start..self.end]
    }
}

fn mark_read(usage: &Option<Arc<Usage>>) {
    if let Some(usage) = usage {
        usage.mark_read();
    }
}

impl<T> Deref for Many<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T> Clone for Many<T> {
    fn clone(&self) -> Self {
        Many {
            all: Arc::clone(&self.all),
            start: self.start,
            end: self.end,
            usage: self.usage.clone(),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Many<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(&self.all[self.start..self.end])
            .finish()
    }
}

/// One preloaded related entity, shared by every row that refers to it.
pub struct One<T> {
    all: Arc<Vec<T>>,
    index: usize,
    usage: Option<Arc<Usage>>,
}

impl<T> One<T> {
    pub(crate) fn new(all: Arc<Vec<T>>, index: usize, usage: Option<Arc<Usage>>) -> Self {
        One { all, index, usage }
    }

    /// The related entity.
    pub fn get(&self) -> &T {
        mark_read(&self.usage);
        &self.all[self.index]
    }
}

impl<T> Deref for One<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.get()
    }
}

impl<T> Clone for One<T> {
    fn clone(&self) -> Self {
        One {
            all: Arc::clone(&self.all),
            index: self.index,
            usage: self.usage.clone(),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for One<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.all[self.index].fmt(f)
    }
}

/// The preloaded targets of one owner of a `many_to_many`: positions into
/// one shared buffer in which each distinct target appears once, however
/// many owners it belongs to.
pub struct ManyShared<T> {
    all: Arc<Vec<T>>,
    order: Arc<Vec<usize>>,
    start: usize,
    end: usize,
    usage: Option<Arc<Usage>>,
}

impl<T> ManyShared<T> {
    pub(crate) fn new(
        all: Arc<Vec<T>>,
        order: Arc<Vec<usize>>,
        start: usize,
        end: usize,
        usage: Option<Arc<Usage>>,
    ) -> Self {
        ManyShared {
            all,
            order,
            start,
            end,
            usage,
        }
    }

    /// The targets, in the relation's order.
    pub fn as_related(&self) -> Related<'_, T> {
        mark_read(&self.usage);
        self.related()
    }

    fn related(&self) -> Related<'_, T> {
        Related {
            all: &self.all,
            order: &self.order[self.start..self.end],
        }
    }
}

impl<T> Clone for ManyShared<T> {
    fn clone(&self) -> Self {
        ManyShared {
            all: Arc::clone(&self.all),
            order: Arc::clone(&self.order),
            start: self.start,
            end: self.end,
            usage: self.usage.clone(),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for ManyShared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.related().fmt(f)
    }
}

/// A list of related entities shared with other owners, as a
/// `many_to_many` accessor returns it: like a slice of `&T`.
///
/// ```
/// # use loader_runtime::{Db, Entity};
/// # #[derive(Entity)] #[entity(table = "posts")]
/// # #[many_to_many(Tag, through = "post_tags", fk = "post_id", target_fk = "tag_id")]
/// # struct Post { id: i64 }
/// # #[derive(Entity)] #[entity(table = "tags")] struct Tag { id: i64, name: String }
/// # let db = Db::open_in_memory()?;
/// # db.execute_batch("CREATE TABLE posts (id INTEGER PRIMARY KEY);
/// #   CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
/// #   CREATE TABLE post_tags (post_id INTEGER, tag_id INTEGER);
/// #   INSERT INTO posts VALUES (1); INSERT INTO tags VALUES (1, 'rust'), (2, 'sql');
/// #   INSERT INTO post_tags VALUES (1, 2), (1, 1);")?;
/// let posts = Post::query().preload(Post::tags()).all(&db)?;
/// let tags = posts[0].tags();
/// assert_eq!(tags.len(), 2);
/// assert_eq!(tags[0].name, "rust");
/// let names: Vec<&str> = tags.iter().map(|tag| tag.name.as_str()).collect();
/// assert_eq!(names, ["rust", "sql"]);
/// # Ok::<(), loader_runtime::Error>(())
/// ```
pub struct Related<'a, T> {
    all: &'a [T],
    order: &'a [usize],
}

impl<'a, T> Related<'a, T> {
    /// How many related entities there are.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The entity at `index`, if any.
    pub fn get(&self, index: usize) -> Option<&'a T> {
        self.order.get(index).map(|&at| &self.all[at])
    }

    /// The first one, if any.
    pub fn first(&self) -> Option<&'a T> {
        self.get(0)
    }

    /// The last one, if any.
    pub fn last(&self) -> Option<&'a T> {
        self.order.last().map(|&at| &self.all[at])
    }

    /// The related entities, in order.
    pub fn iter(&self) -> RelatedIter<'a, T> {
        RelatedIter {
            all: self.all,
            order: self.order.iter(),
        }
    }
}

impl<T> Clone for Related<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Related<'_, T> {}

impl<T> std::ops::Index<usize> for Related<'_, T> {
    type Output = T;
    fn index(&self, index: usize) -> &T {
        &self.all[self.order[index]]
    }
}

impl<'a, T> IntoIterator for Related<'a, T> {
    type Item = &'a T;
    type IntoIter = RelatedIter<'a, T>;
    fn into_iter(self) -> RelatedIter<'a, T> {
        self.iter()
    }
}

impl<'a, T> IntoIterator for &Related<'a, T> {
    type Item = &'a T;
    type IntoIter = RelatedIter<'a, T>;
    fn into_iter(self) -> RelatedIter<'a, T> {
        self.iter()
    }
}

impl<T: fmt::Debug> fmt::Debug for Related<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Iterator over a [`Related`] list.
pub struct RelatedIter<'a, T> {
    all: &'a [T],
    order: std::slice::Iter<'a, usize>,
}

impl<'a, T> Iterator for RelatedIter<'a, T> {
    type Item = &'a T;
    fn next(&mut self) -> Option<&'a T> {
        self.order.next().map(|&at| &self.all[at])
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.order.size_hint()
    }
}

impl<T> DoubleEndedIterator for RelatedIter<'_, T> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.order.next_back().map(|&at| &self.all[at])
    }
}

impl<T> ExactSizeIterator for RelatedIter<'_, T> {}
