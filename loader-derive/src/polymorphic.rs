//! `#[polymorphic(Post = "post", Photo = "photo", fk = "commentable_id",
//! type_column = "commentable_type", name = "commentable")]`: parsed into
//! the model's [`Polymorphic`], every mistake reported on its token.

use syn::ext::IdentExt;
use syn::parse::ParseStream;
use syn::{Attribute, DeriveInput, Ident, LitStr, Path, Token};

use crate::ctxt::Ctxt;
use crate::model::{Field, Polymorphic, PolymorphicTarget};
use crate::symbol::{self, FK, NAME, POLYMORPHIC_KEYS, TYPE_COLUMN};

const EXAMPLE: &str = "#[polymorphic(Post = \"post\", Photo = \"photo\", fk = \"commentable_id\", type_column = \"commentable_type\", name = \"commentable\")]";

/// The attribute as written.
pub struct RawPolymorphic {
    attr_span: proc_macro2::TokenStream,
    targets: Vec<(Path, LitStr)>,
    name: Option<LitStr>,
    fk: Option<LitStr>,
    type_column: Option<LitStr>,
}

pub fn parse(cx: &Ctxt, attr: &Attribute) -> Option<RawPolymorphic> {
    let mut raw = RawPolymorphic {
        attr_span: quote::ToTokens::to_token_stream(attr),
        targets: Vec::new(),
        name: None,
        fk: None,
        type_column: None,
    };
    let result = attr.parse_args_with(|input: ParseStream| {
        while !input.is_empty() {
            let path = input.call(Path::parse_mod_style)?;
            input.parse::<Token![=]>()?;
            let value: LitStr = input.parse().map_err(|error| {
                syn::Error::new(
                    error.span(),
                    format!("expected a string literal, as in `{EXAMPLE}`"),
                )
            })?;
            // A lowercase single identifier is a key; anything else names a
            // target entity.
            let key = path
                .get_ident()
                .map(|ident| ident.unraw().to_string())
                .filter(|key| key.starts_with(|c: char| c.is_lowercase() || c == '_'));
            match key.as_deref() {
                Some(NAME) => set(cx, &mut raw.name, value, NAME),
                Some(FK) => set(cx, &mut raw.fk, value, FK),
                Some(TYPE_COLUMN) => set(cx, &mut raw.type_column, value, TYPE_COLUMN),
                Some(other) => {
                    let place = format!("#[{}(...)]", symbol::POLYMORPHIC);
                    let (message, meant) =
                        crate::suggest::unknown_key_message(other, &place, POLYMORPHIC_KEYS);
                    let message = match meant {
                        Some(_) => message,
                        None => format!("{message}; targets are written as `Post = \"post\"`"),
                    };
                    cx.error_spanned_by(&path, message);
                    match meant {
                        Some(NAME) => set(cx, &mut raw.name, value, NAME),
                        Some(FK) => set(cx, &mut raw.fk, value, FK),
                        Some(TYPE_COLUMN) => set(cx, &mut raw.type_column, value, TYPE_COLUMN),
                        _ => {}
                    }
                }
                None => raw.targets.push((path, value)),
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(())
    });
    if let Err(error) = result {
        cx.syn_error(error);
        return None;
    }
    Some(raw)
}

fn set(cx: &Ctxt, slot: &mut Option<LitStr>, value: LitStr, key: &str) {
    if slot.is_some() {
        cx.error_spanned_by(&value, format!("duplicate `{key}` key"));
    } else {
        *slot = Some(value);
    }
}

/// The field named by `lit` (its name or its column), or an error listing
/// the fields.
fn field_named(
    cx: &Ctxt,
    input: &DeriveInput,
    fields: &[Field<'_>],
    lit: &LitStr,
) -> Option<usize> {
    let wanted = lit.value();
    let found = fields
        .iter()
        .position(|field| field.ident.unraw() == wanted.as_str() || field.column == wanted);
    if found.is_none() {
        let names: Vec<String> = fields.iter().map(|f| f.ident.unraw().to_string()).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        cx.error_spanned_by(
            lit,
            format!(
                "`{}` has no field or column named `{wanted}`; its fields are {}",
                input.ident,
                symbol::list(&names)
            ),
        );
    }
    found
}

pub fn resolve(
    cx: &Ctxt,
    input: &DeriveInput,
    fields: &[Field<'_>],
    raw: RawPolymorphic,
) -> Option<Polymorphic> {
    let missing = |key: &str, what: &str| {
        cx.error_spanned_by(
            &raw.attr_span,
            format!("missing `{key}`: name {what}, as in `{EXAMPLE}`"),
        );
    };
    if raw.name.is_none() {
        missing(
            NAME,
            "the relation (it names `Entity::name()` and `value.name()`)",
        );
    }
    if raw.fk.is_none() {
        missing(FK, "the field that holds the target's key");
    }
    if raw.type_column.is_none() {
        missing(TYPE_COLUMN, "the field that holds the target's type");
    }
    if raw.targets.is_empty() {
        cx.error_spanned_by(
            &raw.attr_span,
            format!("a polymorphic relation needs its targets, each with the type column's value that names it, as in `{EXAMPLE}`"),
        );
    }
    let mut targets: Vec<PolymorphicTarget> = Vec::new();
    for (path, value) in raw.targets {
        let Some(last) = path.segments.last() else {
            continue;
        };
        let variant = last.ident.clone();
        if value.value().is_empty() {
            cx.error_spanned_by(&value, "a type value cannot be empty");
        }
        if let Some(earlier) = targets.iter().find(|t| t.variant == variant) {
            cx.error_spanned_by(
                &path,
                format!("`{}` is already a target of this relation", earlier.variant),
            );
            continue;
        }
        if let Some(earlier) = targets.iter().find(|t| t.value.value() == value.value()) {
            cx.error_spanned_by(
                &value,
                format!(
                    "`{}` already names `{}`: each target needs its own type value",
                    value.value(),
                    earlier.variant
                ),
            );
            continue;
        }
        targets.push(PolymorphicTarget {
            path,
            variant,
            value,
        });
    }
    let name = raw
        .name
        .as_ref()
        .and_then(|lit| match lit.parse_with(Ident::parse_any) {
            Ok(ident) => crate::attr::reserved_to_raw(cx, ident),
            Err(_) => {
                cx.error_spanned_by(
                    lit,
                    "a relation name must be a Rust identifier such as \"commentable\"",
                );
                None
            }
        });
    let fk_field = raw
        .fk
        .as_ref()
        .and_then(|lit| field_named(cx, input, fields, lit));
    let type_field = raw
        .type_column
        .as_ref()
        .and_then(|lit| field_named(cx, input, fields, lit));
    Some(Polymorphic {
        name: name?,
        fk_field: fk_field?,
        fk: raw.fk?,
        type_field: type_field?,
        targets,
    })
}
