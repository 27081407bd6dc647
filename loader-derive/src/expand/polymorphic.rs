//! `#[polymorphic(...)]`: the enum users match (`CommentCommentable::Post`),
//! one `belongs_to` per target whose key is the id when the type column
//! names that target, the [`Poly`] preload handle over them, the accessor
//! and the lazy loader.
//!
//! [`Poly`]: loader_runtime::Poly

use heck::ToUpperCamelCase;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;

use super::Names;
use super::relations::name_type;
use super::sql::quote_ident;
use crate::model::{Entity, Polymorphic, Relation};

/// The names one polymorphic relation's code shares.
struct Parts {
    name: String,
    /// `CommentCommentable`, the enum of targets.
    target_enum: syn::Ident,
    /// `CommentCommentableRelation`, the relation's marker.
    marker: syn::Ident,
    /// `CommentCommentablePost`, one `belongs_to` marker per target.
    part_markers: Vec<syn::Ident>,
}

impl Parts {
    fn new(entity: &Entity<'_>, poly: &Polymorphic) -> Self {
        let name = poly.name.unraw().to_string();
        let camel = name.to_upper_camel_case();
        let target_enum = format_ident!("{}{}", entity.ident, camel, span = poly.name.span());
        Parts {
            marker: format_ident!("{}{}Relation", entity.ident, camel, span = poly.name.span()),
            part_markers: poly
                .targets
                .iter()
                .map(|target| format_ident!("{}{}", target_enum, target.variant))
                .collect(),
            target_enum,
            name,
        }
    }

