//! `impl Entity for X` and the inherent functions every entity gets.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::Names;
use super::sql::EntityStatements;
use crate::model::Entity;

pub fn entity_impl(entity: &Entity<'_>, names: &Names, sql: &EntityStatements) -> TokenStream {
    let ident = entity.ident;
    let name = ident.to_string();
    let table = &entity.table;
    let columns = entity.fields.iter().map(|field| &field.column);
    let primary_key = &entity.primary_key;
    let columns_ident = &names.columns;
    let view = &names.view;
    let EntityStatements {
        table: table_sql,
        column_list,
        primary_key: pk_sql,
        select_all,
        select_by_key,
        select_by_keys,
        ..
    } = sql;
    let column_values = super::columns::column_values(entity, names, sql);
    let from_sql = format!(" FROM {table_sql}");
    let dialects = |sql: &super::sql::Dialects| {
        let (sqlite, postgres) = (&sql.sqlite, &sql.postgres);
        quote!(::loader_runtime::__private::Sql { sqlite: #sqlite, postgres: #postgres })
    };
    let select_by_key = dialects(select_by_key);
    let select_by_keys = dialects(select_by_keys);
    let single_key = entity.single_key().map(|pk| pk.ident);
    let decode_fields = entity.fields.iter().enumerate().map(|(index, field)| {
        let field_ident = field.ident;
        let ty = field.ty;
        if single_key == Some(field.ident) {
            // Through `Keyed::Key`, which already reports a type that
            // cannot be a key (or read) at this field.
            return quote_spanned! {ty.span()=>
                #field_ident: ::loader_runtime::__private::key_field::<Self>(__row, __offset + #index)?
            };
        }
        quote_spanned! {ty.span()=>
            #field_ident: __row.get::<#ty>(__offset + #index)?
        }
    });
    quote! {
        #[automatically_derived]
        // Not listed under "the trait is implemented for ..." when another
        // type lacks it: in a crate of many entities, a screenful.
        #[diagnostic::do_not_recommend]
        impl ::loader_runtime::__private::Entity for #ident {
            type Columns = #columns_ident;
            type View<__P: ::loader_runtime::__private::PreloadList<Self>> = #view<__P>;

            const META: ::loader_runtime::__private::EntityMeta =
                ::loader_runtime::__private::EntityMeta {
                    name: #name,
                    table: #table,
                    columns: &[#(#columns),*],
                    primary_key: &[#(#primary_key),*],
                    sql: ::loader_runtime::__private::EntitySql {
                        table: #table_sql,
                        from: #from_sql,
                        column_list: #column_list,
                        primary_key: #pk_sql,
                        select_all: ::loader_runtime::__private::Sql::both(#select_all),
                        select_by_key: #select_by_key,
                        select_by_keys: #select_by_keys,
                    },
                };
            const COLUMNS: #columns_ident = #column_values;

            fn decode(
                __row: &::loader_runtime::__private::Row<'_>,
                __offset: usize,
            ) -> ::core::result::Result<Self, ::loader_runtime::__private::FieldError> {
                ::core::result::Result::Ok(#ident {
                    #(#decode_fields,)*
                })
            }

            fn into_view<__P: ::loader_runtime::__private::PreloadList<Self>>(
                self,
                __values: <__P as ::loader_runtime::__private::PreloadList<Self>>::Values,
            ) -> #view<__P> {
                #view { entity: self, values: __values }
            }

            fn view_entity<__P: ::loader_runtime::__private::PreloadList<Self>>(
                __view: &#view<__P>,
            ) -> &Self {
                &__view.entity
            }

            fn view_values<__P: ::loader_runtime::__private::PreloadList<Self>>(
                __view: &#view<__P>,
            ) -> &<__P as ::loader_runtime::__private::PreloadList<Self>>::Values {
                &__view.values
            }

            fn view_into_parts<__P: ::loader_runtime::__private::PreloadList<Self>>(
                __view: #view<__P>,
            ) -> (Self, <__P as ::loader_runtime::__private::PreloadList<Self>>::Values) {
                (__view.entity, __view.values)
            }
        }
    }
}

/// `impl Keyed`, for an entity with a single-column key.
pub fn keyed_impl(entity: &Entity<'_>) -> TokenStream {
    let Some(pk) = entity.single_key() else {
        return TokenStream::new();
    };
    let ident = entity.ident;
    let pk_ident = pk.ident;
    let pk_ty = pk.ty;
    let key_ty = quote_spanned!(pk_ty.span()=> #pk_ty);
    quote! {
        #[automatically_derived]
        // Not listed under "the trait is implemented for ..." when another
        // type lacks it: in a crate of many entities, a screenful.
        #[diagnostic::do_not_recommend]
        impl ::loader_runtime::__private::Keyed for #ident {
            type Key = #key_ty;
            fn key(&self) -> &Self::Key {
                &self.#pk_ident
            }
        }
    }
}

pub fn inherent_impl(entity: &Entity<'_>) -> TokenStream {
    let ident = entity.ident;
    let vis = entity.vis;
    let table = &entity.table;
    let key_fields: Vec<_> = entity.primary_key().collect();
    let key_names = key_fields
        .iter()
        .map(|field| format!("`{}`", field.ident))
        .collect::<Vec<_>>()
        .join(", ");
    let all_doc = format!(
        "Every `{ident}` row of table `{table}`, ordered by primary key, with one query \
         (with an `&AsyncDb`, a future of them)."
    );
    let find_doc = format!(
        "The `{ident}` whose primary key {key_names} is `key`, with one query \
         (with an `&AsyncDb`, a future of it)."
    );
    let find = match key_fields.as_slice() {
        [field] => {
            let ty = field.ty;
            quote! {
                #vis fn find<__X: ::loader_runtime::__private::Executor>(
                    db: __X,
                    key: &#ty,
                ) -> <__X as ::loader_runtime::__private::Executor>::Output<::core::option::Option<Self>> {
                    ::loader_runtime::__private::find::<Self, __X>(db, key)
                }
            }
        }
        fields => {
            let types = fields.iter().map(|field| field.ty);
            let positions = (0..fields.len()).map(syn::Index::from);
            quote! {
                #vis fn find<__X: ::loader_runtime::__private::Executor>(
                    db: __X,
                    key: &(#(#types,)*),
                ) -> <__X as ::loader_runtime::__private::Executor>::Output<::core::option::Option<Self>> {
                    ::loader_runtime::__private::find_by::<Self, __X>(
                        db,
                        ::std::vec![#(::loader_runtime::__private::param(&key.#positions)),*],
                    )
                }
            }
        }
    };
    let columns_doc = format!(
        "The typed columns of `{ident}`, to build conditions and orderings outside a `filter` closure: `{ident}::columns().<field>.eq(value)`."
    );
    let query_doc = format!(
        "Starts a query for `{ident}` rows; add relations with `.preload(...)` and run it with `.all(&db)`."
    );
    quote! {
        #[automatically_derived]
        impl #ident {
            #[doc = #all_doc]
            #vis fn all<__X: ::loader_runtime::__private::Executor>(
                db: __X,
            ) -> <__X as ::loader_runtime::__private::Executor>::Output<::std::vec::Vec<Self>> {
                ::loader_runtime::__private::all::<Self, __X>(db)
            }

            #[doc = #find_doc]
            #find

            #[doc = #query_doc]
            #vis fn query() -> ::loader_runtime::__private::Query<Self> {
                ::loader_runtime::__private::Query::new()
            }

            #[doc = #columns_doc]
            #vis const fn columns() -> <Self as ::loader_runtime::__private::Entity>::Columns {
                <Self as ::loader_runtime::__private::Entity>::COLUMNS
            }
        }
    }
}
