//! What the derive emits next to its errors: a minimal `Entity` impl, so
//! that one mistake in the attributes does not cause follow-on errors
//! wherever the type is used as an entity.

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

pub fn fallback(input: &DeriveInput) -> TokenStream {
    if !input.generics.params.is_empty() {
        return TokenStream::new();
    }
    let ident = &input.ident;
    let name = ident.to_string();
    quote! {
        const _: () = {
            #[automatically_derived]
            impl ::loader_runtime::__private::Entity for #ident {
                type Columns = ();
                type View<__P: ::loader_runtime::__private::PreloadList<Self>> = Self;
                const META: ::loader_runtime::__private::EntityMeta =
                    ::loader_runtime::__private::EntityMeta::placeholder(#name);
                const COLUMNS: () = ();
                fn decode(
                    _: &::loader_runtime::__private::Row<'_>,
                    _: usize,
                ) -> ::core::result::Result<Self, ::loader_runtime::__private::FieldError> {
                    ::core::unreachable!()
                }
                fn into_view<__P: ::loader_runtime::__private::PreloadList<Self>>(
                    self,
                    _: <__P as ::loader_runtime::__private::PreloadList<Self>>::Values,
                ) -> Self {
                    self
                }
                fn view_entity<__P: ::loader_runtime::__private::PreloadList<Self>>(view: &Self) -> &Self {
                    view
                }
                fn view_values<__P: ::loader_runtime::__private::PreloadList<Self>>(
                    _: &Self,
                ) -> &<__P as ::loader_runtime::__private::PreloadList<Self>>::Values {
                    ::core::unreachable!()
                }
                fn view_into_parts<__P: ::loader_runtime::__private::PreloadList<Self>>(
                    _: Self,
                ) -> (Self, <__P as ::loader_runtime::__private::PreloadList<Self>>::Values) {
                    ::core::unreachable!()
                }
            }

            #[automatically_derived]
            impl #ident {
                pub fn all<__X: ::loader_runtime::__private::Executor>(
                    _: __X,
                ) -> <__X as ::loader_runtime::__private::Executor>::Output<::std::vec::Vec<Self>> {
                    ::core::unreachable!()
                }
                pub fn find<__X: ::loader_runtime::__private::Executor>(
                    _: __X,
                    _: &i64,
                ) -> <__X as ::loader_runtime::__private::Executor>::Output<::core::option::Option<Self>> {
                    ::core::unreachable!()
                }
                pub fn query() -> ::loader_runtime::__private::Query<Self> {
                    ::core::unreachable!()
                }
            }
        };
    }
}