    /// `(With<P0, N0>, (With<P1, N1>, ()))` for the nested lists `nested`.
    fn list(&self, nested: &[TokenStream]) -> TokenStream {
        let private = quote!(::loader_runtime::__private);
        self.part_markers.iter().zip(nested).rev().fold(
            quote!(()),
            |rest, (marker, n)| quote!((#private::With<#marker, #n>, #rest)),
        )
    }
}

/// The items users name, declared next to the entity: the enum of targets
/// and the markers.
pub fn types(entity: &Entity<'_>, poly: &Polymorphic) -> TokenStream {
    let parts = Parts::new(entity, poly);
    let vis = entity.vis;
    let owner = entity.ident;
    let name = &parts.name;
    let target_enum = &parts.target_enum;
    let marker = &parts.marker;
    let params: Vec<syn::Ident> = (0..poly.targets.len())
        .map(|index| format_ident!("T{}", index))
        .collect();
    let variants = poly.targets.iter().zip(&params).map(|(target, param)| {
        let variant = &target.variant;
        let doc = format!(
            "The `{}` a `{owner}` whose type column holds `{}` refers to.",
            target.variant,
            target.value.value()
        );
        quote!(#[doc = #doc] #variant(#param))
    });
    let enum_doc = format!(
        "The target of relation `{name}` of `{owner}`, one variant per target type: \
         `{owner}::{name}()` preloads it (`value.{name}()` returns it with references to \
         the loaded targets), `value.load_{name}(&db)` loads it alone."
    );
    let marker_doc = format!("Names the polymorphic relation `{name}` of `{owner}` in types.");
    let part_markers = parts.part_markers.iter().map(|part| {
        quote! {
            #[doc(hidden)]
            #[derive(Debug, Clone, Copy)]
            #vis struct #part;
        }
    });
    let serialize_variants = poly.targets.iter().zip(&params).map(|(target, param)| {
        let variant = &target.variant;
        quote!(#variant(#param))
    });
    quote! {
        #[doc = #enum_doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #vis enum #target_enum<#(#params),*> {
            #(#variants),*
        }

        ::loader_runtime::__serialize_polymorphic!(#target_enum { #(#serialize_variants),* });

        #[doc = #marker_doc]
        #[derive(Debug, Clone, Copy)]
        #vis struct #marker;

        #(#part_markers)*
    }
}

/// The impls, inside the entity's `const` block.
pub fn polymorphic(entity: &Entity<'_>, poly: &Polymorphic, names: &Names) -> TokenStream {
    let parts = Parts::new(entity, poly);
    let private = quote!(::loader_runtime::__private);
    let owner = entity.ident;
    let vis = entity.vis;
    let name = &parts.name;
    let method = &poly.name;
    let marker = &parts.marker;
    let target_enum = &parts.target_enum;
    let type_field = entity.fields[poly.type_field].ident;
    let fk_field = entity.fields[poly.fk_field].ident;
    let type_column = &entity.fields[poly.type_field].column;
    let type_of = format_ident!("__{}_type", name);
    let table = quote_ident(&entity.table);
    let qualified = |column: &str| format!("{table}.{}", quote_ident(column));
    let type_sql = qualified(type_column);
    let fk_sql = qualified(&entity.fields[poly.fk_field].column);
    let values: Vec<String> = poly.targets.iter().map(|t| t.value.value()).collect();
    // Every type names a target through its part's `Relation::Target`, so
    // that a target that is not an entity is reported once, by
    // `target_check` (see `relations::select`).
    let targets: Vec<TokenStream> = parts
        .part_markers
        .iter()
        .map(|part| quote!(<#part as #private::Relation>::Target))
        .collect();
    let variants: Vec<&syn::Ident> = poly.targets.iter().map(|t| &t.variant).collect();
    let nested: Vec<TokenStream> = (0..targets.len())
        .map(|index| {
            let n = format_ident!("__N{}", index);
            quote!(#n)
        })
        .collect();
    let list = parts.list(&nested);
    let units: Vec<TokenStream> = (0..targets.len()).map(|_| quote!(())).collect();
    let empty_list = parts.list(&units);

    // One `belongs_to` per target: its key is the id when the type column
    // names the target.
    let key_ty = crate::attr::option_inner(entity.fields[poly.fk_field].ty);
    let part_impls = poly.targets.iter().zip(&parts.part_markers).map(|(target, part)| {
        let raw = &target.path;
        let path = quote!(<#part as #private::Relation>::Target);
        let chosen = super::relations::select(raw, quote!(KEYED), quote!(#key_ty), part);
        let entity_only = super::relations::select(raw, quote!(ENTITY), quote!(#key_ty), part);
        let check = super::relations::target_check(raw);
        let value = target.value.value();
        let literal = format!("'{}'", value.replace('\'', "''"));
        let foreign_key = format!("CASE WHEN {type_sql} = {literal} THEN {fk_sql} END");
        let fk_value = quote_spanned! {poly.fk.span()=>
            #private::foreign_key::<<#path as #private::Keyed>::Key, _>(&owner.#fk_field)
        };
        let part_name = name_type(&format!("{name}:{value}"));
        quote! {
            #[automatically_derived]
            impl #private::Relation for #part {
                type Owner = #owner;
                type Target = #chosen;
                type Output<__N: #private::PreloadList<#path>> =
                    ::core::option::Option<#private::One<#private::Loaded<#path, __N>>>;
                const NAME: &'static str = #name;
            }

            #check

            const _: () = #private::keyed::<#entity_only>();

            #[automatically_derived]
            impl #private::BelongsTo for #part {
                const FOREIGN_KEY: &'static str = #foreign_key;

                fn foreign_key(
                    owner: &#owner,
                ) -> ::core::option::Option<&<#path as #private::Keyed>::Key> {
                    if #type_of(owner) == ::core::option::Option::Some(#value) {
                        #fk_value
                    } else {
                        ::core::option::Option::None
                    }
                }
            }

            #[automatically_derived]
            impl #private::Correlated for #part {
                const CORRELATION: #private::Correlation = #private::Correlation::TypedParent {
                    owner_fk: #fk_sql,
                    type_column: #type_sql,
                    type_sql: #literal,
                };
            }

            #[automatically_derived]
            #[diagnostic::do_not_recommend]
            impl #private::ToOne for #part {}

            #[automatically_derived]
            #[diagnostic::do_not_recommend]
            impl<__N: #private::PreloadList<#path>> #private::Preload<#owner> for #private::With<#part, __N> {
                type Output = ::core::option::Option<#private::One<#private::Loaded<#path, __N>>>;
                const NAME: &'static str = #name;
                type Name = #part_name;
                type Node = #private::OptionalBelongsToNode<#part, __N>;
            }
        }
    });

    // What each target's inverse relation (`as = "..."`) needs.
    let target_impls = poly.targets.iter().zip(&parts.part_markers).map(|(target, part)| {
        let path = quote!(<#part as #private::Relation>::Target);
        let value = target.value.value();
        let literal = format!("'{}'", value.replace('\'', "''"));
        let from = format!(" FROM (SELECT * FROM {table} WHERE {type_sql} = {literal}) AS {table}");
        let condition = format!(" AND {type_sql} = {literal}");
        let id_of = format_ident!(
            "__{}_id_of_{}",
            name,
            heck::ToSnakeCase::to_snake_case(target.variant.to_string().as_str())
        );
        let fk_value = quote_spanned! {poly.fk.span()=>
            #private::foreign_key::<<#path as #private::Keyed>::Key, _>(&row.#fk_field)
        };
        quote! {
            fn #id_of(row: &#owner) -> ::core::option::Option<&<#path as #private::Keyed>::Key> {
                #fk_value
            }

            #[automatically_derived]
            impl #private::PolymorphicTarget<#path> for #marker {
                const CHILD: #private::PolyChild<#owner, <#path as #private::Keyed>::Key> =
                    #private::PolyChild {
                        type_column: #type_sql,
                        type_sql: #literal,
                        fk: #fk_sql,
                        condition: #condition,
                        from: #from,
                        id_of: #id_of,
                    };
            }
        }
    });
    let type_span = syn::spanned::Spanned::span(entity.fields[poly.type_field].ty);
    let type_of_fn = quote_spanned! {type_span=>
        fn #type_of(owner: &#owner) -> ::core::option::Option<&str> {
            #private::type_name(&owner.#type_field)
        }
    };
    let describe = match entity.single_key() {
        Some(_) => quote!(::core::option::Option::Some(::std::format!(
            "{:?}",
            <#owner as #private::Keyed>::key(owner)
        ))),
        None => quote!(::core::option::Option::None),
    };
    let destructure = nested
        .iter()
        .enumerate()
        .rev()
        .fold(quote!(()), |rest, (index, _)| {
            let part = format_ident!("__part{}", index);
            quote!((#part, #rest))
        });
    let assemble_arms = variants.iter().enumerate().map(|(index, variant)| {
        let part = format_ident!("__part{}", index);
        quote! {
            if let ::core::option::Option::Some(target) = #part {
                return ::core::option::Option::Some(#target_enum::#variant(target));
            }
        }
    });
    let loaded_output = quote! {
        ::core::option::Option<#target_enum<#(#private::One<#private::Loaded<#targets, #nested>>),*>>
    };
    let name_ty = name_type(name);

    // The accessor, bounded by a trait whose message names the preload.
    let check = format_ident!("{}{}Preloaded", owner, name.to_upper_camel_case());
    let message = format!("relation `{name}` of `{owner}` was not preloaded");
    let label = format!("`{name}` is not preloaded here");
    let note = format!("add `.preload({owner}::{name}())` to the query that loaded this value");
    let view = &names.view;
    let accessor_doc = format!(
        "The preloaded target of `{name}`, one variant per target type; `None` when the type or \
         the key is `NULL` or the key refers to no row. Compiles only when the query preloaded \
         `{owner}::{name}()`."
    );
    let read_arms = variants.iter().map(|variant| {
        quote! {
            ::core::option::Option::Some(#target_enum::#variant(target)) => {
                ::core::option::Option::Some(#target_enum::#variant(target.get()))
            }
        }
    });

    // The handle and the lazy loader.
    let handle_doc = format!(
        "Preload handle for the polymorphic relation `{name}` (one of {}): one statement per \
         target type present among the loaded `{owner}` rows. Preload a target's relations \
         with `.preload(...)` (`{owner}::{name}().preload(Target::relation())`); read with \
         `value.{name}()`.",
        variants
            .iter()
            .map(|v| format!("`{v}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let lazy = format_ident!("load_{}", name, span = poly.name.span());
    let lazy_doc = format!(
        "Loads the target of `{name}` for this `{owner}` with one query (none when the type or \
         key is `NULL`); a type value that names no target is `Error::UnknownType`. Calling it \
         for each of many rows is the N+1 pattern: preload with `{owner}::{name}()` instead."
    );
    let owned_enum = quote!(#target_enum<#(#targets),*>);
    let lazy_arms = poly
        .targets
        .iter()
        .zip(&parts.part_markers)
        .zip(&values)
        .map(|((target, part), value)| {
            let variant = &target.variant;
            quote! {
                ::core::option::Option::Some(#value) => {
                    #private::lazy_polymorphic::<#part, __X, #owned_enum>(db, self, #target_enum::#variant)
                }
            }
        });
    let empty_value = targets
        .iter()
        .fold(quote!(()), |rest, _| quote!((#private::With::new(), #rest)));
    let first_part = &parts.part_markers[0];
    let first_variant = variants[0];

    // In a filter closure: `c.commentable().post().is(|p| ...)`.
    let filter_struct = format_ident!("{}Filter", target_enum);
    let columns = &names.columns;
    let filter_methods = poly.targets.iter().zip(&parts.part_markers).map(|(target, part)| {
        let snake = heck::ToSnakeCase::to_snake_case(target.variant.to_string().as_str());
        let method = match syn::parse_str::<syn::Ident>(&snake) {
            Ok(_) => syn::Ident::new(&snake, target.variant.span()),
            Err(_) => syn::Ident::new_raw(&snake, target.variant.span()),
        };
        let doc = format!(
            "The `{}` of each `{owner}` whose type column holds `{}`: `.is(|target| ...)` or `.exists()`, one `EXISTS` subquery.",
            target.variant,
            target.value.value()
        );
        quote! {
            #[doc = #doc]
            #vis const fn #method(&self) -> #private::RelationFilter<#part> {
                #private::RelationFilter::new()
            }
        }
    });
    let filter_doc = format!(
        "The targets of `{name}` of each `{owner}`, one method per target type, to filter by them."
    );
    let columns_doc = format!(
        "The target of the polymorphic relation `{name}`, to filter by it: `.{name}().<target>().is(|target| ...)`."
    );
    let filter = quote! {
        #[doc = #filter_doc]
        #vis struct #filter_struct;

        #[automatically_derived]
        impl #filter_struct {
            #(#filter_methods)*
        }

        #[automatically_derived]
        impl #columns {
            #[doc = #columns_doc]
            #vis const fn #method(&self) -> #filter_struct {
                #filter_struct
            }
        }
    };
    quote! {
        #type_of_fn

        #(#part_impls)*

        #filter

        #(#target_impls)*

        #[automatically_derived]
        impl #private::Polymorphic for #marker {
            type Owner = #owner;
            const NAME: &'static str = #name;
            const TYPE_COLUMN: &'static str = #type_column;
            const TYPES: &'static [&'static str] = &[#(#values),*];
            fn type_of(owner: &#owner) -> ::core::option::Option<&str> {
                #type_of(owner)
            }
            fn describe(owner: &#owner) -> ::core::option::Option<::std::string::String> {
                #describe
            }
        }

        #[automatically_derived]
        impl<#(#nested: #private::PreloadList<#targets>),*> #private::Assemble<#list> for #marker {
            type Output = #loaded_output;
            fn assemble(#destructure: <#list as #private::PreloadList<#owner>>::Values) -> Self::Output {
                #(#assemble_arms)*
                ::core::option::Option::None
            }
        }

        #[automatically_derived]
        #[diagnostic::do_not_recommend]
        impl<__L: #private::PreloadList<#owner>> #private::Preload<#owner> for #private::Poly<#marker, __L>
        where
            #marker: #private::Assemble<__L>,
        {
            type Output = <#marker as #private::Assemble<__L>>::Output;
            const NAME: &'static str = #name;
            type Name = #name_ty;
            type Node = #private::PolyNode<#marker, __L>;
        }

        #[doc(hidden)]
        #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
        #vis trait #check<__I>: #private::PreloadList<#owner> {
            type Parts: #private::PreloadList<#owner>;
            fn get(
                values: &<Self as #private::PreloadList<#owner>>::Values,
            ) -> &<#marker as #private::Assemble<Self::Parts>>::Output
            where
                #marker: #private::Assemble<Self::Parts>;
        }

        #[diagnostic::do_not_recommend]
        impl<__P: #private::HasPoly<#marker, __I>, __I> #check<__I> for __P {
            type Parts = <__P as #private::HasPoly<#marker, __I>>::Parts;
            fn get(
                values: &<Self as #private::PreloadList<#owner>>::Values,
            ) -> &<#marker as #private::Assemble<Self::Parts>>::Output
            where
                #marker: #private::Assemble<Self::Parts>,
            {
                <__P as #private::HasPoly<#marker, __I>>::get(values)
            }
        }

        #[automatically_derived]
        impl<__P: #private::PreloadList<#owner>> #view<__P> {
            #[doc = #accessor_doc]
            #vis fn #method<__I, #(#nested: #private::PreloadList<#targets>),*>(
                &self,
            ) -> ::core::option::Option<#target_enum<#(&#private::Loaded<#targets, #nested>),*>>
            where
                __P: #check<__I, Parts = #list>,
            {
                match <__P as #check<__I>>::get(&self.values) {
                    ::core::option::Option::None => ::core::option::Option::None,
                    #(#read_arms)*
                }
            }
        }

        #[automatically_derived]
        impl #owner {
            #[doc = #handle_doc]
            #[track_caller]
            #vis fn #method() -> #private::Poly<#marker, #empty_list> {
                #private::Poly::new(#empty_value)
            }

            #[doc = #lazy_doc]
            #[track_caller]
            #vis fn #lazy<__X: #private::Executor>(
                &self,
                db: __X,
            ) -> <__X as #private::Executor>::Output<::core::option::Option<#owned_enum>> {
                match #type_of(self) {
                    #(#lazy_arms)*
                    ::core::option::Option::Some(_) => {
                        #private::lazy_unknown_type::<#marker, __X, #owned_enum>(db, self)
                    }
                    // No type: no key for any target, no query.
                    ::core::option::Option::None => {
                        #private::lazy_polymorphic::<#first_part, __X, #owned_enum>(
                            db, self, #target_enum::#first_variant,
                        )
                    }
                }
            }
        }
    }
}

