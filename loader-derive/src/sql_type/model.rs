//! The validated shape of a `#[derive(SqlType)]` input.

use syn::{Data, DeriveInput, Fields, LitStr};

use crate::ctxt::Ctxt;
use crate::symbol::{
    self, ENUM_KEYS, INTEGER, RENAME, RENAME_ALL, RENAME_RULES, SQL_TYPE, TEXT, VARIANT_KEYS,
};

pub struct SqlType<'a> {
    pub ident: &'a syn::Ident,
    pub generics: &'a syn::Generics,
    pub shape: Shape<'a>,
}

pub enum Shape<'a> {
    /// A struct of one field, read and bound as that field's type.
    Newtype {
        member: syn::Member,
        ty: &'a syn::Type,
    },
    /// A fieldless enum stored as one label per variant.
    Text(Vec<(&'a syn::Ident, String)>),
    /// A fieldless enum stored as its discriminants.
    Integer(Vec<&'a syn::Ident>),
}

pub fn parse<'a>(cx: &Ctxt, input: &'a DeriveInput) -> Option<SqlType<'a>> {
    let shape = match &input.data {
        Data::Struct(data) => newtype(cx, input, &data.fields),
        Data::Enum(data) => enumeration(cx, input, data),
        Data::Union(_) => {
            cx.error_spanned_by(
                &input.ident,
                "`SqlType` can be derived for a struct of one field (a newtype) or a fieldless enum, not a union",
            );
            None
        }
    }?;
    Some(SqlType {
        ident: &input.ident,
        generics: &input.generics,
        shape,
    })
}

fn newtype<'a>(cx: &Ctxt, input: &'a DeriveInput, fields: &'a Fields) -> Option<Shape<'a>> {
    for attr in input
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident(SQL_TYPE))
    {
        cx.error_spanned_by(
            attr,
            "`#[sql_type(...)]` is for enums; a newtype is stored as its field's type",
        );
    }
    let mut iter = fields.iter();
    match (iter.next(), iter.next()) {
        (Some(field), None) => Some(Shape::Newtype {
            member: match &field.ident {
                Some(ident) => syn::Member::Named(ident.clone()),
                None => syn::Member::Unnamed(0.into()),
            },
            ty: &field.ty,
        }),
        _ => {
            cx.error_spanned_by(
                &input.ident,
                format!(
                    "`SqlType` on a struct needs exactly one field, the stored value (like `struct {}(i64);`); this one has {}",
                    input.ident,
                    fields.len()
                ),
            );
            None
        }
    }
}

/// How an enum is stored, from `#[sql_type(...)]` on it.
struct EnumOptions {
    integer: bool,
    rename_all: Option<String>,
}

fn enum_options(cx: &Ctxt, input: &DeriveInput) -> EnumOptions {
    let mut options = EnumOptions {
        integer: false,
        rename_all: None,
    };
    for attr in input
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident(SQL_TYPE))
    {
        let parsed = attr.parse_nested_meta(|meta| {
            let key = key_of(cx, &meta, "#[sql_type(...)] on an enum", ENUM_KEYS);
            if key == Some(INTEGER) {
                options.integer = true;
            } else if key == Some(TEXT) {
                options.integer = false;
            } else if key == Some(RENAME_ALL) {
                let rule: LitStr = meta.value()?.parse()?;
                if RENAME_RULES.contains(&rule.value().as_str()) {
                    options.rename_all = Some(rule.value());
                } else if let Some(meant) = crate::suggest::closest(&rule.value(), RENAME_RULES) {
                    cx.error_spanned_by(
                        &rule,
                        format!(
                            "unknown `rename_all` rule `{}`; did you mean `{meant}`?",
                            rule.value()
                        ),
                    );
                    options.rename_all = Some(meant.to_owned());
                } else {
                    cx.error_spanned_by(
                        &rule,
                        format!(
                            "unknown `rename_all` rule `{}`; expected one of {}",
                            rule.value(),
                            symbol::list(RENAME_RULES)
                        ),
                    );
                }
            } else if meta.input.peek(syn::Token![=]) {
                meta.value()?.parse::<syn::Expr>()?;
            }
            Ok(())
        });
        if let Err(error) = parsed {
            cx.syn_error(error);
        }
    }
    let attr = input
        .attrs
        .iter()
        .find(|attr| attr.path().is_ident(SQL_TYPE));
    if let (true, Some(_), Some(attr)) = (options.integer, &options.rename_all, attr) {
        cx.error_spanned_by(
            attr,
            "`rename_all` names text labels; an `integer` enum is stored as its discriminants",
        );
    }
    options
}

