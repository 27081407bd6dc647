//! "Did you mean ...?" for unknown keys: the valid key a misspelt key, or
//! the name another ORM gives the same thing, most likely stands for.

use crate::symbol::{
    COLUMN, FK, INTEGER, NAME, PRIMARY_KEY, RENAME, RENAME_ALL, TABLE, TARGET_FK, THROUGH,
};

/// Names users bring from Diesel, SeaORM, Rails, Django, SQLAlchemy and
/// Prisma, with the key that means the same here.
const ALIASES: &[(&str, &str)] = &[
    ("foreign_key", FK),
    ("foreignkey", FK),
    ("foreign", FK),
    ("fkey", FK),
    ("key", FK),
    ("references", FK),
    ("join_column", FK),
    ("from", FK),
    ("target_key", TARGET_FK),
    ("target_foreign_key", TARGET_FK),
    ("association_foreign_key", TARGET_FK),
    ("related_key", TARGET_FK),
    ("other_key", TARGET_FK),
    ("to", TARGET_FK),
    ("join_table", THROUGH),
    ("table", THROUGH),
    ("via", THROUGH),
    ("join", THROUGH),
    ("junction", THROUGH),
    ("pivot", THROUGH),
    ("secondary", THROUGH),
    ("rename", NAME),
    ("alias", NAME),
    ("as", NAME),
    ("relation", NAME),
    ("table_name", TABLE),
    ("tablename", TABLE),
    ("name", TABLE),
    ("rename", TABLE),
    ("column_name", COLUMN),
    ("db_column", COLUMN),
    ("name", COLUMN),
    ("rename", COLUMN),
    ("pk", PRIMARY_KEY),
    ("primary", PRIMARY_KEY),
    ("id", PRIMARY_KEY),
    ("key", PRIMARY_KEY),
    ("rename_all_variants", RENAME_ALL),
    ("case", RENAME_ALL),
    ("name", RENAME),
    ("label", RENAME),
    ("value", RENAME),
    ("int", INTEGER),
    ("repr", INTEGER),
];

/// The key of `valid` that `key` most likely means: an alias, or one within
/// a small edit distance (a third of its length, at least one).
pub fn closest(key: &str, valid: &[&'static str]) -> Option<&'static str> {
    let lower = key.to_lowercase();
    if let Some(&(_, canonical)) = ALIASES
        .iter()
        .find(|(alias, canonical)| *alias == lower && valid.contains(canonical))
    {
        return Some(canonical);
    }
    let limit = (key.chars().count() / 3).max(1);
    valid
        .iter()
        .map(|candidate| {
            let distance = strsim::damerau_levenshtein(&lower, &candidate.to_lowercase());
            (distance, *candidate)
        })
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// The name of `names` (a struct's relations) that `wanted` most likely
/// misspells, within the same edit distance as [`closest`].
pub fn closest_name<'n>(wanted: &str, names: &[&'n str]) -> Option<&'n str> {
    let limit = (wanted.chars().count() / 3).max(1);
    names
        .iter()
        .map(|name| (strsim::damerau_levenshtein(wanted, name), *name))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

/// "unknown key `x` in `place`; did you mean `fk`?" or, without a likely
/// key, the list of valid ones.
pub fn unknown_key_message(
    key: &str,
    place: &str,
    valid: &[&'static str],
) -> (String, Option<&'static str>) {
    match closest(key, valid) {
        Some(meant) => (
            format!("unknown key `{key}` in `{place}`; did you mean `{meant}`?"),
            Some(meant),
        ),
        None => (
            format!(
                "unknown key `{key}` in `{place}`; valid keys are {}",
                crate::symbol::list(valid)
            ),
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::closest;
    use crate::symbol::{
        FK, MANY_TO_MANY_KEYS, NAME, RELATION_KEYS, STRUCT_KEYS, TARGET_FK, THROUGH,
    };

    #[test]
    fn typos_and_other_orms_names() {
        assert_eq!(closest("foreign_key", RELATION_KEYS), Some(FK));
        assert_eq!(closest("fK", RELATION_KEYS), Some(FK));
        assert_eq!(closest("nmae", RELATION_KEYS), Some(NAME));
        assert_eq!(closest("join_table", MANY_TO_MANY_KEYS), Some(THROUGH));
        assert_eq!(closest("target_fkey", MANY_TO_MANY_KEYS), Some(TARGET_FK));
        assert_eq!(closest("tabel", STRUCT_KEYS), Some("table"));
        assert_eq!(closest("order_by", RELATION_KEYS), None);
        // `through` is no relation key of `has_many`: not suggested there.
        assert_eq!(closest("join_table", RELATION_KEYS), None);
    }
}
