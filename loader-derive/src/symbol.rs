//! Every attribute name and key the derive understands, defined once so a
//! keyword cannot be spelled two ways or go missing from a "valid keys" list.

/// The struct- and field-level attribute: `#[entity(...)]`.
pub const ENTITY: &str = "entity";
/// `#[has_many(Target, fk = "...")]` on the struct.
pub const HAS_MANY: &str = "has_many";
/// `#[belongs_to(Target, fk = "...")]` on the struct.
pub const BELONGS_TO: &str = "belongs_to";
/// `#[has_one(Target, fk = "...")]` on the struct.
pub const HAS_ONE: &str = "has_one";
/// `#[many_to_many(Target, through = "...", fk = "...", target_fk = "...")]`.
pub const MANY_TO_MANY: &str = "many_to_many";
/// `#[polymorphic(Post = "post", Photo = "photo", fk = "...", type_column = "...", name = "...")]`.
pub const POLYMORPHIC: &str = "polymorphic";
/// `type_column = "..."` in a `polymorphic`: the column naming the target.
pub const TYPE_COLUMN: &str = "type_column";
/// The keys `polymorphic` takes besides its targets.
pub const POLYMORPHIC_KEYS: &[&str] = &[NAME, FK, TYPE_COLUMN];

/// `#[entity(table = "...")]`.
pub const TABLE: &str = "table";
/// `#[entity(primary_key)]` on a field.
pub const PRIMARY_KEY: &str = "primary_key";
/// `#[entity(column = "...")]` on a field.
pub const COLUMN: &str = "column";
/// `fk = "..."` in a relation.
pub const FK: &str = "fk";
/// `name = "..."` in a relation.
pub const NAME: &str = "name";
/// `through = "..."` in a `many_to_many`: the join table.
pub const THROUGH: &str = "through";
/// `target_fk = "..."` in a `many_to_many`: the join table's key to the target.
pub const TARGET_FK: &str = "target_fk";
/// `source = "..."` in a `has_many` through another relation: the relation
/// followed on the entity gone through.
pub const SOURCE: &str = "source";

/// The keys `#[entity(...)]` takes on the struct.
pub const STRUCT_KEYS: &[&str] = &[TABLE];
/// The keys `#[entity(...)]` takes on a field.
pub const FIELD_KEYS: &[&str] = &[PRIMARY_KEY, COLUMN];
/// The keys `has_one` and `belongs_to` take after their target.
pub const RELATION_KEYS: &[&str] = &[FK, NAME];
/// The keys `has_many` takes after its target: `fk`, `through` (and
/// `source`) for a relation through another one, or `as` for the inverse
/// of a polymorphic relation.
pub const HAS_MANY_KEYS: &[&str] = &[FK, NAME, THROUGH, SOURCE, AS];
/// The keys `has_one` takes after its target.
pub const HAS_ONE_KEYS: &[&str] = &[FK, NAME, AS];
/// `as = "..."` in a `has_many` or `has_one`: the target's polymorphic
/// relation this is the inverse of.
pub const AS: &str = "as";
/// The keys `many_to_many` takes after its target.
pub const MANY_TO_MANY_KEYS: &[&str] = &[THROUGH, FK, TARGET_FK, NAME];

/// Functions the derive adds to every entity: a relation cannot take these
/// names, nor the names of the methods of `Loaded`.
pub const RESERVED_NAMES: &[&str] = &["all", "find", "query", "columns", "entity", "into_entity"];

/// `a`, `b` and `c` as "`a`, `b`, `c`" for messages.
pub fn list(keys: &[&str]) -> String {
    keys.iter()
        .map(|key| format!("`{key}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The attribute of `#[derive(SqlType)]`: `#[sql_type(...)]`.
pub const SQL_TYPE: &str = "sql_type";
/// `#[sql_type(rename_all = "snake_case")]` on an enum.
pub const RENAME_ALL: &str = "rename_all";
/// `#[sql_type(rename = "...")]` on a variant.
pub const RENAME: &str = "rename";
/// `#[sql_type(integer)]` on an enum: stored as its discriminants.
pub const INTEGER: &str = "integer";
/// `#[sql_type(text)]` on an enum: stored as its labels (the default).
pub const TEXT: &str = "text";

/// The keys `#[sql_type(...)]` takes on an enum.
pub const ENUM_KEYS: &[&str] = &[RENAME_ALL, INTEGER, TEXT];
/// The keys `#[sql_type(...)]` takes on a variant.
pub const VARIANT_KEYS: &[&str] = &[RENAME];
/// The values of `rename_all`.
pub const RENAME_RULES: &[&str] = &[
    "lowercase",
    "UPPERCASE",
    "snake_case",
    "SCREAMING_SNAKE_CASE",
    "kebab-case",
    "camelCase",
    "PascalCase",
];
