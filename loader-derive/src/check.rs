//! Rules that span several attributes, checked on the parsed model.

use syn::ext::IdentExt;

use crate::ctxt::Ctxt;
use crate::model::Entity;
use crate::symbol::{self, RESERVED_NAMES};

pub fn check(cx: &Ctxt, entity: &Entity<'_>) {
    relation_names(cx, entity);
    owner_keys(cx, entity);
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
