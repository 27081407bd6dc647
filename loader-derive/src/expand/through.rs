//! Going through relations: how each relation's target rows lead back to
//! its owners' keys (`impl Linked`), and the statements of a `has_many`
//! through another relation, assembled at compile time from the constants
//! of the relations it goes through. The relation followed on the middle
//! entity is found through its preload handle (`Post::comments`), so a
//! missing one is rustc's own "no function named `comments`" on the
//! `source` literal.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;

use super::relations::marker_ident;
use super::sql::quote_ident;
use crate::model::{Entity, Relation, RelationKind};

/// The alias of the table a relation joins when another goes through it:
/// `"__loader_PostTags"`, unique per relation, so one statement can pass
/// through the same table several times.
fn alias(marker: &syn::Ident) -> String {
    quote_ident(&format!("__loader_{marker}"))
}

/// The constant holding what a `has_many` through another relation needs
/// of the relation it follows: `__USER_COMMENTS_SOURCE`.
fn source_const(marker: &syn::Ident) -> syn::Ident {
    format_ident!(
        "__{}_SOURCE",
        heck::ToShoutySnakeCase::to_shouty_snake_case(marker.to_string().as_str())
    )
}

/// `impl Linked` for a relation declared directly (not through another),
/// on an entity with a single-column key.
pub fn link(entity: &Entity<'_>, relation: &Relation) -> TokenStream {
    let private = quote!(::loader_runtime::__private);
    let marker = marker_ident(entity, relation);
    let target_sql =
        quote!(<<#marker as #private::Relation>::Target as #private::Entity>::META.sql);
    let alias = alias(&marker);
    let link = match &relation.kind {
        RelationKind::HasMany { .. } | RelationKind::HasOne { .. } => quote! {
            #private::Link {
                joins: "",
                owner_key: <Self as #private::HasMany>::SQL.foreign_key,
                unique: true,
                single_owner: true,
                owner_alias: ::core::option::Option::None,
                condition: "",
                target_fk: "",
            }
        },
        RelationKind::ManyToMany { through, target_fk } => {
            let target_key = format!("{alias}.{}", quote_ident(&target_fk.value()));
            let owner_key = format!("{alias}.{}", quote_ident(&relation.fk.value()));
            let joins = format!(
                " JOIN {} AS {alias} ON {target_key} = ",
                quote_ident(&through.value())
            );
            quote! {
                #private::Link {
                    joins: #private::concatcp!(#joins, #target_sql.primary_key),
                    owner_key: #owner_key,
                    unique: false,
                    single_owner: false,
                    owner_alias: ::core::option::Option::None,
                    condition: "",
                    target_fk: "",
                }
            }
        }
        RelationKind::BelongsTo { fk_field, .. } => {
            let Some(key) = entity.single_key() else {
                return TokenStream::new();
            };
            let table = quote_ident(&entity.table);
            let target_fk = quote_ident(&entity.fields[*fk_field].column);
            let fk = format!("{alias}.{target_fk}");
            let owner_key = format!("{alias}.{}", quote_ident(&key.column));
            let joins = format!(" JOIN {table} AS {alias} ON {fk} = ");
            quote! {
                #private::Link {
                    joins: #private::concatcp!(#joins, #target_sql.primary_key),
                    owner_key: #owner_key,
                    unique: true,
                    single_owner: false,
                    owner_alias: ::core::option::Option::Some(#alias),
                    condition: "",
                    target_fk: #target_fk,
                }
            }
        }
        RelationKind::HasManyAs { .. } => super::polymorphic::link(entity, relation),
        RelationKind::HasManyThrough { .. } => return TokenStream::new(),
    };
    quote! {
        #[automatically_derived]
        impl #private::Linked for #marker {
            const LINK: #private::Link = #link;
        }
    }
}

