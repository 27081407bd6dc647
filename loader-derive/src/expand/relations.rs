//! Per relation: a marker type with its `Relation` impl and SQL, the preload
//! handle and lazy loader on the entity, and the accessor on its view whose
//! bound names the missing preload when it is not satisfied.

use heck::ToUpperCamelCase;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;

use super::Names;
use crate::model::{Entity, Relation, RelationKind};

pub fn relation(entity: &Entity<'_>, relation: &Relation, names: &Names) -> TokenStream {
    let parts = Parts::new(entity, relation);
    let marker = marker(&parts);
    let kind_impl = match &relation.kind {
        RelationKind::HasMany { fk_field } | RelationKind::HasOne { fk_field } => {
            has_many(&parts, fk_field)
        }
        RelationKind::BelongsTo { fk_field, .. } => belongs_to(&parts, &entity.fields[*fk_field]),
        RelationKind::ManyToMany { through, target_fk } => many_to_many(&parts, through, target_fk),
        RelationKind::HasManyThrough {
            through,
            source,
            source_span,
        } => super::through::has_many_through(entity, relation, through, source, *source_span),
        RelationKind::HasManyAs { poly, .. } => {
            super::polymorphic::has_many_as(entity, relation, poly)
        }
    };
    let link = entity
        .single_key()
        .is_some()
        .then(|| super::through::link(entity, relation));
    let handles = handles(&parts);
    let filter = filter(&parts, names);
    let accessor = accessor(&parts, names);
    let count = relation.is_counted().then(|| count_accessor(&parts, names));
    quote! {
        #marker
        #kind_impl
        #link
        #handles
        #filter
        #accessor
        #count
    }
}

/// Filtering owners by this relation's rows: `impl Correlated` for the
/// marker, and the method on the owner's columns (`u.posts()` in a
/// `filter` closure).
fn filter(parts: &Parts<'_>, names: &Names) -> TokenStream {
    let Parts {
        entity,
        marker,
        method,
        name,
        relation,
        ..
    } = parts;
    let owner = entity.ident;
    let vis = entity.vis;
    let columns = &names.columns;
    let private = quote!(::loader_runtime::__private);
    // The columns are named directly (not through the marker's `HasMany`,
    // `BelongsTo` or `ManyToMany` impl), so that a relation whose impl is
    // already reported (a composite-key target) is not reported again here.
    let target = parts.target;
    let (correlation, arity, how) = match &relation.kind {
        RelationKind::HasMany { fk_field } | RelationKind::HasOne { fk_field } => (
            {
                let columns = target_columns(target);
                let column = quote_spanned!(relation.fk.span()=> #columns.#fk_field);
                quote!(#private::Correlation::Child { target_fk: #column.qualified() })
            },
            quote!(ToMany),
            "`.any(|target| ...)`, `.none(...)`, `.every(...)`, `.exists()` or `.is_empty()`",
        ),
        RelationKind::BelongsTo { fk_field, .. } => {
            let fk_field = entity.fields[*fk_field].ident;
            (
                {
                    let column = quote_spanned!(relation.fk.span()=> <#owner as #private::Entity>::COLUMNS.#fk_field);
                    quote!(#private::Correlation::Parent { owner_fk: #column.qualified() })
                },
                quote!(ToOne),
                "`.is(|target| ...)` or `.exists()`",
            )
        }
        RelationKind::HasManyAs { .. } => (
            super::polymorphic::correlation(entity, relation),
            quote!(ToMany),
            "`.any(|target| ...)`, `.none(...)`, `.every(...)`, `.exists()` or `.is_empty()`",
        ),
        RelationKind::HasManyThrough { through, .. } => (
            super::through::correlation(entity, relation, through),
            quote!(ToMany),
            "`.any(|target| ...)`, `.none(...)`, `.every(...)`, `.exists()` or `.is_empty()`",
        ),
        RelationKind::ManyToMany { through, target_fk } => {
            let through_sql = super::sql::quote_ident(&through.value());
            let owner_key = format!(
                "{through_sql}.{}",
                super::sql::quote_ident(&relation.fk.value())
            );
            let target_key = format!(
                "{through_sql}.{}",
                super::sql::quote_ident(&target_fk.value())
            );
            (
                quote!(#private::Correlation::Through {
                    through: #through_sql,
                    owner_key: #owner_key,
                    target_key: #target_key,
                }),
                quote!(ToMany),
                "`.any(|target| ...)`, `.none(...)`, `.every(...)`, `.exists()` or `.is_empty()`",
            )
        }
    };
    let doc = format!(
        "The `{name}` of each `{owner}`, to filter by them: {how}, each one `EXISTS` subquery."
    );
    quote! {
        #[automatically_derived]
        impl #private::Correlated for #marker {
            const CORRELATION: #private::Correlation = #correlation;
        }

        #[automatically_derived]
        #[diagnostic::do_not_recommend]
        impl #private::#arity for #marker {}

        #[automatically_derived]
        impl #columns {
            #[doc = #doc]
            #vis const fn #method(&self) -> #private::RelationFilter<#marker> {
                #private::RelationFilter::new()
            }
        }
    }
}

