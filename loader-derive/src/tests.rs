//! The derive on many malformed inputs: each is a compile error, never a
//! panic ("proc macro panicked" would be a bug).

use crate::expand;

fn expand_str(source: &str) -> Result<String, String> {
    let input: syn::DeriveInput = match syn::parse_str(source) {
        Ok(input) => input,
        // Not Rust at all: the compiler rejects it before the derive runs.
        Err(_) => return Ok(String::new()),
    };
    std::panic::catch_unwind(|| expand::derive(&input).to_string())
        .map_err(|_| format!("the derive panicked on:\n{source}"))
}

const STRUCT_ATTRS: &[&str] = &[
    "",
    "#[entity]",
    "#[entity()]",
    "#[entity(table)]",
    "#[entity(table = 1)]",
    "#[entity(table = \"\")]",
    "#[entity(table = \"a\", table = \"b\")]",
    "#[entity(table(x))]",
    "#[entity(primary_key)]",
    "#[entity(column = \"c\")]",
    "#[entity(unknown = [1, 2])]",
    "#[has_many]",
    "#[has_many()]",
    "#[has_many(Post)]",
    "#[has_many(Post,)]",
    "#[has_many(Post, fk)]",
    "#[has_many(Post, fk = )]",
    "#[has_many(Post, fk = \"\")]",
    "#[has_many(Post, fk = \"a b\")]",
    "#[has_many(Post, fk = \"self\")]",
    "#[has_many(Post, fk = \"type\")]",
    "#[has_many(Post, fk = \"x\", fk = \"y\")]",
    "#[has_many(Post, fk = \"x\", name = \"\")]",
    "#[has_many(Post, fk = \"x\", name = \"crate\")]",
    "#[has_many(Post, fk = \"x\", name = \"all\")]",
    "#[has_many(Post, fk = \"x\", name = \"id\")]",
    "#[has_many(Post<T>, fk = \"x\")]",
    "#[has_many(::Post, fk = \"x\")]",
    "#[has_many(crate::Post, fk = \"x\")]",
    "#[has_many(1, fk = \"x\")]",
    "#[has_many(\"Post\", fk = \"x\")]",
    "#[has_many(Post fk = \"x\")]",
    "#[has_many(Post, fk = \"x\", through = \"t\")]",
    "#[has_one(Post, fk = \"x\")]",
    "#[belongs_to(User)]",
    "#[belongs_to(User, fk = \"nope\")]",
    "#[belongs_to(User, fk = \"id\")]",
    "#[belongs_to(User, fk = \"Id\")]",
    "#[many_to_many(Tag)]",
    "#[many_to_many(Tag, through = \"t\")]",
    "#[many_to_many(Tag, through = \"t\", fk = \"a\")]",
    "#[many_to_many(Tag, through = \"t\", fk = \"a\", target_fk = \"\")]",
    "#[many_to_many(Tag, through = \"t\", fk = \"a\", target_fk = \"b\", extra = \"c\")]",
];

const FIELD_ATTRS: &[&str] = &[
    "",
    "#[entity]",
    "#[entity(primary_key)]",
    "#[entity(primary_key = true)]",
    "#[entity(primary_key(x))]",
    "#[entity(column)]",
    "#[entity(column = 3)]",
    "#[entity(column = \"Id\")]",
    "#[entity(column = \"\\\"quoted\\\"\")]",
    "#[entity(table = \"t\")]",
    "#[has_many(Post, fk = \"x\")]",
    "#[entity(nope)]",
];

const SHAPES: &[&str] = &[
    "struct User { FIELD_ATTR id: i64, name: String }",
    "struct User { FIELD_ATTR key: i64 }",
    "struct User(i64);",
    "struct User;",
    "enum User { A, B }",
    "union User { a: i64, b: f64 }",
    "struct User<T> { FIELD_ATTR id: i64, value: T }",
    "struct User<'a> { FIELD_ATTR id: &'a str }",
    "struct User where Self: Sized { FIELD_ATTR id: i64 }",
    "struct User { FIELD_ATTR r#type: i64, id: i64 }",
    "struct User {}",
];

#[test]
fn malformed_inputs_are_errors_not_panics() {
    let mut cases = 0;
    let mut errors = 0;
    for shape in SHAPES {
        for struct_attr in STRUCT_ATTRS {
            for field_attr in FIELD_ATTRS {
                let source = format!("{struct_attr} {}", shape.replace("FIELD_ATTR", field_attr));
                let expanded = expand_str(&source).unwrap_or_else(|message| panic!("{message}"));
                cases += 1;
                if expanded.contains("compile_error") {
                    errors += 1;
                }
            }
        }
    }
    assert_eq!(cases, SHAPES.len() * STRUCT_ATTRS.len() * FIELD_ATTRS.len());
    assert!(errors > cases / 2, "{errors} of {cases} were errors");
}

#[test]
fn a_valid_entity_expands_without_errors() {
    let expanded = expand_str(
        "#[entity(table = \"users\")] #[has_many(Post, fk = \"author_id\")] struct User { id: i64, name: String }",
    )
    .unwrap();
    assert!(!expanded.contains("compile_error"), "{expanded}");
    assert!(
        expanded.contains("SELECT \\\"users\\\".\\\"id\\\""),
        "{expanded}"
    );
}

#[test]
fn known_mistakes_name_the_problem() {
    for (source, message) in [
        ("enum User { A }", "not for an enum"),
        ("struct User(i64);", "tuple struct"),
        ("struct User { key: i64 }", "has no primary key"),
        ("#[has_many(Post)] struct User { id: i64 }", "missing `fk`"),
        (
            "#[has_many(Post, fk = \"a\", nme = \"b\")] struct User { id: i64 }",
            "unknown key `nme`",
        ),
        (
            "#[belongs_to(User, fk = \"x\")] struct Post { id: i64 }",
            "no field or column named `x`",
        ),
    ] {
        let expanded = expand_str(source).unwrap();
        assert!(expanded.contains(message), "{source}: {expanded}");
    }
}
