//! Attributes to model: reads `#[entity]`, `#[has_many]` and `#[belongs_to]`,
//! records every mistake in the [`Ctxt`], and builds the [`Entity`] model.

use heck::ToSnakeCase;
use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::meta::ParseNestedMeta;
use syn::parse::ParseStream;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Fields, Ident, LitStr, Path, Token, Type};

use crate::ctxt::Ctxt;
use crate::model::{Entity, Field, Relation, RelationKind};
use crate::suggest;
use crate::symbol::{
    self, AS, BELONGS_TO, COLUMN, ENTITY, FIELD_KEYS, FK, HAS_MANY, HAS_MANY_KEYS, HAS_ONE,
    HAS_ONE_KEYS, MANY_TO_MANY, MANY_TO_MANY_KEYS, NAME, PRIMARY_KEY, RELATION_KEYS, SOURCE,
    STRUCT_KEYS, TABLE, TARGET_FK, THROUGH,
};

/// Parses `input` into a model. Returns `None` when the input is not a struct
/// with named fields or has no usable primary key; every problem found is in
/// `cx` either way.
pub fn parse<'a>(cx: &Ctxt, input: &'a DeriveInput) -> Option<Entity<'a>> {
    let named = struct_fields(cx, input);
    if !input.generics.params.is_empty() {
        cx.error_spanned_by(
            &input.generics,
            "generic entities are not supported: an entity maps to one table with fixed column types; remove the type parameters",
        );
    }

    let mut table = None;
    let mut raw_relations = Vec::new();
    let mut raw_polymorphic = Vec::new();
    for attr in &input.attrs {
        if attr.path().is_ident(ENTITY) {
            parse_struct_entity_attr(cx, attr, &mut table);
        } else if let Some(kind) = RawKind::of(attr) {
            raw_relations.extend(parse_relation(cx, attr, kind));
        } else if attr.path().is_ident(crate::symbol::POLYMORPHIC) {
            raw_polymorphic.extend(crate::polymorphic::parse(cx, attr));
        }
    }

    let named = named?;
    let mut fields = Vec::new();
    let mut primary_keys: Vec<(usize, Span)> = Vec::new();
    for field in named {
        let Some(ident) = field.ident.as_ref() else {
            continue;
        };
        if let Some((_, default)) = &field.default {
            cx.error_spanned_by(
                default,
                "default field values are not supported on entities: every field is read from its column",
            );
        }
        let mut column: Option<LitStr> = None;
        for attr in &field.attrs {
            if attr.path().is_ident(ENTITY) {
                if let Some(span) = parse_field_entity_attr(cx, attr, &mut column) {
                    primary_keys.push((fields.len(), span));
                }
            } else if RawKind::of(attr).is_some()
                || attr.path().is_ident(crate::symbol::POLYMORPHIC)
            {
                cx.error_spanned_by(
                    attr,
                    format!(
                        "`#[{}]` belongs on the struct, not on a field: write it above `struct {}`",
                        path_name(attr.path()),
                        input.ident
                    ),
                );
            }
        }
        let (column, column_span) = match column {
            Some(lit) => (lit.value(), lit.span()),
            None => (ident.unraw().to_string(), ident.span()),
        };
        fields.push(Field {
            ident,
            ty: &field.ty,
            column,
            column_span,
        });
    }

    let primary_key = primary_key(cx, input, &fields, &primary_keys)?;
    let relations = raw_relations
        .into_iter()
        .filter_map(|raw| resolve_relation(cx, input, &fields, raw))
        .collect();
    let polymorphic = raw_polymorphic
        .into_iter()
        .filter_map(|raw| crate::polymorphic::resolve(cx, input, &fields, raw))
        .collect();
    let table = match table {
        Some(lit) => lit.value(),
        None => input.ident.unraw().to_string().to_snake_case(),
    };
    Some(Entity {
        ident: &input.ident,
        vis: &input.vis,
        table,
        fields,
        primary_key,
        relations,
        polymorphic,
    })
}

