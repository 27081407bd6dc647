//! The value behind `Loaded<X, P>`: the entity plus its preloaded relations.
//! Relation accessors are added to it per relation (see `relations.rs`).

use proc_macro2::TokenStream;
use quote::quote;

use super::Names;
use crate::model::Entity;

pub fn view(entity: &Entity<'_>, names: &Names) -> TokenStream {
    let ident = entity.ident;
    let vis = entity.vis;
    let view = &names.view;
    let doc = format!(
        "A `{ident}` with the relations `P` preloaded; reached through `Loaded<{ident}, P>`."
    );
    quote! {
        #[doc = #doc]
        #vis struct #view<__P: ::loader_runtime::__private::PreloadList<#ident>> {
            entity: #ident,
            values: <__P as ::loader_runtime::__private::PreloadList<#ident>>::Values,
        }

        #[automatically_derived]
        impl<__P: ::loader_runtime::__private::PreloadList<#ident>> ::core::ops::Deref for #view<__P> {
            type Target = #ident;
            fn deref(&self) -> &#ident {
                &self.entity
            }
        }
    }
}
