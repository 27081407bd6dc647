use loader_runtime::Entity;

#[derive(Entity)]
#[has_many(Post, fk = "autor_id")]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Post {
    id: i64,
    author_id: i64,
    title: String,
}

fn main() {}