fn struct_fields<'a>(
    cx: &Ctxt,
    input: &'a DeriveInput,
) -> Option<&'a syn::punctuated::Punctuated<syn::Field, Token![,]>> {
    match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(named) => Some(&named.named),
            Fields::Unnamed(unnamed) => {
                cx.error_spanned_by(
                    unnamed,
                    "`Entity` needs a struct with named fields: a tuple struct has no field names to map to columns",
                );
                None
            }
            Fields::Unit => {
                cx.error_spanned_by(
                    &input.ident,
                    "`Entity` needs a struct with named fields: a unit struct has no fields to map to columns",
                );
                None
            }
        },
        Data::Enum(data) => {
            cx.error_spanned_by(
                data.enum_token,
                "`Entity` can only be derived for a struct with named fields, not for an enum",
            );
            None
        }
        Data::Union(data) => {
            cx.error_spanned_by(
                data.union_token,
                "`Entity` can only be derived for a struct with named fields, not for a union",
            );
            None
        }
    }
}

/// `#[entity(table = "...")]` on the struct.
fn parse_struct_entity_attr(cx: &Ctxt, attr: &Attribute, table: &mut Option<LitStr>) {
    let result = attr.parse_nested_meta(|meta| {
        let misplaced = meta.path.is_ident(PRIMARY_KEY) || meta.path.is_ident(COLUMN);
        let key = match misplaced {
            true => None,
            false => key_of(cx, &meta, "#[entity(...)] on a struct", STRUCT_KEYS)?,
        };
        if key == Some(TABLE) {
            let lit: LitStr = meta.value()?.parse()?;
            if lit.value().is_empty() {
                cx.error_spanned_by(&lit, "the table name cannot be empty");
            }
            // A guessed key (`tabel`) beside the real one is reported once,
            // as unknown, not also as a duplicate.
            match table.is_some() {
                false => *table = Some(lit),
                true if meta.path.is_ident(TABLE) => {
                    cx.error_spanned_by(&meta.path, "duplicate `table` key");
                }
                true => {}
            }
        } else if misplaced {
            cx.error_spanned_by(
                &meta.path,
                format!(
                    "`{}` belongs on a field, not on the struct: write `#[entity({})]` above the field",
                    path_name(&meta.path),
                    path_name(&meta.path)
                ),
            );
            skip_value(&meta)?;
        }
        Ok(())
    });
    if let Err(error) = result {
        cx.syn_error(error);
    }
}

/// `#[entity(primary_key)]` and `#[entity(column = "...")]` on a field.
/// Returns the span of `primary_key` if the attribute has it.
fn parse_field_entity_attr(
    cx: &Ctxt,
    attr: &Attribute,
    column: &mut Option<LitStr>,
) -> Option<Span> {
    let mut primary_key = None;
    let result = attr.parse_nested_meta(|meta| {
        let misplaced = meta.path.is_ident(TABLE);
        let key = match misplaced {
            true => None,
            false => key_of(cx, &meta, "#[entity(...)] on a field", FIELD_KEYS)?,
        };
        if key == Some(PRIMARY_KEY) {
            if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
                cx.error_spanned_by(
                    &meta.path,
                    "`primary_key` takes no value: write `#[entity(primary_key)]`",
                );
                skip_value(&meta)?;
            }
            match primary_key.is_some() {
                false => primary_key = Some(meta.path.span()),
                true if meta.path.is_ident(PRIMARY_KEY) => {
                    cx.error_spanned_by(&meta.path, "duplicate `primary_key` key");
                }
                true => {}
            }
        } else if key == Some(COLUMN) {
            let lit: LitStr = meta.value()?.parse()?;
            if lit.value().is_empty() {
                cx.error_spanned_by(&lit, "the column name cannot be empty");
            }
            match column.is_some() {
                false => *column = Some(lit),
                true if meta.path.is_ident(COLUMN) => {
                    cx.error_spanned_by(&meta.path, "duplicate `column` key");
                }
                true => {}
            }
        } else if misplaced {
            cx.error_spanned_by(
                &meta.path,
                "`table` belongs on the struct, not on a field: write `#[entity(table = \"...\")]` above the struct",
            );
            skip_value(&meta)?;
        }
        Ok(())
    });
    if let Err(error) = result {
        cx.syn_error(error);
    }
    primary_key
}