/// A `has_many` through relation `through` of this entity, then relation
/// `source` of the entity it leads to: the checks that the chain connects,
/// its `Linked` and `ManyToMany` impls (one JOIN per relation gone
/// through, the middle rows never decoded) and its count.
pub fn has_many_through(
    entity: &Entity<'_>,
    relation: &Relation,
    through: &syn::LitStr,
    source: &str,
    source_span: Span,
) -> TokenStream {
    let private = quote!(::loader_runtime::__private);
    let marker = marker_ident(entity, relation);
    let target = &relation.target;
    // Checked in `check.rs`: a `has_many`, `has_one` or `many_to_many` here.
    let Some(first) = entity
        .relations
        .iter()
        .find(|other| other.name.unraw() == through.value().as_str())
    else {
        return TokenStream::new();
    };
    let first_marker = marker_ident(entity, first);
    let middle = &first.target;
    let source_const = source_const(&marker);
    // The middle entity's preload handle of that name (`r#type` for a
    // keyword).
    let source_fn = match syn::parse_str::<syn::Ident>(source) {
        Ok(_) => syn::Ident::new(source, source_span),
        Err(_) => syn::Ident::new_raw(source, source_span),
    };
    let checks = quote_spanned! {source_span=>
        #[doc(hidden)]
        const #source_const: #private::Source = #private::source::<#target, _>(#middle::#source_fn);
    };

    let alias = alias(&marker);
    let middle_sql = quote!(<#middle as #private::Entity>::META.sql);
    let next = quote!(#source_const.link);
    // From the target through the source relation to the middle's key, then
    // from the middle (aliased) to the owner's key.
    let target_sql =
        quote!(<<#marker as #private::Relation>::Target as #private::Entity>::META.sql);
    let sql = quote!(#private::Sql);
    let concat = quote!(#private::concatcp);
    // The key of the entity gone through, when its rows can be read apart
    // from the targets (see `MiddleSql`).
    let mut middle_key = quote!(<#target as #private::Keyed>::Key);
    let mut apart = quote!(::core::option::Option::None);
    // The middle table's two keys read alone, when the relation followed is
    // a `belongs_to` of the middle entity (see `LinksSql`).
    let mut links = quote!(::core::option::Option::None);
    let (joins, owner_key, first_unique, first_single) = match &first.kind {
        RelationKind::ManyToMany { through, target_fk } => {
            let target_key = format!("{alias}.{}", quote_ident(&target_fk.value()));
            let owner_key = format!("{alias}.{}", quote_ident(&first.fk.value()));
            let join = format!(
                " JOIN {} AS {alias} ON {target_key} = ",
                quote_ident(&through.value())
            );
            (
                quote!(#private::concatcp!(#next.joins, #join, #next.owner_key, #next.condition)),
                quote!(#owner_key),
                false,
                false,
            )
        }
        _ => {
            middle_key = quote!(<#middle as #private::Keyed>::Key);
            apart = middle_sql_apart(&first_marker, middle, &middle_sql, &next, &target_sql);
            links = links_of_belongs_to(&first_marker, &middle_sql, &next, &target_sql);
            let join = format!(" AS {alias} ON {alias}");
            // A source that already joins the middle table (a `belongs_to`
            // of it) lends its alias: no second join of the same rows.
            (
                quote!(match #next.owner_alias {
                    ::core::option::Option::Some(_) => #next.joins,
                    ::core::option::Option::None => #private::concatcp!(
                        #next.joins, " JOIN ", #middle_sql.table, #join,
                        #private::column_after_table(#middle_sql.primary_key, #middle_sql.table),
                        " = ", #next.owner_key, #next.condition
                    ),
                }),
                quote!(#private::concatcp!(
                    #private::middle_alias(&#next, #alias),
                    #private::column_after_table(
                        <#first_marker as #private::HasMany>::SQL.foreign_key,
                        #middle_sql.table,
                    )
                )),
                true,
                true,
            )
        }
    };
    quote! {
        #checks

        #[automatically_derived]
        impl #private::Linked for #marker {
            const LINK: #private::Link = #private::Link {
                joins: #joins,
                owner_key: #owner_key,
                unique: #first_unique && #next.unique && #next.single_owner,
                single_owner: #first_single && #next.single_owner,
                owner_alias: ::core::option::Option::None,
                condition: "",
                target_fk: "",
            };
        }

        #[automatically_derived]
        impl #private::ManyToMany for #marker {
            type MiddleKey = #middle_key;
            const SQL: #private::ManyToManySql = {
                const LINK: #private::Link = <#marker as #private::Linked>::LINK;
                // Where an owner can reach a target by several paths, the
                // distinct (owner, target key) pairs are found first on the
                // keys alone, then the target rows joined once per pair: no
                // repeated row is sent or decoded.
                const PAIRS: &str = #concat!(
                    " FROM ", #target_sql.table, " JOIN (SELECT DISTINCT ", LINK.owner_key,
                    " AS \"__loader_owner\", ", #target_sql.primary_key, " AS \"__loader_key\" FROM ",
                    #target_sql.table, LINK.joins, ") AS \"__loader_pairs\" ON \"__loader_pairs\".\"__loader_key\" = ",
                    #target_sql.primary_key
                );
                const KEY: &str = if LINK.unique {
                    LINK.owner_key
                } else {
                    "\"__loader_pairs\".\"__loader_owner\""
                };
                const FROM: &str = if LINK.unique {
                    #concat!(" FROM ", #target_sql.table, LINK.joins)
                } else {
                    PAIRS
                };
                const SELECT: &str = #concat!("SELECT ", KEY, ", ", #target_sql.column_list, FROM);
                const LAZY: &str = #concat!("SELECT ", #target_sql.column_list, FROM, " WHERE ", KEY);
                const ORDER: &str = #concat!(" ORDER BY ", KEY, ", ", #target_sql.primary_key);
                #private::ManyToManySql {
                    keyed: #sql {
                        sqlite: #concat!(SELECT, " WHERE ", KEY, " IN rarray(?1)", ORDER),
                        postgres: #concat!(SELECT, " WHERE ", KEY, " = ANY($1)", ORDER),
                    },
                    // Every owner: the targets in their own key order,
                    // grouped by owner in the engine (a counting sort), not
                    // ordered by the owner key, which made the database walk
                    // the join through the middle table's index (2x slower).
                    whole: #sql::both(#concat!(SELECT, " ORDER BY ", #target_sql.primary_key)),
                    lazy: #sql {
                        sqlite: #concat!(LAZY, " = ?1 ORDER BY ", #target_sql.primary_key),
                        postgres: #concat!(LAZY, " = $1 ORDER BY ", #target_sql.primary_key),
                    },
                    owner_key: KEY,
                    from: FROM,
                    shared: !(LINK.unique && LINK.single_owner),
                    links: #links,
                    middle: #apart,
                }
            };
        }

        #[automatically_derived]
        impl #private::Counted for #marker {
            const COUNT: #private::CountSql = #private::CountSql {
                owner: <#marker as #private::ManyToMany>::SQL.owner_key,
                from: <#marker as #private::ManyToMany>::SQL.from,
            };
        }
    }
}

