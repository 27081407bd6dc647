//! The typed columns of an entity: a struct with one `Column` per field.
//!
//! Relation code of other entities reads foreign keys through it, so a
//! misspelt `fk` is reported by the compiler on the `fk` literal, with the
//! list of fields that do exist.

use std::collections::HashSet;

use proc_macro2::TokenStream;
use quote::quote;
use syn::Ident;
use syn::ext::IdentExt;

use super::Names;
use super::sql::EntityStatements;
use crate::model::{Entity, Field};

/// The struct definition.
pub fn columns_struct(entity: &Entity<'_>, names: &Names, _: &EntityStatements) -> TokenStream {
    let ident = entity.ident;
    let vis = entity.vis;
    let columns_ident = &names.columns;
    let doc = format!("The columns of `{ident}`, one per field.");
    let fields = members(entity).into_iter().map(|(name, field, alias)| {
        let ty = field.ty;
        let hidden = alias.then(|| quote!(#[doc(hidden)]));
        quote!(#hidden pub #name: ::loader_runtime::__private::Column<#ident, #ty>)
    });
    quote! {
        #[doc = #doc]
        #[allow(non_snake_case)]
        #vis struct #columns_ident {
            #(#fields,)*
        }

        #[automatically_derived]
        impl ::core::clone::Clone for #columns_ident {
            fn clone(&self) -> Self {
                *self
            }
        }

        #[automatically_derived]
        impl ::core::marker::Copy for #columns_ident {}
    }
}

/// The value of `Entity::COLUMNS`.
pub fn column_values(entity: &Entity<'_>, names: &Names, sql: &EntityStatements) -> TokenStream {
    let ident = entity.ident;
    let columns_ident = &names.columns;
    let values = members(entity).into_iter().map(|(name, field, _)| {
        let index = entity
            .fields
            .iter()
            .position(|f| f.ident == field.ident)
            .unwrap_or_default();
        let column = &field.column;
        let qualified = &sql.qualified_columns[index];
        let field_ident = field.ident;
        quote! {
            #name: ::loader_runtime::__private::Column::new(
                #column,
                #qualified,
                |__entity: &#ident| &__entity.#field_ident,
            )
        }
    });
    quote!(#columns_ident { #(#values,)* })
}

/// One member per field, named like the field, plus a hidden alias named
/// like the column where that differs and is a plain identifier, so that
/// `fk = "ArtistId"` works as well as `fk = "artist_id"`.
fn members<'e, 'a>(entity: &'e Entity<'a>) -> Vec<(Ident, &'e Field<'a>, bool)> {
    let mut taken: HashSet<String> = entity
        .fields
        .iter()
        .map(|field| field.ident.unraw().to_string())
        .collect();
    let mut members: Vec<(Ident, &Field<'_>, bool)> = entity
        .fields
        .iter()
        .map(|field| (field.ident.clone(), field, false))
        .collect();
    for field in &entity.fields {
        let plain = syn::parse_str::<Ident>(&field.column).is_ok();
        if plain && taken.insert(field.column.clone()) {
            members.push((Ident::new(&field.column, field.column_span), field, true));
        }
    }
    members
}
