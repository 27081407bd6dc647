//! The SQL text the derive can write on its own, from one entity's model.
//! Statements that need another entity's table or columns are assembled at
//! compile time from that entity's constants (see `relations.rs`).

use crate::model::Entity;

/// `name` as a quoted SQL identifier: `"name"`, with `"` doubled.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// One statement in the dialect of each backend.
pub struct Dialects {
    pub sqlite: String,
    pub postgres: String,
}

/// The statements of one entity.
pub struct EntityStatements {
    pub table: String,
    pub column_list: String,
    pub primary_key: String,
    pub select_all: String,
    pub select_by_key: Dialects,
    pub select_by_keys: Dialects,
    /// The qualified quoted name of each field's column, in field order.
    pub qualified_columns: Vec<String>,
}

pub fn entity_statements(entity: &Entity<'_>) -> EntityStatements {
    let table = quote_ident(&entity.table);
    let qualified_columns: Vec<String> = entity
        .fields
        .iter()
        .map(|field| format!("{table}.{}", quote_ident(&field.column)))
        .collect();
    let column_list = qualified_columns.join(", ");
    let key_columns: Vec<&str> = entity
        .primary_key
        .iter()
        .map(|&index| qualified_columns[index].as_str())
        .collect();
    let primary_key = key_columns.join(", ");
    let select = format!("SELECT {column_list} FROM {table}");
    let key_matches = |sigil: char| {
        key_columns
            .iter()
            .enumerate()
            .map(|(index, column)| format!("{column} = {sigil}{}", index + 1))
            .collect::<Vec<_>>()
            .join(" AND ")
    };
    let select_by_keys = if key_columns.len() == 1 {
        Dialects {
            sqlite: format!("{select} WHERE {primary_key} IN rarray(?1)"),
            postgres: format!("{select} WHERE {primary_key} = ANY($1)"),
        }
    } else {
        Dialects {
            sqlite: String::new(),
            postgres: String::new(),
        }
    };
    EntityStatements {
        select_all: format!("{select} ORDER BY {primary_key}"),
        select_by_key: Dialects {
            sqlite: format!("{select} WHERE {}", key_matches('?')),
            postgres: format!("{select} WHERE {}", key_matches('$')),
        },
        select_by_keys,
        table,
        column_list,
        primary_key,
        qualified_columns,
    }
}

#[cfg(test)]
mod tests {
    use super::quote_ident;

    #[test]
    fn quotes_identifiers() {
        assert_eq!(quote_ident("users"), "\"users\"");
        assert_eq!(quote_ident("order"), "\"order\"");
        assert_eq!(quote_ident("we\"ird"), "\"we\"\"ird\"");
    }
}
