use loader_runtime::Entity;

#[derive(Entity)]
#[has_many(Post, fk = "author_id")]
struct User {
    id: i64,
}

struct Post {
    id: i64,
    author_id: i64,
}

fn main() {}
