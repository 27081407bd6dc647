//! Rules that span several attributes, checked on the parsed model.

use syn::ext::IdentExt;

use crate::ctxt::Ctxt;
use crate::model::{Entity, RelationKind};
use crate::symbol::{self, RESERVED_NAMES};

pub fn check(cx: &Ctxt, entity: &Entity<'_>) {
    relation_names(cx, entity);
    owner_keys(cx, entity);
    through_relations(cx, entity);
    polymorphic_names(cx, entity);
}

/// A polymorphic relation's name becomes `Entity::name()`, `value.name()`
/// and `value.load_name(&db)` like any relation's: unique among the
/// entity's relations and fields, and not a generated function's.
fn polymorphic_names(cx: &Ctxt, entity: &Entity<'_>) {
    for (index, poly) in entity.polymorphic.iter().enumerate() {
        let name = poly.name.unraw().to_string();
        let clash = entity
            .relations
            .iter()
            .map(|relation| relation.name.unraw().to_string())
            .chain(
                entity.polymorphic[..index]
                    .iter()
                    .map(|other| other.name.unraw().to_string()),
            )
            .any(|other| other == name);
        if clash {
            cx.error_spanned_by(
                &poly.name,
                format!(
                    "`{}` already has a relation named `{name}`; give this one another `name`",
                    entity.ident
                ),
            );
        }
        if RESERVED_NAMES.contains(&name.as_str()) {
            cx.error_spanned_by(
                &poly.name,
                format!(
                    "a relation cannot be named `{name}`: the derive already generates `{}::{name}`; the reserved names are {}",
                    entity.ident,
                    symbol::list(RESERVED_NAMES)
                ),
            );
        }
        if entity
            .fields
            .iter()
            .any(|f| f.ident.unraw() == name.as_str())
        {
            cx.error_spanned_by(
                &poly.name,
                format!(
                    "relation `{name}` has the name of the field `{}.{name}`; `value.{name}` and `value.{name}()` would read different things. Choose another `name`",
                    entity.ident
                ),
            );
        }
    }
}

/// A `has_many` through another relation goes through a `has_many`,
/// `has_one` or `many_to_many` declared on the same entity (whose rows
/// each hold, or are joined to, the owner's key). The relation it follows
/// on the entity it leads to is found by the compiler.
fn through_relations(cx: &Ctxt, entity: &Entity<'_>) {
    for relation in &entity.relations {
        let RelationKind::HasManyThrough { through, .. } = &relation.kind else {
            continue;
        };
        let wanted = through.value();
        let name = relation.name.unraw();
        let owner = entity.ident;
        let found = entity
            .relations
            .iter()
            .find(|other| other.name.unraw() == wanted.as_str());
        match found.map(|other| &other.kind) {
            Some(RelationKind::HasMany { .. })
            | Some(RelationKind::HasOne { .. })
            | Some(RelationKind::ManyToMany { .. }) => {}
            Some(RelationKind::HasManyAs { .. }) => cx.error_spanned_by(
                through,
                format!(
                    "`{name}` cannot go through `{wanted}`, the inverse of a polymorphic relation: a `has_many` goes through a plain `has_many`, `has_one` or `many_to_many` of `{owner}`"
                ),
            ),
            Some(RelationKind::BelongsTo { .. }) => cx.error_spanned_by(
                through,
                format!(
                    "`{name}` cannot go through `{wanted}`, a `belongs_to`: a `has_many` goes through a `has_many`, `has_one` or `many_to_many` of `{owner}`; to reach the relations of the row `{wanted}` refers to, preload `{owner}::{wanted}().preload(...)`"
                ),
            ),
            Some(RelationKind::HasManyThrough { .. }) if name == wanted => cx
                .error_spanned_by(
                    through,
                    format!("`{name}` cannot go through itself; name a `has_many`, `has_one` or `many_to_many` of `{owner}`"),
                ),
            Some(RelationKind::HasManyThrough { .. }) => cx.error_spanned_by(
                through,
                format!(
                    "`{name}` cannot go through `{wanted}`, itself a relation through another: go through the first relation of the chain, and follow a relation through the rest with `source = \"...\"` (declared on the entity gone through)"
                ),
            ),
            None => {
                let names: Vec<String> = entity
                    .relations
                    .iter()
                    .filter(|other| {
                        matches!(
                            other.kind,
                            RelationKind::HasMany { .. }
                                | RelationKind::HasOne { .. }
                                | RelationKind::ManyToMany { .. }
                        )
                    })
                    .map(|other| other.name.unraw().to_string())
                    .collect();
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                let hint = match crate::suggest::closest_name(&wanted, &names) {
                    Some(meant) => format!("did you mean `{meant}`? "),
                    None => String::new(),
                };
                let listed = if names.is_empty() {
                    format!("`{owner}` declares none")
                } else {
                    format!("those of `{owner}` are {}", symbol::list(&names))
                };
                cx.error_spanned_by(
                    through,
                    format!(
                        "`{owner}` has no relation named `{wanted}` to go through; {hint}`through` names a `has_many`, `has_one` or `many_to_many` declared on `{owner}`, and {listed}"
                    ),
                );
            }
        }
    }
}

