//! A misspelt relation attribute is not the derive's: rustc reports it, with
//! the derive's attribute of the most similar name.

use loader_runtime::Entity;

#[derive(Entity)]
#[entity(table = "users")]
#[has_man(Post, fk = "author_id")]
struct User {
    id: i64,
}

#[derive(Entity)]
#[entity(table = "posts")]
struct Post {
    id: i64,
    author_id: i64,
}

fn main() {}
