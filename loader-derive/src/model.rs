//! The validated model of one entity: what the attributes mean, with the
//! user's tokens kept so every later error can point at them.

use proc_macro2::Span;
use syn::{Ident, LitStr, Path, Type, Visibility};

/// A struct that derives `Entity`, after parsing and validation.
pub struct Entity<'a> {
    pub ident: &'a Ident,
    pub vis: &'a Visibility,
    /// The table name, unquoted.
    pub table: String,
    pub fields: Vec<Field<'a>>,
    /// Indexes into `fields`: one, or several for a composite key.
    pub primary_key: Vec<usize>,
    pub relations: Vec<Relation>,
    /// `#[polymorphic(...)]` relations.
    pub polymorphic: Vec<Polymorphic>,
}

/// A relation to one of several entities, named by a type column and an id
/// column of this entity (`#[polymorphic(...)]`).
pub struct Polymorphic {
    /// The relation's name: `Comment::commentable()`, `comment.commentable()`.
    pub name: Ident,
    /// The index in `fields` of the id column.
    pub fk_field: usize,
    /// The `fk = "..."` literal, where a key type mismatch is reported.
    pub fk: LitStr,
    /// The index in `fields` of the type column.
    pub type_field: usize,
    /// Each target and the value of the type column that names it.
    pub targets: Vec<PolymorphicTarget>,
}

pub struct PolymorphicTarget {
    pub path: Path,
    /// The variant of the generated enum: the path's last segment.
    pub variant: Ident,
    /// The type column's value for this target, `"post"`.
    pub value: LitStr,
}

/// A field mapped to a column.
pub struct Field<'a> {
    pub ident: &'a Ident,
    pub ty: &'a Type,
    /// The column name, unquoted.
    pub column: String,
    /// The span of `column = "..."` if given, else of the field's name.
    pub column_span: Span,
}

/// A relation declared on the struct.
pub struct Relation {
    pub kind: RelationKind,
    /// The related entity, as written.
    pub target: Path,
    /// The `fk = "..."` literal.
    pub fk: LitStr,
    /// The relation's name: the handle `User::posts()`, the accessor
    /// `user.posts()` and the lazy loader `user.load_posts(&db)`.
    pub name: Ident,
}

pub enum RelationKind {
    /// The target's rows hold `fk`, which names a field or column of the
    /// target (checked by the compiler through the target's columns).
    HasMany { fk_field: Ident },
    /// Like `HasMany`, at most one target per owner.
    HasOne { fk_field: Ident },
    /// A join table `through` holds `fk` (the owner's key) and `target_fk`.
    ManyToMany { through: LitStr, target_fk: LitStr },
    /// This entity holds `fk`: the index of that field in `fields`.
    BelongsTo { fk_field: usize, optional: bool },
    /// Through relation `through` of this entity (a `has_many`, `has_one`
    /// or `many_to_many`, checked in `check.rs`), then the relation named
    /// `source` of the entity it leads to (found by the compiler). The
    /// relation's `fk` is the `through` literal.
    /// The inverse of the polymorphic relation named `poly` of the target
    /// (`#[has_many(Comment, as = "commentable")]`): a `has_many`, or a
    /// `has_one` when `one`. The relation's `fk` is the `as` literal.
    HasManyAs { poly: LitStr, one: bool },
    HasManyThrough {
        through: LitStr,
        source: String,
        /// The `source` literal, or `through` when it is not given.
        source_span: Span,
    },
}

impl Relation {
    /// `"has_many"` or `"belongs_to"`, for messages and docs.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            RelationKind::HasMany { .. } | RelationKind::HasManyThrough { .. } => {
                crate::symbol::HAS_MANY
            }
            RelationKind::HasOne { .. } | RelationKind::HasManyAs { one: true, .. } => {
                crate::symbol::HAS_ONE
            }
            RelationKind::HasManyAs { one: false, .. } => crate::symbol::HAS_MANY,
            RelationKind::BelongsTo { .. } => crate::symbol::BELONGS_TO,
            RelationKind::ManyToMany { .. } => crate::symbol::MANY_TO_MANY,
        }
    }

    /// Whether the targets can be counted per owner (`name_count()`).
    pub fn is_counted(&self) -> bool {
        matches!(
            self.kind,
            RelationKind::HasMany { .. }
                | RelationKind::ManyToMany { .. }
                | RelationKind::HasManyThrough { .. }
                | RelationKind::HasManyAs { one: false, .. }
        )
    }

    /// Whether the targets can be filtered and ordered.
    pub fn is_scoped(&self) -> bool {
        !matches!(self.kind, RelationKind::BelongsTo { .. })
    }

    /// Whether the owner must have a single-column key (every kind but
    /// `belongs_to`, whose owner holds the key instead).
    pub fn needs_owner_key(&self) -> bool {
        !matches!(self.kind, RelationKind::BelongsTo { .. })
    }

    /// The target's last path segment, e.g. `Post` for `crate::blog::Post`.
    pub fn target_name(&self) -> String {
        self.target
            .segments
            .last()
            .map(|segment| segment.ident.to_string())
            .unwrap_or_default()
    }
}

impl Entity<'_> {
    /// The primary key's fields.
    pub fn primary_key(&self) -> impl Iterator<Item = &Field<'_>> {
        self.primary_key.iter().map(|&index| &self.fields[index])
    }

    /// The single primary key field, `None` for a composite key.
    pub fn single_key(&self) -> Option<&Field<'_>> {
        match self.primary_key.as_slice() {
            [index] => Some(&self.fields[*index]),
            _ => None,
        }
    }
}
