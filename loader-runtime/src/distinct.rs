//! Relation names as types, so that preloading one relation twice at one
//! level is a compile error rather than a statement run twice (or an
//! accessor that cannot tell the two apart).
//!
//! The derive gives each preload handle its name as a type: a list of
//! bytes of eight bits each (`"a"` is
//! `Cons<Byte<B0, B1, B1, B0, B0, B0, B0, B1>, Nil>`). Whether two such lists
//! are equal is computed by [`Same`] from impls over these few
//! constructors, without overlap, so `.preload(...)` can require that the
//! list it extends [`Lacks`] the new handle's name: relations at one level
//! share their owner, and an entity's relation names are unique, so the
//! name identifies the relation there.

use std::marker::PhantomData;

use crate::entity::Entity;
use crate::preload::Preload;

/// The end of a name.
pub struct Nil;
/// A byte `H` followed by the rest of a name `T`.
pub struct Cons<H, T>(PhantomData<(H, T)>);
/// A byte, as its eight bits, most significant first.
#[allow(clippy::type_complexity)]
pub struct Byte<A, B, C, D, E, F, G, H>(PhantomData<(A, B, C, D, E, F, G, H)>);
/// A zero bit.
pub struct B0;
/// A one bit.
pub struct B1;

/// Type-level `true`.
pub struct True;
/// Type-level `false`.
pub struct False;

/// Both `Self` and `B`.
pub trait And<B> {
    /// The conjunction.
    type Out;
}
impl<B> And<B> for True {
    type Out = B;
}
impl<B> And<B> for False {
    type Out = False;
}

/// Whether `Self` and `Other` are the same name (or byte, or bit).
pub trait Same<Other> {
    /// [`True`] or [`False`].
    type Out;
}

impl Same<B0> for B0 {
    type Out = True;
}
impl Same<B1> for B1 {
    type Out = True;
}
impl Same<B1> for B0 {
    type Out = False;
}
impl Same<B0> for B1 {
    type Out = False;
}

/// `<A as Same<B>>::Out`.
type Eq<A, B> = <A as Same<B>>::Out;
/// `<A as And<B>>::Out`.
type Both<A, B> = <A as And<B>>::Out;

impl<A1, B1_, C1, D1, E1, F1, G1, H1, A2, B2, C2, D2, E2, F2, G2, H2>
    Same<Byte<A2, B2, C2, D2, E2, F2, G2, H2>> for Byte<A1, B1_, C1, D1, E1, F1, G1, H1>
where
    A1: Same<A2>,
    B1_: Same<B2>,
    C1: Same<C2>,
    D1: Same<D2>,
    E1: Same<E2>,
    F1: Same<F2>,
    G1: Same<G2>,
    H1: Same<H2>,
    Eq<G1, G2>: And<Eq<H1, H2>>,
    Eq<F1, F2>: And<Both<Eq<G1, G2>, Eq<H1, H2>>>,
    Eq<E1, E2>: And<Both<Eq<F1, F2>, Both<Eq<G1, G2>, Eq<H1, H2>>>>,
    Eq<D1, D2>: And<Both<Eq<E1, E2>, Both<Eq<F1, F2>, Both<Eq<G1, G2>, Eq<H1, H2>>>>>,
    Eq<C1, C2>:
        And<Both<Eq<D1, D2>, Both<Eq<E1, E2>, Both<Eq<F1, F2>, Both<Eq<G1, G2>, Eq<H1, H2>>>>>>,
    Eq<B1_, B2>: And<
        Both<
            Eq<C1, C2>,
            Both<Eq<D1, D2>, Both<Eq<E1, E2>, Both<Eq<F1, F2>, Both<Eq<G1, G2>, Eq<H1, H2>>>>>,
        >,
    >,
    Eq<A1, A2>: And<
        Both<
            Eq<B1_, B2>,
            Both<
                Eq<C1, C2>,
                Both<Eq<D1, D2>, Both<Eq<E1, E2>, Both<Eq<F1, F2>, Both<Eq<G1, G2>, Eq<H1, H2>>>>>,
            >,
        >,
    >,
{
    type Out = Both<
        Eq<A1, A2>,
        Both<
            Eq<B1_, B2>,
            Both<
                Eq<C1, C2>,
                Both<Eq<D1, D2>, Both<Eq<E1, E2>, Both<Eq<F1, F2>, Both<Eq<G1, G2>, Eq<H1, H2>>>>>,
            >,
        >,
    >;
}

impl Same<Nil> for Nil {
    type Out = True;
}
impl<H, T> Same<Cons<H, T>> for Nil {
    type Out = False;
}
impl<H, T> Same<Nil> for Cons<H, T> {
    type Out = False;
}
impl<H1, T1, H2, T2> Same<Cons<H2, T2>> for Cons<H1, T1>
where
    H1: Same<H2>,
    T1: Same<T2>,
    Eq<H1, H2>: And<Eq<T1, T2>>,
{
    type Out = Both<Eq<H1, H2>, Eq<T1, T2>>;
}

/// A preload list of `E` that does not hold a relation named like `W`.
#[diagnostic::on_unimplemented(
    message = "`{W}` is already preloaded at this level",
    label = "preloaded a second time here",
    note = "one relation is preloaded once per level: put its filter, order, limit and nested preloads on one `.preload(...)`",
    note = "to load the same target twice with different scopes, declare a second relation to it with its own `name = \"...\"` and preload that"
)]
pub trait Lacks<E: Entity, W> {}

#[diagnostic::do_not_recommend]
impl<E: Entity, W> Lacks<E, W> for () {}

#[diagnostic::do_not_recommend]
impl<E, W, H, T> Lacks<E, W> for (H, T)
where
    E: Entity,
    W: Preload<E>,
    H: Preload<E>,
    H::Name: Same<W::Name, Out = False>,
    T: Lacks<E, W>,
{
}
