//! The derive behind `loader-runtime`. Depend on `loader-runtime`, which
//! re-exports it; the generated code names that crate's items.
//!
//! Stages: `attr` parses the attributes into the `model`, `check` applies
//! the rules that span several attributes, every error goes into one
//! `ctxt::Ctxt`, and `expand` generates code from a model known to be valid
//! (or `fallback` stubs next to the errors).

mod attr;
mod check;
mod ctxt;
mod expand;
mod fallback;
mod model;
mod polymorphic;
mod sql_type;
mod suggest;
mod symbol;
#[cfg(test)]
mod tests;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Maps a struct to a table and declares its relations.
///
/// See the `loader-runtime` crate documentation for the attributes and for
/// what is generated.
#[proc_macro_derive(
    Entity,
    attributes(entity, has_many, has_one, belongs_to, many_to_many, polymorphic)
)]
pub fn derive_entity(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input).into()
}

/// Makes a newtype or a fieldless enum usable as a field, a key and a
/// filter value.
///
/// See `loader_runtime::SqlType` for the forms and attributes.
#[proc_macro_derive(SqlType, attributes(sql_type))]
pub fn derive_sql_type(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    sql_type::derive(&input).into()
}