/// `select` narrowed to the owners whose keys are bound to `?1` as one
/// array (`column IN rarray(?1)` on SQLite, `column = ANY($1)` on
/// PostgreSQL), then `rest`: a `Sql` of constant expressions.
fn keyed_sql(select: &TokenStream, column: &TokenStream, rest: &TokenStream) -> TokenStream {
    let private = quote!(::loader_runtime::__private);
    quote! {
        #private::Sql {
            sqlite: #private::concatcp!(#select, " WHERE ", #column, " IN rarray(?1)", #rest),
            postgres: #private::concatcp!(#select, " WHERE ", #column, " = ANY($1)", #rest),
        }
    }
}

/// The statements that read a `has_many` through a `has_many` (or
/// `has_one`) without the JOIN: the middle rows' keys and owner keys, and
/// the targets with the middle key each refers to. Only where the relation
/// followed on the middle entity is itself a plain `has_many` or `has_one`
/// (no joins of its own, no condition, one owner per target); decided at
/// compile time from its `Link`.
fn middle_sql_apart(
    first_marker: &syn::Ident,
    middle: &syn::Path,
    middle_sql: &TokenStream,
    next: &TokenStream,
    target_sql: &TokenStream,
) -> TokenStream {
    let private = quote!(::loader_runtime::__private);
    let concat = quote!(#private::concatcp);
    let sql = quote!(#private::Sql);
    let pairs_keyed = keyed_sql(&quote!(PAIRS), &quote!(OWNER_KEY), &quote!(""));
    let targets_keyed = keyed_sql(&quote!(TAGGED), &quote!(#next.owner_key), &quote!(ORDER));
    quote! {{
        const OWNER_KEY: &str = <#first_marker as #private::HasMany>::SQL.foreign_key;
        const PAIRS: &str = #concat!(
            "SELECT ", #middle_sql.primary_key, ", ", OWNER_KEY, " FROM ", #middle_sql.table
        );
        const TAGGED: &str = #concat!(
            "SELECT ", #next.owner_key, ", ", #target_sql.column_list, " FROM ", #target_sql.table
        );
        const ORDER: &str = #concat!(" ORDER BY ", #target_sql.primary_key);
        if #next.joins.is_empty()
            && #next.condition.is_empty()
            && #next.single_owner
            && #next.owner_alias.is_none()
        {
            ::core::option::Option::Some(#private::MiddleSql {
                middle: <#middle as #private::Entity>::META.name,
                middle_key: #middle_sql.primary_key,
                owner_key: OWNER_KEY,
                target_key: #next.owner_key,
                pairs_keyed: #pairs_keyed,
                pairs_whole: #sql::both(PAIRS),
                targets_keyed: #targets_keyed,
                targets_whole: #sql::both(#concat!(TAGGED, ORDER)),
            })
        } else {
            ::core::option::Option::None
        }
    }}
}

/// The statements that read a `has_many` through a `has_many` (or
/// `has_one`) whose relation followed is a `belongs_to` of the middle
/// entity (the categories of a user's posts) as a `many_to_many` whose
/// join table is the middle table: its distinct (owner key, target key)
/// pairs, then each target they name once. The JOIN reads the same pairs
/// but finds each middle row's target in the target table's index first.
/// Only where that `belongs_to` is the relation's own (its `Link` lends
/// the middle table's alias and names its key column), with no condition.
fn links_of_belongs_to(
    first_marker: &syn::Ident,
    middle_sql: &TokenStream,
    next: &TokenStream,
    target_sql: &TokenStream,
) -> TokenStream {
    let private = quote!(::loader_runtime::__private);
    let concat = quote!(#private::concatcp);
    let sql = quote!(#private::Sql);
    let keyed = keyed_sql(&quote!(PAIRS), &quote!(OWNER_KEY), &quote!(ORDER));
    quote! {{
        const OWNER_KEY: &str = <#first_marker as #private::HasMany>::SQL.foreign_key;
        const TARGET_KEY: &str = #concat!(#middle_sql.table, ".", #next.target_fk);
        const PAIRS: &str = #concat!(
            "SELECT DISTINCT ", OWNER_KEY, ", ", TARGET_KEY, " FROM ", #middle_sql.table
        );
        const ORDER: &str = #concat!(" ORDER BY ", OWNER_KEY, ", ", TARGET_KEY);
        const LINKED: &str = #concat!(
            "SELECT ", #target_sql.column_list, " FROM ", #target_sql.table, " WHERE ",
            #target_sql.primary_key, " IN (SELECT ", TARGET_KEY, " FROM ", #middle_sql.table, ")"
        );
        if #next.owner_alias.is_some()
            && !#next.target_fk.is_empty()
            && #next.condition.is_empty()
        {
            ::core::option::Option::Some(#private::LinksSql {
                keyed: #keyed,
                whole: #sql::both(#concat!(PAIRS, ORDER)),
                linked: #sql::both(#concat!(LINKED, " ORDER BY ", #target_sql.primary_key)),
                linked_body: LINKED,
            })
        } else {
            ::core::option::Option::None
        }
    }}
}

/// How a relation filter finds the targets of a `has_many` through another
/// relation: an `EXISTS` over the middle rows, then one over their targets.
pub fn correlation(entity: &Entity<'_>, relation: &Relation, through: &syn::LitStr) -> TokenStream {
    let private = quote!(::loader_runtime::__private);
    let Some(first) = entity
        .relations
        .iter()
        .find(|other| other.name.unraw() == through.value().as_str())
    else {
        // `check.rs` reported the missing relation; nothing is generated
        // for an entity with errors, so this is not reached.
        return quote!(::core::compile_error!(
            "a relation through another needs that relation on the same entity"
        ));
    };
    let marker = marker_ident(entity, relation);
    let first_marker = marker_ident(entity, first);
    let source_const = source_const(&marker);
    let middle = &first.target;
    quote! {
        #private::Correlation::Via {
            middle_table: <#middle as #private::Entity>::META.sql.table,
            middle_key: <#middle as #private::Entity>::META.sql.primary_key,
            first: &<#first_marker as #private::Correlated>::CORRELATION,
            second: #source_const.correlation,
        }
    }
}
