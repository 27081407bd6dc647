//! `#[derive(SqlType)]`: a newtype read and bound as its one field, or a
//! fieldless enum stored as text labels or integer discriminants.
//!
//! `model` parses and validates the input into a [`model::SqlType`];
//! `expand` generates the `Field` and `ToValue` impls from it.

mod expand;
mod model;

use proc_macro2::TokenStream;
use syn::DeriveInput;

use crate::ctxt::Ctxt;

/// Expands `#[derive(SqlType)]` on `input`.
pub fn derive(input: &DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let model = model::parse(&cx, input);
    match (cx.check(), model) {
        (Ok(()), Some(model)) => expand::expand(&model),
        (Err(errors), _) => errors.to_compile_error(),
        (Ok(()), None) => {
            syn::Error::new_spanned(&input.ident, "cannot derive `SqlType` here").to_compile_error()
        }
    }
}
