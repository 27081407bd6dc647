//! Code generation from a validated model: one file per generated concern.

mod columns;
mod entity;
mod polymorphic;
mod relations;
mod sql;
mod through;
mod view;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::DeriveInput;

use crate::ctxt::Ctxt;
use crate::model::Entity;
use crate::{attr, check, fallback};

/// Expands `#[derive(Entity)]` on `input`.
pub fn derive(input: &DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let entity = attr::parse(&cx, input);
    if let Some(entity) = &entity {
        check::check(&cx, entity);
    }
    match (cx.check(), entity) {
        (Ok(()), Some(entity)) => generate(&entity, true),
        // The struct itself is sound and only relations are wrong: emit the
        // entity without its relations, so that other entities' references
        // to its columns are still checked and its uses are not reported.
        (Err(errors), Some(entity)) if input.generics.params.is_empty() => {
            let errors = errors.to_compile_error();
            let entity = generate(&entity, false);
            quote!(#errors #entity)
        }
        (Err(errors), _) => {
            let fallback = fallback::fallback(input);
            let errors = errors.to_compile_error();
            quote!(#errors #fallback)
        }
        (Ok(()), None) => {
            syn::Error::new_spanned(&input.ident, "cannot derive `Entity` here").to_compile_error()
        }
    }
}

/// Names of the generated helper types. They live in an anonymous `const`
/// block, so they cannot clash with the user's items outside it; they are
/// named for what they are because they show in compiler messages.
struct Names {
    columns: syn::Ident,
    view: syn::Ident,
}

fn generate(entity: &Entity<'_>, with_relations: bool) -> TokenStream {
    let names = Names {
        columns: format_ident!("{}Columns", entity.ident),
        view: format_ident!("{}View", entity.ident),
    };
    let statements = sql::entity_statements(entity);
    let entity_impl = entity::entity_impl(entity, &names, &statements);
    let keyed = entity::keyed_impl(entity);
    let inherent = entity::inherent_impl(entity);
    let columns = columns::columns_struct(entity, &names, &statements);
    let view = view::view(entity, &names);
    let relations = entity
        .relations
        .iter()
        .filter(|_| with_relations)
        .map(|relation| relations::relation(entity, relation, &names));
    let markers = entity
        .relations
        .iter()
        .filter(|_| with_relations)
        .map(|relation| relations::marker_type(entity, relation));
    let polymorphic_types = entity
        .polymorphic
        .iter()
        .filter(|_| with_relations)
        .map(|poly| polymorphic::types(entity, poly));
    let polymorphic = entity
        .polymorphic
        .iter()
        .filter(|_| with_relations)
        .map(|poly| polymorphic::polymorphic(entity, poly, &names));
    quote! {
        #(#markers)*
        #(#polymorphic_types)*

        const _: () = {
            #entity_impl
            #keyed
            #inherent
            #columns
            #view
            #(#relations)*
            #(#polymorphic)*
        };
    }
}