#[derive(Clone, Copy, PartialEq)]
enum RawKind {
    HasMany,
    HasOne,
    BelongsTo,
    ManyToMany,
}

impl RawKind {
    fn of(attr: &Attribute) -> Option<RawKind> {
        let path = attr.path();
        [
            (HAS_MANY, RawKind::HasMany),
            (HAS_ONE, RawKind::HasOne),
            (BELONGS_TO, RawKind::BelongsTo),
            (MANY_TO_MANY, RawKind::ManyToMany),
        ]
        .into_iter()
        .find(|(name, _)| path.is_ident(name))
        .map(|(_, kind)| kind)
    }

    fn attr(self) -> &'static str {
        match self {
            RawKind::HasMany => HAS_MANY,
            RawKind::HasOne => HAS_ONE,
            RawKind::BelongsTo => BELONGS_TO,
            RawKind::ManyToMany => MANY_TO_MANY,
        }
    }

    fn example(self) -> &'static str {
        match self {
            RawKind::HasMany => "#[has_many(Post, fk = \"author_id\")]",
            RawKind::HasOne => "#[has_one(Profile, fk = \"user_id\")]",
            RawKind::BelongsTo => "#[belongs_to(User, fk = \"author_id\")]",
            RawKind::ManyToMany => {
                "#[many_to_many(Tag, through = \"post_tags\", fk = \"post_id\", target_fk = \"tag_id\")]"
            }
        }
    }

    fn keys(self) -> &'static [&'static str] {
        match self {
            RawKind::ManyToMany => MANY_TO_MANY_KEYS,
            RawKind::HasMany => HAS_MANY_KEYS,
            RawKind::HasOne => HAS_ONE_KEYS,
            _ => RELATION_KEYS,
        }
    }
}

/// A relation attribute as written, before its names are resolved.
struct RawRelation {
    kind: RawKind,
    target: Path,
    fk: LitStr,
    name: Option<Ident>,
    through: Option<LitStr>,
    target_fk: Option<LitStr>,
    source: Option<LitStr>,
    poly: Option<LitStr>,
}

/// The identifier in `name = "..."`, or `None` after reporting why it is
/// not one.
fn relation_name(cx: &Ctxt, lit: &LitStr) -> Option<Ident> {
    match lit.parse_with(Ident::parse_any) {
        Ok(ident) => reserved_to_raw(cx, ident),
        Err(_) => {
            cx.error_spanned_by(
                lit,
                "a relation name must be a Rust identifier such as \"author\": it names the methods `author()` and `load_author()`",
            );
            None
        }
    }
}