fn enumeration<'a>(
    cx: &Ctxt,
    input: &'a DeriveInput,
    data: &'a syn::DataEnum,
) -> Option<Shape<'a>> {
    let options = enum_options(cx, input);
    if data.variants.is_empty() {
        cx.error_spanned_by(
            &input.ident,
            "`SqlType` needs an enum with at least one variant",
        );
        return None;
    }
    let mut labels = Vec::new();
    let mut idents = Vec::new();
    for variant in &data.variants {
        if !matches!(variant.fields, Fields::Unit) {
            cx.error_spanned_by(
                &variant.fields,
                format!(
                    "variant `{}` has fields; `SqlType` enums are stored as one label or number per variant, so every variant must be fieldless",
                    variant.ident
                ),
            );
            continue;
        }
        let mut rename = None;
        for attr in variant
            .attrs
            .iter()
            .filter(|attr| attr.path().is_ident(SQL_TYPE))
        {
            let parsed = attr.parse_nested_meta(|meta| {
                let key = key_of(cx, &meta, "#[sql_type(...)] on a variant", VARIANT_KEYS);
                if key == Some(RENAME) {
                    let label: LitStr = meta.value()?.parse()?;
                    if options.integer {
                        cx.error_spanned_by(&label, "an `integer` enum is stored as its discriminants; give the variant `= N` instead of a `rename`");
                    }
                    rename = Some(label.value());
                    Ok(())
                } else {
                    if meta.input.peek(syn::Token![=]) {
                        meta.value()?.parse::<syn::Expr>()?;
                    }
                    Ok(())
                }
            });
            if let Err(error) = parsed {
                cx.syn_error(error);
            }
        }
        let label = rename.unwrap_or_else(|| {
            apply_rule(&variant.ident.to_string(), options.rename_all.as_deref())
        });
        if let Some((other, _)) = labels.iter().find(|(_, existing)| *existing == label) {
            cx.error_spanned_by(
                &variant.ident,
                format!(
                    "variants `{other}` and `{}` are both stored as `{label}`",
                    variant.ident
                ),
            );
        }
        labels.push((&variant.ident, label));
        idents.push(&variant.ident);
    }
    Some(if options.integer {
        Shape::Integer(idents)
    } else {
        Shape::Text(labels)
    })
}

/// The key `meta` names, or the one it most likely means (reported).
fn key_of(
    cx: &Ctxt,
    meta: &syn::meta::ParseNestedMeta<'_>,
    place: &str,
    valid: &[&'static str],
) -> Option<&'static str> {
    let written = meta
        .path
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_default();
    if let Some(key) = valid.iter().find(|key| **key == written) {
        return Some(key);
    }
    let (message, meant) = crate::suggest::unknown_key_message(&written, place, valid);
    cx.error_spanned_by(&meta.path, message);
    meant
}

/// The label of a variant named `ident` (PascalCase) under `rule`.
pub fn apply_rule(ident: &str, rule: Option<&str>) -> String {
    use heck::{ToKebabCase, ToLowerCamelCase, ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};
    match rule {
        None => ident.to_owned(),
        Some("lowercase") => ident.to_lowercase(),
        Some("UPPERCASE") => ident.to_uppercase(),
        Some("snake_case") => ident.to_snake_case(),
        Some("SCREAMING_SNAKE_CASE") => ident.to_shouty_snake_case(),
        Some("kebab-case") => ident.to_kebab_case(),
        Some("camelCase") => ident.to_lower_camel_case(),
        Some(_) => ident.to_upper_camel_case(),
    }
}