/// The constant holding what the inverse of a polymorphic relation needs:
/// `__POST_COMMENTS_POLY`.
fn child_const(entity: &Entity<'_>, relation: &Relation) -> syn::Ident {
    let marker = super::relations::marker_ident(entity, relation);
    format_ident!(
        "__{}_POLY",
        heck::ToShoutySnakeCase::to_shouty_snake_case(marker.to_string().as_str())
    )
}

/// The inverse of a polymorphic relation (`#[has_many(Comment, as =
/// "commentable")]` on `Post`): a `has_many` (or `has_one`) whose
/// statements read the target's rows of this entity's type only.
pub fn has_many_as(entity: &Entity<'_>, relation: &Relation, poly: &syn::LitStr) -> TokenStream {
    let private = quote!(::loader_runtime::__private);
    let owner = entity.ident;
    let target = &relation.target;
    let marker = super::relations::marker_ident(entity, relation);
    let child = child_const(entity, relation);
    let handle = match syn::parse_str::<syn::Ident>(&poly.value()) {
        Ok(_) => syn::Ident::new(&poly.value(), poly.span()),
        Err(_) => syn::Ident::new_raw(&poly.value(), poly.span()),
    };
    let find = quote_spanned! {poly.span()=>
        #[doc(hidden)]
        const #child: #private::PolyChild<#target, <#owner as #private::Keyed>::Key> =
            #private::poly_child::<#owner, _, _>(#target::#handle);
    };
    let target_sql =
        quote!(<<#marker as #private::Relation>::Target as #private::Entity>::META.sql);
    let concat = quote!(#private::concatcp);
    let counted = relation.is_counted().then(|| {
        quote! {
            #[automatically_derived]
            impl #private::Counted for #marker {
                const COUNT: #private::CountSql = #private::CountSql {
                    owner: <Self as #private::HasMany>::SQL.foreign_key,
                    from: <Self as #private::HasMany>::SQL.from,
                    };
            }
        }
    });
    quote! {
        #find

        #[automatically_derived]
        impl #private::HasMany for #marker {
            const SQL: #private::HasManySql = {
                const FK: &str = #child.fk;
                const FROM: &str = #child.from;
                const SELECT: &str = #concat!("SELECT ", #target_sql.column_list, FROM, " WHERE ", FK);
                #private::HasManySql {
                    keyed: #private::Sql {
                        sqlite: #concat!(SELECT, " IN rarray(?1) ORDER BY ", FK, ", ", #target_sql.primary_key),
                        postgres: #concat!(SELECT, " = ANY($1) ORDER BY ", FK, ", ", #target_sql.primary_key),
                    },
                    whole: #private::Sql::both(#concat!(
                        "SELECT ", #target_sql.column_list, FROM, " ORDER BY ", #target_sql.primary_key
                    )),
                    lazy: #private::Sql {
                        sqlite: #concat!(SELECT, " = ?1 ORDER BY ", #target_sql.primary_key),
                        postgres: #concat!(SELECT, " = $1 ORDER BY ", #target_sql.primary_key),
                    },
                    foreign_key: FK,
                    from: FROM,
                }
            };

            fn foreign_key(
                target: &#target,
            ) -> ::core::option::Option<&<#owner as #private::Keyed>::Key> {
                (#child.id_of)(target)
            }
        }

        #counted
    }
}

/// A relation filter over the inverse of a polymorphic relation: the
/// target's id and type columns.
pub fn correlation(entity: &Entity<'_>, relation: &Relation) -> TokenStream {
    let private = quote!(::loader_runtime::__private);
    let child = child_const(entity, relation);
    quote! {
        #private::Correlation::TypedChild {
            target_fk: #child.fk,
            type_column: #child.type_column,
            type_sql: #child.type_sql,
        }
    }
}

/// How relations that go through the inverse of a polymorphic relation
/// reach the owner's key: the id, when the type is the owner's.
pub fn link(entity: &Entity<'_>, relation: &Relation) -> TokenStream {
    let private = quote!(::loader_runtime::__private);
    let child = child_const(entity, relation);
    quote! {
        #private::Link {
            joins: "",
            owner_key: #child.fk,
            condition: #child.condition,
            unique: true,
            single_owner: true,
            owner_alias: ::core::option::Option::None,
            target_fk: "",
        }
    }
}