/// `#[has_many(Target, fk = "...", name = "...")]` and `#[belongs_to(...)]`.
fn parse_relation(cx: &Ctxt, attr: &Attribute, kind: RawKind) -> Option<RawRelation> {
    let parsed = attr.parse_args_with(|input: ParseStream| {
        let target = input.call(Path::parse_mod_style).map_err(|error| {
            syn::Error::new(
                error.span(),
                format!(
                    "expected the related entity first, as in `{}`",
                    kind.example()
                ),
            )
        })?;
        if input.peek(Token![=]) {
            return Err(input.error(format!(
                "the related entity comes first, then the keys: `{}`",
                kind.example()
            )));
        }
        if input.peek(Token![<]) || input.peek(Token![::]) {
            return Err(input.error(
                "the related entity must be named by a plain path, such as `Post` or `crate::blog::Post`, without generic arguments",
            ));
        }
        let mut fk: Option<LitStr> = None;
        let mut name: Option<LitStr> = None;
        let mut through: Option<LitStr> = None;
        let mut target_fk: Option<LitStr> = None;
        let mut source: Option<LitStr> = None;
        let mut poly: Option<LitStr> = None;
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            let key = input.call(Ident::parse_any)?;
            input.parse::<Token![=]>()?;
            let value: LitStr = input.parse().map_err(|error| {
                syn::Error::new(
                    error.span(),
                    format!("expected a string literal, as in `{key} = \"...\"`"),
                )
            })?;
            let valid = kind.keys();
            let written = key.to_string();
            let meant = match valid.iter().find(|valid| **valid == written) {
                Some(valid) => Some(*valid),
                None if written == THROUGH || written == TARGET_FK || written == SOURCE => {
                    cx.error_spanned_by(
                        &key,
                        format!(
                            "unknown key `{key}` in `#[{}(...)]`; valid keys are {}; `{key}` belongs to {}",
                            kind.attr(),
                            symbol::list(valid),
                            match written.as_str() {
                                TARGET_FK => "`#[many_to_many(...)]`, a relation through a join table",
                                SOURCE => "`#[has_many(..., through = \"...\")]`, a relation through another relation",
                                _ => "`#[many_to_many(...)]` (a join table) and `#[has_many(...)]` (another relation)",
                            }
                        ),
                    );
                    None
                }
                None => {
                    let place = format!("#[{}(...)]", kind.attr());
                    let (message, meant) = suggest::unknown_key_message(&written, &place, valid);
                    cx.error_spanned_by(&key, message);
                    // A key that surely means a valid one counts as it, so
                    // its absence is not reported as well.
                    meant
                }
            };
            let slot = match meant {
                Some(FK) => &mut fk,
                Some(NAME) => &mut name,
                Some(THROUGH) => &mut through,
                Some(TARGET_FK) => &mut target_fk,
                Some(SOURCE) => &mut source,
                Some(AS) => &mut poly,
                _ => continue,
            };
            match slot.is_some() {
                false => *slot = Some(value),
                true if meant == Some(written.as_str()) => {
                    cx.error_spanned_by(&key, format!("duplicate `{key}` key"));
                }
                true => {}
            }
        }
        Ok((target, fk, name, through, target_fk, source, poly))
    });
    let (target, fk, name, through, target_fk, source, poly) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => {
            cx.syn_error(error);
            return None;
        }
    };
    let mut complete = true;
    let mut misused = false;
    let mut require = |value: &Option<LitStr>, key: &str, what: &str| {
        match value {
            None => cx.error_spanned_by(
                attr,
                format!("missing `{key}`: name {what}, as in `{}`", kind.example()),
            ),
            Some(lit) if lit.value().is_empty() => {
                cx.error_spanned_by(lit, format!("`{key}` cannot be empty"));
            }
            Some(_) => return,
        }
        complete = false;
    };
    if kind == RawKind::ManyToMany {
        require(&through, THROUGH, "the join table");
        require(
            &fk,
            FK,
            "the join table's column that holds this entity's key",
        );
        require(
            &target_fk,
            TARGET_FK,
            "the join table's column that holds the target's key",
        );
    } else if let Some(poly) = &poly {
        // The inverse of a polymorphic relation: its keys are that
        // relation's.
        require(&Some(poly.clone()), AS, "the target's polymorphic relation");
        for other in [&fk, &through].into_iter().flatten() {
            cx.error_spanned_by(
                other,
                format!(
                    "`as = \"{}\"` takes its keys from the polymorphic relation it names on the target; remove this key",
                    poly.value()
                ),
            );
            misused = true;
        }
    } else if let (RawKind::HasMany, Some(through)) = (kind, &through) {
        // Through another relation: the keys are those of the relations
        // gone through.
        require(&Some(through.clone()), THROUGH, "the relation gone through");
        if let Some(fk) = &fk {
            cx.error_spanned_by(
                fk,
                format!(
                    "`#[has_many(..., through = \"{}\")]` goes through another relation of this entity and takes no `fk`; for a join table holding both keys, write `#[many_to_many(Target, through = \"{}\", fk = \"...\", target_fk = \"...\")]`",
                    through.value(),
                    through.value()
                ),
            );
            misused = true;
        }
    } else {
        require(&fk, FK, "the foreign key column");
        if let Some(source) = &source {
            cx.error_spanned_by(
                source,
                "`source` names the relation followed on the entity gone through; add `through = \"...\"` naming a relation of this entity, or remove `source`",
            );
            misused = true;
        }
    }
    let complete = complete && !misused;
    let name = name.and_then(|lit| relation_name(cx, &lit));
    // A relation through another one is named by its `through` literal
    // where others are by their `fk`.
    let fk = match (kind, &through, &poly) {
        (_, _, Some(poly)) => Some(poly.clone()),
        (RawKind::HasMany, Some(through), _) => Some(through.clone()),
        _ => fk,
    };
    let fk = fk.filter(|_| complete)?;
    Some(RawRelation {
        kind,
        target,
        fk,
        name,
        through,
        target_fk,
        source,
        poly,
    })
}

