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

/// The keys `#[entity(...)]` takes on the struct.
pub const STRUCT_KEYS: &[&str] = &[TABLE];
/// The keys `#[entity(...)]` takes on a field.
pub const FIELD_KEYS: &[&str] = &[PRIMARY_KEY, COLUMN];
/// The keys `has_many`, `has_one` and `belongs_to` take after their target.
pub const RELATION_KEYS: &[&str] = &[FK, NAME];
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