/// What the pieces of one relation's code share.
struct Parts<'a> {
    entity: &'a Entity<'a>,
    relation: &'a Relation,
    /// The marker type, `UserPosts` for relation `posts` of `User`.
    marker: syn::Ident,
    /// The relation's name as an identifier: the handle, the accessor.
    method: &'a syn::Ident,
    /// `posts`, without `r#`.
    name: String,
    /// The target as the user wrote it: only in `<#target as Entity>`
    /// (see [`target_columns`]) and in the marker's `Relation::Target`.
    target: &'a syn::Path,
    /// The target in every other type: `<UserPosts as Relation>::Target`,
    /// which is an entity even when the user's target is not, so that a
    /// target that is not an entity is reported once.
    target_ty: TokenStream,
    target_name: String,
    /// What one owner holds when preloaded, given nested preloads `__N`.
    output: TokenStream,
    /// The engine's node type that preloads this kind.
    node: TokenStream,
    /// The lazy loader's return type and runtime function.
    lazy_ty: TokenStream,
    lazy_fn: TokenStream,
    /// "has_many `Post` via `author_id`", for docs.
    description: String,
}

impl<'a> Parts<'a> {
    fn new(entity: &'a Entity<'a>, relation: &'a Relation) -> Self {
        let marker = marker_ident(entity, relation);
        let private = quote!(::loader_runtime::__private);
        let target = quote!(<#marker as #private::Relation>::Target);
        let loaded = quote!(#private::Loaded<#target, __N>);
        let option = quote!(::core::option::Option);
        let vec = quote!(::std::vec::Vec);
        let (output, node, lazy_ty, lazy_fn) = match relation.kind {
            RelationKind::HasMany { .. } | RelationKind::HasManyAs { one: false, .. } => (
                quote!(#private::Many<#loaded>),
                quote!(HasManyNode),
                quote!(#vec<#target>),
                quote!(lazy_has_many),
            ),
            RelationKind::HasOne { .. } | RelationKind::HasManyAs { one: true, .. } => (
                quote!(#option<#private::One<#loaded>>),
                quote!(HasOneNode),
                quote!(#option<#target>),
                quote!(lazy_has_one),
            ),
            RelationKind::BelongsTo {
                optional: false, ..
            } => (
                quote!(#private::One<#loaded>),
                quote!(BelongsToNode),
                quote!(#target),
                quote!(lazy_belongs_to),
            ),
            RelationKind::BelongsTo { optional: true, .. } => (
                quote!(#option<#private::One<#loaded>>),
                quote!(OptionalBelongsToNode),
                quote!(#option<#target>),
                quote!(lazy_belongs_to_optional),
            ),
            RelationKind::ManyToMany { .. } | RelationKind::HasManyThrough { .. } => (
                quote!(#private::ManyShared<#loaded>),
                quote!(ManyToManyNode),
                quote!(#vec<#target>),
                quote!(lazy_many_to_many),
            ),
        };
        let target_name = relation.target_name();
        Parts {
            entity,
            relation,
            marker,
            method: &relation.name,
            name: relation.name.unraw().to_string(),
            target: &relation.target,
            target_ty: target,
            description: format!(
                "{} `{target_name}` via `{}`",
                relation.kind_name(),
                relation.fk.value()
            ),
            target_name,
            output,
            node,
            lazy_ty,
            lazy_fn,
        }
    }
}

/// `UserPosts` for relation `posts` of `User`.
pub(super) fn marker_ident(entity: &Entity<'_>, relation: &Relation) -> syn::Ident {
    format_ident!(
        "{}{}",
        entity.ident,
        relation.name.unraw().to_string().to_upper_camel_case(),
        span = relation.name.span()
    )
}

/// The marker type of a relation, declared next to the entity (outside the
/// generated `const` block) so that users can name it in types: a function
/// that takes users with their posts preloaded is generic over
/// `P: Has<UserPosts, I>`.
pub fn marker_type(entity: &Entity<'_>, relation: &Relation) -> TokenStream {
    let marker = marker_ident(entity, relation);
    let vis = entity.vis;
    let owner = entity.ident;
    let name = relation.name.unraw().to_string();
    let doc = format!(
        "Names relation `{name}` of `{owner}` ({} `{}` via `{}`) in types: \
         `Loaded<{owner}, P>` with `P: loader_runtime::Has<{marker}, I>` has `{name}` preloaded.",
        relation.kind_name(),
        relation.target_name(),
        relation.fk.value(),
    );
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, Copy)]
        #vis struct #marker;
    }
}

/// `Relation::Target`: the user's target when it is an entity (with a
/// single-column key, for a `belongs_to`), else a stand-in entity, so that
/// only [`target_check`] reports it (see `loader_runtime::relation::target`).
fn chosen_target(entity: &Entity<'_>, relation: &Relation, marker: &syn::Ident) -> TokenStream {
    match &relation.kind {
        RelationKind::BelongsTo { fk_field, .. } => {
            let ty = crate::attr::option_inner(entity.fields[*fk_field].ty);
            select(&relation.target, quote!(KEYED), quote!(#ty), marker)
        }
        _ => select(&relation.target, quote!(ENTITY), quote!(i64), marker),
    }
}

/// `target` if `Probe::<target>::probe`, else `NotAnEntity<key, marker>`.
pub(super) fn select(
    target: &syn::Path,
    probe: TokenStream,
    key: TokenStream,
    marker: &syn::Ident,
) -> TokenStream {
    // Spanned on the target, so that what fails on the chosen type (a
    // composite key where a single one is needed) points there.
    let span = syn::spanned::Spanned::span(target);
    let private = quote_spanned!(span=> ::loader_runtime::__private);
    // The fallback is unused whenever the probe's answer is `true`.
    let fallback = quote! {
        #[allow(unused_imports)]
        use ::loader_runtime::__private::ProbeFallback as _;
    };
    quote_spanned! {span=>
        <#private::Select<{
            #fallback
            <#private::Probe<#target>>::#probe
        }> as #private::Pick<#target, #key, #marker>>::Target
    }
}

/// `<Post as Entity>::COLUMNS`, spanned on the target: every use of the
/// user's target is this same expression, so that a target that is not an
/// entity is one error (rustc prints identical diagnostics once).
pub(super) fn target_columns(target: &syn::Path) -> TokenStream {
    let span = syn::spanned::Spanned::span(target);
    quote_spanned!(span=> <#target as ::loader_runtime::__private::Entity>::COLUMNS)
}

/// Reports a target that is not an entity, for relations that read none of
/// its columns by name.
pub(super) fn target_check(target: &syn::Path) -> TokenStream {
    let columns = target_columns(target);
    quote! {
        const _: () = {
            let _ = &#columns;
        };
    }
}

fn marker(parts: &Parts<'_>) -> TokenStream {
    let Parts {
        entity,
        marker,
        name,
        target_ty: target,
        output,
        ..
    } = parts;
    let owner = entity.ident;
    let node = &parts.node;
    let name_type = name_type(name);
    let chosen = chosen_target(entity, parts.relation, marker);
    // A has_many or has_one reads the target's foreign key column, which
    // already reports a target that is not an entity.
    let check = (!matches!(
        parts.relation.kind,
        RelationKind::HasMany { .. } | RelationKind::HasOne { .. }
    ))
    .then(|| target_check(parts.target));
    let scoped = parts.relation.is_scoped().then(|| {
        quote! {
            #[automatically_derived]
            impl ::loader_runtime::__private::Scoped for #marker {}
        }
    });
    quote! {
        #[automatically_derived]
        impl ::loader_runtime::__private::Relation for #marker {
            type Owner = #owner;
            type Target = #chosen;
            type Output<__N: ::loader_runtime::__private::PreloadList<#target>> = #output;
            const NAME: &'static str = #name;
        }

        #check

        #scoped

        // Not listed under "the following other types implement `Preload`"
        // in errors: in a crate of many entities that list is a screenful.
        #[automatically_derived]
        #[diagnostic::do_not_recommend]
        impl<__N: ::loader_runtime::__private::PreloadList<#target>>
            ::loader_runtime::__private::Preload<#owner> for ::loader_runtime::__private::With<#marker, __N>
        {
            type Output = #output;
            const NAME: &'static str = #name;
            type Name = #name_type;
            type Node = ::loader_runtime::__private::#node<#marker, __N>;
        }
    }
}

fn has_many(parts: &Parts<'_>, fk_field: &syn::Ident) -> TokenStream {
    let counted = parts.relation.is_counted().then(|| {
        let marker = &parts.marker;
        quote! {
            #[automatically_derived]
            impl ::loader_runtime::__private::Counted for #marker {
                const COUNT: ::loader_runtime::__private::CountSql =
                    ::loader_runtime::__private::CountSql {
                        owner: <Self as ::loader_runtime::__private::HasMany>::SQL.foreign_key,
                        from: <Self as ::loader_runtime::__private::HasMany>::SQL.from,
                    };
            }
        }
    });
    let Parts {
        entity,
        marker,
        target,
        target_ty,
        relation,
        ..
    } = parts;
    let owner = entity.ident;
    let fk_span = relation.fk.span();
    // Spanned on the `fk` literal: a field that does not exist, or whose type
    // does not match the owner's key, is reported there.
    let columns = target_columns(target);
    let fk_column = quote_spanned!(fk_span=> #columns.#fk_field);
    let fk_value = quote_spanned! {fk_span=>
        ::loader_runtime::__private::foreign_key::<<#owner as ::loader_runtime::__private::Keyed>::Key, _>(
            #fk_column.get(target)
        )
    };
    quote! {
        #[automatically_derived]
        impl ::loader_runtime::__private::HasMany for #marker {
            const SQL: ::loader_runtime::__private::HasManySql = {
                // Named once: each statement below is a constant of its own.
                const TARGET: ::loader_runtime::__private::EntitySql =
                    <#target_ty as ::loader_runtime::__private::Entity>::META.sql;
                const FK: &str = #fk_column.qualified();
                // One constant for every statement (see `concat_all!`).
                const STATEMENTS: [&str; 5] = ::loader_runtime::__private::concat_all!(
                    [
                        "SELECT ", TARGET.column_list, " FROM ", TARGET.table,
                        " WHERE ", FK, " IN rarray(?1) ORDER BY ", FK, ", ", TARGET.primary_key
                    ],
                    // On PostgreSQL in primary-key order: a bitmap scan of the
                    // keys' rows sorted by key beats walking the foreign key's
                    // index key by key (1.26x faster by hand at 5,000 of 10,000
                    // users); SQLite's `IN rarray` walk is faster in index order.
                    // Either way each owner's children come in key order.
                    [
                        "SELECT ", TARGET.column_list, " FROM ", TARGET.table,
                        " WHERE ", FK, " = ANY($1) ORDER BY ", TARGET.primary_key
                    ],
                    // In primary-key order, not by foreign key: the whole
                    // table in its own order (a rowid table's, on SQLite)
                    // rather than through the foreign key's index, about
                    // 1.6x faster; the engine groups by owner.
                    ["SELECT ", TARGET.column_list, " FROM ", TARGET.table, " ORDER BY ", TARGET.primary_key],
                    [
                        "SELECT ", TARGET.column_list, " FROM ", TARGET.table,
                        " WHERE ", FK, " = ?1 ORDER BY ", TARGET.primary_key
                    ],
                    [
                        "SELECT ", TARGET.column_list, " FROM ", TARGET.table,
                        " WHERE ", FK, " = $1 ORDER BY ", TARGET.primary_key
                    ],
                );
                ::loader_runtime::__private::HasManySql {
                    keyed: ::loader_runtime::__private::Sql {
                        sqlite: STATEMENTS[0],
                        postgres: STATEMENTS[1],
                    },
                    whole: ::loader_runtime::__private::Sql::both(STATEMENTS[2]),
                    lazy: ::loader_runtime::__private::Sql {
                        sqlite: STATEMENTS[3],
                        postgres: STATEMENTS[4],
                    },
                    foreign_key: FK,
                    from: TARGET.from,
                }
            };

            fn foreign_key(
                target: &#target_ty,
            ) -> ::core::option::Option<&<#owner as ::loader_runtime::__private::Keyed>::Key> {
                #fk_value
            }
        }

        #counted
    }
}

fn belongs_to(parts: &Parts<'_>, fk: &crate::model::Field<'_>) -> TokenStream {
    let fk_field = fk.ident;
    let Parts {
        entity,
        marker,
        target,
        relation,
        ..
    } = parts;
    let owner = entity.ident;
    let fk_span = relation.fk.span();
    let target_ty = &parts.target_ty;
    let fk_value = quote_spanned! {fk_span=>
        ::loader_runtime::__private::foreign_key::<<#target_ty as ::loader_runtime::__private::Keyed>::Key, _>(
            &owner.#fk_field
        )
    };
    // An entity without a single-column key is reported here, once; a
    // type that is not an entity is left to `target_check`.
    let key = crate::attr::option_inner(fk.ty);
    let entity_only = select(target, quote!(ENTITY), quote!(#key), marker);
    let fk_column = quote_spanned!(fk_span=> <#owner as ::loader_runtime::__private::Entity>::COLUMNS.#fk_field);
    // Spanned on the target: a target without a single-column key is
    // reported where the user named it.
    let target_span = syn::spanned::Spanned::span(target);
    quote_spanned! {target_span=>
        #[automatically_derived]
        impl ::loader_runtime::__private::BelongsTo for #marker {
            const FOREIGN_KEY: &'static str = #fk_column.qualified();

            fn foreign_key(
                owner: &#owner,
            ) -> ::core::option::Option<&<#target_ty as ::loader_runtime::__private::Keyed>::Key> {
                #fk_value
            }
        }

        const _: () = ::loader_runtime::__private::keyed::<#entity_only>();
    }
}

fn many_to_many(parts: &Parts<'_>, through: &syn::LitStr, target_fk: &syn::LitStr) -> TokenStream {
    let Parts {
        marker,
        target_ty: target,
        relation,
        ..
    } = parts;
    let through_sql = super::sql::quote_ident(&through.value());
    let owner_key = format!(
        "{through_sql}.{}",
        super::sql::quote_ident(&relation.fk.value())
    );
    let target_key = format!(
        "{through_sql}.{}",
        super::sql::quote_ident(&target_fk.value())
    );
    quote! {
        #[automatically_derived]
        impl ::loader_runtime::__private::ManyToMany for #marker {
            type MiddleKey = <#target as ::loader_runtime::__private::Keyed>::Key;
            const SQL: ::loader_runtime::__private::ManyToManySql = {
                const TARGET: ::loader_runtime::__private::EntitySql =
                    <#target as ::loader_runtime::__private::Entity>::META.sql;
                // Every statement in one constant (see `concat_all!`); the
                // join first, as the others' `from`.
                const STATEMENTS: [&str; 11] = ::loader_runtime::__private::concat_all!(
                    [" FROM ", TARGET.table, " JOIN ", #through_sql, " ON ", #target_key, " = ", TARGET.primary_key],
                    // Ordered by the join table's two keys (the target's key by
                    // the join condition): its primary key's order, so the
                    // database reads the join table in order and sorts nothing.
                    [
                        "SELECT ", #owner_key, ", ", TARGET.column_list, " FROM ", TARGET.table, " JOIN ",
                        #through_sql, " ON ", #target_key, " = ", TARGET.primary_key,
                        " WHERE ", #owner_key, " IN rarray(?1) ORDER BY ", #owner_key, ", ", #target_key
                    ],
                    [
                        "SELECT ", #owner_key, ", ", TARGET.column_list, " FROM ", TARGET.table, " JOIN ",
                        #through_sql, " ON ", #target_key, " = ", TARGET.primary_key,
                        " WHERE ", #owner_key, " = ANY($1) ORDER BY ", #owner_key, ", ", #target_key
                    ],
                    [
                        "SELECT ", #owner_key, ", ", TARGET.column_list, " FROM ", TARGET.table, " JOIN ",
                        #through_sql, " ON ", #target_key, " = ", TARGET.primary_key,
                        " ORDER BY ", #owner_key, ", ", #target_key
                    ],
                    [
                        "SELECT ", TARGET.column_list, " FROM ", TARGET.table, " JOIN ",
                        #through_sql, " ON ", #target_key, " = ", TARGET.primary_key,
                        " WHERE ", #owner_key, " = ?1 ORDER BY ", TARGET.primary_key
                    ],
                    [
                        "SELECT ", TARGET.column_list, " FROM ", TARGET.table, " JOIN ",
                        #through_sql, " ON ", #target_key, " = ", TARGET.primary_key,
                        " WHERE ", #owner_key, " = $1 ORDER BY ", TARGET.primary_key
                    ],
                    // The join table alone, in its primary key's order, and the
                    // targets it links to, each once (see `LinksSql`).
                    [
                        "SELECT ", #owner_key, ", ", #target_key, " FROM ", #through_sql, " WHERE ",
                        #owner_key, " IN rarray(?1) ORDER BY ", #owner_key, ", ", #target_key
                    ],
                    [
                        "SELECT ", #owner_key, ", ", #target_key, " FROM ", #through_sql, " WHERE ",
                        #owner_key, " = ANY($1) ORDER BY ", #owner_key, ", ", #target_key
                    ],
                    [
                        "SELECT ", #owner_key, ", ", #target_key, " FROM ", #through_sql,
                        " ORDER BY ", #owner_key, ", ", #target_key
                    ],
                    [
                        "SELECT ", TARGET.column_list, " FROM ", TARGET.table, " WHERE ", TARGET.primary_key,
                        " IN (SELECT ", #target_key, " FROM ", #through_sql, ") ORDER BY ", TARGET.primary_key
                    ],
                    [
                        "SELECT ", TARGET.column_list, " FROM ", TARGET.table, " WHERE ", TARGET.primary_key,
                        " IN (SELECT ", #target_key, " FROM ", #through_sql, ")"
                    ],
                );
                ::loader_runtime::__private::ManyToManySql {
                    keyed: ::loader_runtime::__private::Sql {
                        sqlite: STATEMENTS[1],
                        postgres: STATEMENTS[2],
                    },
                    whole: ::loader_runtime::__private::Sql::both(STATEMENTS[3]),
                    lazy: ::loader_runtime::__private::Sql {
                        sqlite: STATEMENTS[4],
                        postgres: STATEMENTS[5],
                    },
                    owner_key: #owner_key,
                    from: STATEMENTS[0],
                    shared: true,
                    links: ::core::option::Option::Some(::loader_runtime::__private::LinksSql {
                        keyed: ::loader_runtime::__private::Sql {
                            sqlite: STATEMENTS[6],
                            postgres: STATEMENTS[7],
                        },
                        whole: ::loader_runtime::__private::Sql::both(STATEMENTS[8]),
                        linked: ::loader_runtime::__private::Sql::both(STATEMENTS[9]),
                        linked_body: STATEMENTS[10],
                    }),
                    middle: ::core::option::Option::None,
                }
            };
        }

        #[automatically_derived]
        impl ::loader_runtime::__private::Counted for #marker {
            const COUNT: ::loader_runtime::__private::CountSql = ::loader_runtime::__private::CountSql {
                owner: #owner_key,
                from: <Self as ::loader_runtime::__private::ManyToMany>::SQL.from,
            };
        }
    }
}

/// `Owner::name()` (the preload handle) and `owner.load_name(&db)` (lazy).
fn handles(parts: &Parts<'_>) -> TokenStream {
    let Parts {
        entity,
        marker,
        method,
        name,
        target_name,
        description,
        relation,
        ..
    } = parts;
    let owner = entity.ident;
    let vis = entity.vis;
    let lazy = format_ident!("load_{}", name, span = relation.name.span());
    let handle_doc = format!(
        "Preload handle for relation `{name}` ({description}).\n\n\
         Pass it to `.preload(...)` to load the `{name}` of every `{owner}` a query returns \
         with one query, e.g. `{owner}::query().preload({owner}::{name}())`; read them on \
         each loaded value with `.{name}()`. Nest further relations of `{target_name}` \
         with `{owner}::{name}().preload(...)`."
    );
    let lazy_doc = format!(
        "Loads this `{owner}`'s `{name}` ({description}) with one query: with a `&Db`, \
         returns the result; with an `&AsyncDb`, a future of it.\n\n\
         Calling it for each of many rows is the N+1 pattern: preload with \
         `{owner}::{name}()` instead."
    );
    let lazy_ty = &parts.lazy_ty;
    let lazy_fn = &parts.lazy_fn;
    let lazy_call = quote!(::loader_runtime::__private::#lazy_fn::<#marker, __X>(db, self));
    quote! {
        #[automatically_derived]
        impl #owner {
            #[doc = #handle_doc]
            #[track_caller]
            #vis fn #method() -> ::loader_runtime::__private::With<#marker> {
                ::loader_runtime::__private::With::new()
            }

            #[doc = #lazy_doc]
            #[track_caller]
            #vis fn #lazy<__X: ::loader_runtime::__private::Executor>(
                &self,
                db: __X,
            ) -> <__X as ::loader_runtime::__private::Executor>::Output<#lazy_ty> {
                #lazy_call
            }
        }
    }
}

/// `loaded.name()`, bounded by a trait per relation whose message says which
/// preload is missing.
fn accessor(parts: &Parts<'_>, names: &Names) -> TokenStream {
    let Parts {
        entity,
        marker,
        method,
        name,
        description,
        relation,
        ..
    } = parts;
    let owner = entity.ident;
    let vis = entity.vis;
    let view = &names.view;
    let check = format_ident!("{}{}Preloaded", owner, name.to_upper_camel_case());
    let message = format!("relation `{name}` of `{owner}` was not preloaded");
    let label = format!("`{name}` is not preloaded here");
    let note = format!("add `.preload({owner}::{name}())` to the query that loaded this value");
    let nested_note = format!(
        "if this `{owner}` comes from a nested preload, add it there: `.preload(Parent::relation().preload({owner}::{name}()))`"
    );
    let doc = format!(
        "The preloaded `{name}` ({description}). Compiles only when the query preloaded `{owner}::{name}()`."
    );
    let private = quote!(::loader_runtime::__private);
    // The nested preloads are a method parameter bound by `Nested = __N`
    // rather than a projection in the return type: with a projection, method
    // lookup rejects the accessor and the compiler reports a confusing
    // "method exists but its trait bounds were not satisfied" instead of the
    // message above.
    let target = &parts.target_ty;
    let loaded = quote!(#private::Loaded<#target, __N>);
    let (return_ty, read) = match relation.kind {
        RelationKind::HasMany { .. } | RelationKind::HasManyAs { one: false, .. } => {
            (quote!(&[#loaded]), quote!(.as_slice()))
        }
        RelationKind::BelongsTo {
            optional: false, ..
        } => (quote!(&#loaded), quote!(.get())),
        RelationKind::BelongsTo { optional: true, .. }
        | RelationKind::HasOne { .. }
        | RelationKind::HasManyAs { one: true, .. } => (
            quote!(::core::option::Option<&#loaded>),
            quote!(.as_ref().map(#private::One::get)),
        ),
        RelationKind::ManyToMany { .. } | RelationKind::HasManyThrough { .. } => (
            quote!(#private::Related<'_, #loaded>),
            quote!(.as_related()),
        ),
    };
    quote! {
        #[doc(hidden)]
        #[diagnostic::on_unimplemented(
            message = #message,
            label = #label,
            note = #note,
            note = #nested_note,
        )]
        #vis trait #check<__I>: #private::PreloadList<#owner> {
            type Nested: #private::PreloadList<#target>;
            fn get(
                values: &<Self as #private::PreloadList<#owner>>::Values,
            ) -> &<#marker as #private::Relation>::Output<Self::Nested>;
        }

        #[diagnostic::do_not_recommend]
        impl<__P: #private::Has<#marker, __I>, __I> #check<__I> for __P {
            type Nested = <__P as #private::Has<#marker, __I>>::Nested;
            fn get(
                values: &<Self as #private::PreloadList<#owner>>::Values,
            ) -> &<#marker as #private::Relation>::Output<Self::Nested> {
                <__P as #private::Has<#marker, __I>>::get(values)
            }
        }

        #[automatically_derived]
        impl<__P: #private::PreloadList<#owner>> #view<__P> {
            #[doc = #doc]
            #vis fn #method<__I, __N: #private::PreloadList<#target>>(&self) -> #return_ty
            where
                __P: #check<__I, Nested = __N>,
            {
                <__P as #check<__I>>::get(&self.values) #read
            }
        }
    }
}

/// `Count<marker>` as a preload of the owner, and `loaded.name_count()`.
fn count_accessor(parts: &Parts<'_>, names: &Names) -> TokenStream {
    let Parts {
        entity,
        marker,
        name,
        ..
    } = parts;
    let owner = entity.ident;
    let vis = entity.vis;
    let view = &names.view;
    let private = quote!(::loader_runtime::__private);
    let accessor = format_ident!("{}_count", name, span = parts.relation.name.span());
    let count_name = accessor.to_string();
    let check = format_ident!("{}{}Counted", owner, name.to_upper_camel_case());
    let message = format!("the count of `{name}` of `{owner}` was not preloaded");
    let label = format!("`{name}` is not counted here");
    let note =
        format!("add `.preload({owner}::{name}().count())` to the query that loaded this value");
    let doc = format!(
        "How many `{name}` this `{owner}` has, as counted by `.preload({owner}::{name}().count())`, with the count's filter applied."
    );
    let count_name_type = name_type(&count_name);
    quote! {
        #[automatically_derived]
        #[diagnostic::do_not_recommend]
        impl #private::Preload<#owner> for #private::Count<#marker> {
            type Output = usize;
            const NAME: &'static str = #count_name;
            type Name = #count_name_type;
            type Node = #private::CountNode<#marker>;
        }

        #[doc(hidden)]
        #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
        #vis trait #check<__I>: #private::PreloadList<#owner> {
            fn get(values: &<Self as #private::PreloadList<#owner>>::Values) -> usize;
        }

        #[diagnostic::do_not_recommend]
        impl<__P: #private::HasCount<#marker, __I>, __I> #check<__I> for __P {
            fn get(values: &<Self as #private::PreloadList<#owner>>::Values) -> usize {
                <__P as #private::HasCount<#marker, __I>>::get(values)
            }
        }

        #[automatically_derived]
        impl<__P: #private::PreloadList<#owner>> #view<__P> {
            #[doc = #doc]
            #vis fn #accessor<__I>(&self) -> usize
            where
                __P: #check<__I>,
            {
                <__P as #check<__I>>::get(&self.values)
            }
        }
    }
}

/// A preload handle's name as a type (`loader_runtime::distinct`): one
/// `Byte` of eight bits per byte of `name`, so that the compiler can tell
/// whether a preload list already holds it.
pub(super) fn name_type(name: &str) -> TokenStream {
    let private = quote!(::loader_runtime::__private::distinct);
    name.bytes()
        .rev()
        .fold(quote!(#private::Nil), |rest, byte| {
            let bits = (0..8).rev().map(|bit| match (byte >> bit) & 1 {
                0 => quote!(#private::B0),
                _ => quote!(#private::B1),
            });
            quote!(#private::Cons<#private::Byte<#(#bits),*>, #rest>)
        })
}