fn primary_key(
    cx: &Ctxt,
    input: &DeriveInput,
    fields: &[Field<'_>],
    marked: &[(usize, Span)],
) -> Option<Vec<usize>> {
    if !marked.is_empty() {
        return Some(marked.iter().map(|(index, _)| *index).collect());
    }
    let id = fields.iter().position(|field| field.ident == "id");
    if id.is_none() {
        cx.error_spanned_by(
            &input.ident,
            format!(
                "`{}` has no primary key: mark its key field with `#[entity(primary_key)]` (several fields for a composite key), or name it `id`",
                input.ident
            ),
        );
    }
    id.map(|id| vec![id])
}

fn resolve_relation(
    cx: &Ctxt,
    input: &DeriveInput,
    fields: &[Field<'_>],
    mut raw: RawRelation,
) -> Option<Relation> {
    // `Self` (a relation to the same entity) is the struct by name: the
    // generated items are not inside an impl of it.
    if raw.target.is_ident("Self") {
        let span = raw.target.segments[0].ident.span();
        raw.target = Path::from(Ident::new(&input.ident.to_string(), span));
    }
    let target_name = raw
        .target
        .segments
        .last()
        .map(|segment| segment.ident.unraw().to_string())
        .unwrap_or_default();
    let name = match raw.name {
        Some(ident) => ident,
        None => {
            let snake = target_name.to_snake_case();
            let default = match raw.kind {
                RawKind::HasMany | RawKind::ManyToMany => plural(&snake),
                RawKind::HasOne | RawKind::BelongsTo => snake,
            };
            Ident::new(&default, raw.target.span())
        }
    };
    let target_field = |lit: &LitStr| {
        let Ok(field) = lit.parse_with(Ident::parse_any) else {
            cx.error_spanned_by(
                lit,
                format!(
                    "`fk` must name a field of `{target_name}` (or a column whose name is a Rust identifier)"
                ),
            );
            return None;
        };
        // Resolved at the call site but shown on the literal: rustc then
        // still points at `"autor_id"`, but does not offer its similar-name
        // fix, which would replace the quoted literal by a bare identifier.
        let mut field = reserved_to_raw(cx, field)?;
        field.set_span(proc_macro2::Span::call_site().located_at(lit.span()));
        Some(field)
    };
    let kind = match raw.kind {
        RawKind::HasMany | RawKind::HasOne if raw.poly.is_some() => RelationKind::HasManyAs {
            poly: raw.poly?,
            one: raw.kind == RawKind::HasOne,
        },
        RawKind::HasMany if raw.through.is_some() => {
            let through = raw.through?;
            let source = match raw.source {
                Some(source) => {
                    let ident = source.parse_with(Ident::parse_any).ok();
                    let Some(ident) = ident.and_then(|ident| reserved_to_raw(cx, ident)) else {
                        cx.error_spanned_by(
                            &source,
                            "`source` must name a relation of the entity gone through, as in `source = \"comments\"`",
                        );
                        return None;
                    };
                    (ident.unraw().to_string(), source.span())
                }
                None => (name.unraw().to_string(), through.span()),
            };
            RelationKind::HasManyThrough {
                through,
                source: source.0,
                source_span: source.1,
            }
        }
        RawKind::HasMany => RelationKind::HasMany {
            fk_field: target_field(&raw.fk)?,
        },
        RawKind::HasOne => RelationKind::HasOne {
            fk_field: target_field(&raw.fk)?,
        },
        RawKind::ManyToMany => RelationKind::ManyToMany {
            through: raw.through?,
            target_fk: raw.target_fk?,
        },
        RawKind::BelongsTo => {
            let wanted = raw.fk.value();
            let found = fields
                .iter()
                .position(|field| field.ident.unraw() == wanted.as_str() || field.column == wanted);
            let Some(fk_field) = found else {
                let names: Vec<String> = fields
                    .iter()
                    .map(|field| field.ident.unraw().to_string())
                    .collect();
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                cx.error_spanned_by(
                    &raw.fk,
                    format!(
                        "`{}` has no field or column named `{wanted}`; its fields are {}",
                        input.ident,
                        symbol::list(&names)
                    ),
                );
                return None;
            };
            RelationKind::BelongsTo {
                fk_field,
                optional: is_option(fields[fk_field].ty),
            }
        }
    };
    Some(Relation {
        kind,
        target: raw.target,
        fk: raw.fk,
        name,
    })
}

/// Keywords become raw identifiers (`r#type`); `self`, `super`, `crate` and
/// `Self` cannot, and are an error.
pub(crate) fn reserved_to_raw(cx: &Ctxt, ident: Ident) -> Option<Ident> {
    let text = ident.to_string();
    if matches!(text.as_str(), "self" | "Self" | "super" | "crate" | "_") {
        cx.error_spanned_by(&ident, format!("`{text}` cannot be used as a name here"));
        return None;
    }
    if syn::parse_str::<Ident>(&text).is_ok() {
        Some(ident)
    } else {
        Some(Ident::new_raw(&text, ident.span()))
    }
}

/// `post` → `posts`, `category` → `categories`, `box` → `boxes`. Irregular
/// plurals need `name = "..."`.
fn plural(word: &str) -> String {
    let ends_with_consonant_y = word.ends_with('y')
        && !word[..word.len() - 1].ends_with(['a', 'e', 'i', 'o', 'u'])
        && word.len() > 1;
    if ends_with_consonant_y {
        format!("{}ies", &word[..word.len() - 1])
    } else if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|end| word.ends_with(end))
    {
        format!("{word}es")
    } else {
        format!("{word}s")
    }
}

/// Whether `ty` is written `Option<...>` (with any path prefix).
pub(crate) fn is_option(ty: &Type) -> bool {
    !std::ptr::eq(option_inner(ty), ty)
}

/// `T` of `Option<T>`, else the type itself.
pub(crate) fn option_inner(ty: &syn::Type) -> &syn::Type {
    if let syn::Type::Path(path) = ty
        && path.qself.is_none()
        && let Some(last) = path.path.segments.last()
        && last.ident == "Option"
        && let syn::PathArguments::AngleBracketed(args) = &last.arguments
        && let Some(syn::GenericArgument::Type(inner)) = args.args.first()
    {
        return inner;
    }
    ty
}

fn path_name(path: &Path) -> String {
    path.segments
        .last()
        .map(|segment| segment.ident.to_string())
        .unwrap_or_default()
}

/// The key `meta` names, of `valid` in `place`: itself, or the key it most
/// likely means (reported with a "did you mean"), so that what it says is
/// still used and its absence not reported too; `None` (reported, its
/// value skipped) when it resembles none.
fn key_of(
    cx: &Ctxt,
    meta: &ParseNestedMeta<'_>,
    place: &str,
    valid: &[&'static str],
) -> syn::Result<Option<&'static str>> {
    let written = path_name(&meta.path);
    if let Some(key) = valid.iter().find(|key| **key == written) {
        return Ok(Some(key));
    }
    let (message, meant) = suggest::unknown_key_message(&written, place, valid);
    cx.error_spanned_by(&meta.path, message);
    if meant.is_none() {
        skip_value(meta)?;
    }
    Ok(meant)
}

/// Consumes `= value` or `(...)` after a key that was reported as an error,
/// so parsing goes on and later mistakes are reported too.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.input.parse::<proc_macro2::Group>()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::plural;

    #[test]
    fn plurals() {
        for (one, many) in [
            ("post", "posts"),
            ("category", "categories"),
            ("day", "days"),
            ("box", "boxes"),
            ("match", "matches"),
            ("status", "statuses"),
            ("playlist_track", "playlist_tracks"),
        ] {
            assert_eq!(plural(one), many);
        }
    }
}
