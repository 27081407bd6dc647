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
            if meta.path.is_ident(INTEGER) {
                options.integer = true;
            } else if meta.path.is_ident(TEXT) {
                options.integer = false;
            } else if meta.path.is_ident(RENAME_ALL) {
                let rule: LitStr = meta.value()?.parse()?;
                if RENAME_RULES.contains(&rule.value().as_str()) {
                    options.rename_all = Some(rule.value());
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
            } else {
                return Err(meta.error(format!(
                    "unknown key in `#[sql_type(...)]` on an enum; expected one of {}",
                    symbol::list(ENUM_KEYS)
                )));
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
                if meta.path.is_ident(RENAME) {
                    let label: LitStr = meta.value()?.parse()?;
                    if options.integer {
                        cx.error_spanned_by(&label, "an `integer` enum is stored as its discriminants; give the variant `= N` instead of a `rename`");
                    }
                    rename = Some(label.value());
                    Ok(())
                } else {
                    Err(meta.error(format!(
                        "unknown key in `#[sql_type(...)]` on a variant; expected {}",
                        symbol::list(VARIANT_KEYS)
                    )))
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

/// The label of a variant named `ident` (PascalCase) under `rule`.
pub fn apply_rule(ident: &str, rule: Option<&str>) -> String {
    let Some(rule) = rule else {
        return ident.to_owned();
    };
    let mut words: Vec<String> = Vec::new();
    for c in ident.chars() {
        if c.is_uppercase() || words.is_empty() || c == '_' {
            words.push(String::new());
        }
        if let (true, Some(word)) = (c != '_', words.last_mut()) {
            word.push(c);
        }
    }
    words.retain(|word| !word.is_empty());
    let lower: Vec<String> = words.iter().map(|word| word.to_lowercase()).collect();
    let capitalized = |word: &String| {
        let mut chars = word.chars();
        chars
            .next()
            .map(|first| first.to_uppercase().chain(chars).collect::<String>())
            .unwrap_or_default()
    };
    match rule {
        "lowercase" => ident.to_lowercase(),
        "UPPERCASE" => ident.to_uppercase(),
        "snake_case" => lower.join("_"),
        "SCREAMING_SNAKE_CASE" => lower.join("_").to_uppercase(),
        "kebab-case" => lower.join("-"),
        "camelCase" => {
            let mut out = lower.first().cloned().unwrap_or_default();
            out.extend(lower.iter().skip(1).map(capitalized));
            out
        }
        _ => lower.iter().map(capitalized).collect(),
    }
}
