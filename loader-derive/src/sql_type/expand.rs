//! The `Field` and `ToValue` impls of a `#[derive(SqlType)]` type.

use proc_macro2::TokenStream;
use quote::quote;

use super::model::{Shape, SqlType};

pub fn expand(model: &SqlType<'_>) -> TokenStream {
    let ident = model.ident;
    let (impl_generics, ty_generics, where_clause) = model.generics.split_for_impl();
    let (read, bind) = match &model.shape {
        Shape::Newtype { member, ty } => newtype(ident, member, ty),
        Shape::Text(labels) => text(ident, labels),
        Shape::Integer(variants) => integer(ident, variants),
    };
    quote! {
        #[automatically_derived]
        impl #impl_generics ::loader_runtime::__private::Field for #ident #ty_generics #where_clause {
            #read
        }

        #[automatically_derived]
        impl #impl_generics ::loader_runtime::__private::ToValue for #ident #ty_generics #where_clause {
            fn to_value(&self) -> ::loader_runtime::__private::Value {
                #bind
            }
        }
    }
}

/// `from_sqlite` and `from_postgres`, each reading a `#inner` and turning
/// it into `Self` with `#convert`.
fn reads(inner: TokenStream, convert: TokenStream) -> TokenStream {
    quote! {
        fn from_sqlite(
            value: ::loader_runtime::__private::SqliteValue<'_>,
        ) -> ::core::result::Result<Self, ::loader_runtime::__private::BoxError> {
            let convert = #convert;
            convert(<#inner as ::loader_runtime::__private::Field>::from_sqlite(value)?)
        }

        fn from_postgres(
            value: ::loader_runtime::__private::PgValue<'_>,
        ) -> ::core::result::Result<Self, ::loader_runtime::__private::BoxError> {
            let convert = #convert;
            convert(<#inner as ::loader_runtime::__private::Field>::from_postgres(value)?)
        }
    }
}

fn newtype(ident: &syn::Ident, member: &syn::Member, ty: &syn::Type) -> (TokenStream, TokenStream) {
    let construct = match member {
        syn::Member::Named(name) => quote!(#ident { #name: inner }),
        syn::Member::Unnamed(_) => quote!(#ident(inner)),
    };
    let read = reads(
        quote!(#ty),
        quote!(|inner: #ty| ::core::result::Result::<Self, ::loader_runtime::__private::BoxError>::Ok(#construct)),
    );
    let bind = quote!(::loader_runtime::__private::ToValue::to_value(&self.#member));
    (read, bind)
}

fn text(ident: &syn::Ident, labels: &[(&syn::Ident, String)]) -> (TokenStream, TokenStream) {
    let name = ident.to_string();
    let variants: Vec<_> = labels.iter().map(|(variant, _)| variant).collect();
    let strings: Vec<_> = labels.iter().map(|(_, label)| label).collect();
    let read = reads(
        quote!(::std::string::String),
        quote! {
            |label: ::std::string::String| match label.as_str() {
                #(#strings => ::core::result::Result::Ok(Self::#variants),)*
                _ => ::core::result::Result::Err(
                    ::loader_runtime::__private::unknown_label(#name, &label, &[#(#strings),*]),
                ),
            }
        },
    );
    let bind = quote! {
        ::loader_runtime::__private::Value::Text(::std::string::String::from(match self {
            #(Self::#variants => #strings,)*
        }))
    };
    (read, bind)
}

fn integer(ident: &syn::Ident, variants: &[&syn::Ident]) -> (TokenStream, TokenStream) {
    let name = ident.to_string();
    let read = reads(
        quote!(i64),
        quote! {
            |number: i64| {
                #(if number == Self::#variants as i64 {
                    return ::core::result::Result::Ok(Self::#variants);
                })*
                ::core::result::Result::Err(
                    ::loader_runtime::__private::unknown_number(#name, number, &[#(Self::#variants as i64),*]),
                )
            }
        },
    );
    let bind = quote! {
        ::loader_runtime::__private::Value::Int(match self {
            #(Self::#variants => Self::#variants as i64,)*
        })
    };
    (read, bind)
}
