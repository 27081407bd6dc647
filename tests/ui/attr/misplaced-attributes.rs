use loader_runtime::Entity;

#[derive(Entity)]
#[entity(primary_key)]
struct User {
    #[entity(table = "users")]
    id: i64,
    #[has_many(Post, fk = "author_id")]
    name: String,
}

#[derive(Entity)]
struct Post {
    id: i64,
    author_id: i64,
}

fn main() {}
