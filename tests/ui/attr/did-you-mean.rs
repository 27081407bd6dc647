//! Keys misspelt, or named as another ORM names them: one error each, with
//! the key meant, and nothing reported as missing because of them.

use loader_runtime::Entity;

#[derive(Entity)]
#[entity(tabel = "users")]
#[has_many(Post, foreign_key = "author_id")]
struct User {
    #[entity(pk)]
    user_id: i64,
    #[entity(colum = "UserName")]
    name: String,
}

#[derive(Entity)]
#[entity(table = "posts")]
#[many_to_many(Tag, join_table = "post_tags", fk = "post_id", target_key = "tag_id")]
struct Post {
    id: i64,
    author_id: i64,
}

#[derive(Entity)]
#[entity(table = "tags")]
struct Tag {
    id: i64,
}

fn main() {}
