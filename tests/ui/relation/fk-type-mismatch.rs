use loader_runtime::Entity;

#[derive(Entity)]
#[has_many(Post, fk = "author_id")]
struct User {
    id: i64,
}

#[derive(Entity)]
#[belongs_to(User, fk = "author_id", name = "author")]
struct Post {
    id: i64,
    author_id: String,
}

fn main() {}