/// Every relation but `belongs_to` finds its targets by the owner's key, so
/// the owner needs a single-column one.
fn owner_keys(cx: &Ctxt, entity: &Entity<'_>) {
    if entity.single_key().is_some() {
        return;
    }
    for relation in entity.relations.iter().filter(|r| r.needs_owner_key()) {
        cx.error_spanned_by(
            &relation.target,
            format!(
                "`#[{}]` needs `{}` to have a single-column primary key, and its key is composite; declare the relation on `{}` instead, or use `belongs_to` from `{}`",
                relation.kind_name(),
                entity.ident,
                relation.target_name(),
                entity.ident,
            ),
        );
    }
}

/// Each relation name becomes `Entity::name()`, `value.name()` and
/// `value.load_name(&db)`: it must be unique on the entity and must not
/// shadow a field or a generated function.
fn relation_names(cx: &Ctxt, entity: &Entity<'_>) {
    for (index, relation) in entity.relations.iter().enumerate() {
        let name = relation.name.unraw().to_string();
        let earlier = entity.relations[..index]
            .iter()
            .find(|other| other.name.unraw() == name.as_str());
        if let Some(earlier) = earlier {
            cx.error_spanned_by(
                &relation.name,
                format!(
                    "`{}` already has a relation named `{name}` (`#[{}({}, ...)]`); give one of them another name with `name = \"...\"`",
                    entity.ident,
                    earlier.kind_name(),
                    earlier.target_name(),
                ),
            );
        }
        if RESERVED_NAMES.contains(&name.as_str()) {
            cx.error_spanned_by(
                &relation.name,
                format!(
                    "a relation cannot be named `{name}`: the derive already generates `{}::{name}`; the reserved names are {}. Choose another with `name = \"...\"`",
                    entity.ident,
                    symbol::list(RESERVED_NAMES)
                ),
            );
        }
        if let Some(field) = entity
            .fields
            .iter()
            .find(|f| f.ident.unraw() == name.as_str())
        {
            cx.error_spanned_by(
                &relation.name,
                format!(
                    "relation `{name}` has the name of the field `{}.{}`; `value.{name}` and `value.{name}()` would read different things. Choose another name with `name = \"...\"`",
                    entity.ident, field.ident
                ),
            );
        }
        let count_clash = entity
            .relations
            .iter()
            .filter(|other| other.is_counted())
            .find(|other| format!("{}_count", other.name.unraw()) == name);
        if let Some(other) = count_clash {
            cx.error_spanned_by(
                &relation.name,
                format!(
                    "relation `{name}` has the name of the count accessor of relation `{}`; choose another name with `name = \"...\"`",
                    other.name
                ),
            );
        }
        let lazy_clash = entity
            .relations
            .iter()
            .find(|other| format!("load_{}", other.name.unraw()) == name);
        if let Some(other) = lazy_clash {
            cx.error_spanned_by(
                &relation.name,
                format!(
                    "relation `{name}` has the name of the lazy loader of relation `{}`; choose another name with `name = \"...\"`",
                    other.name
                ),
            );
        }
    }
}
