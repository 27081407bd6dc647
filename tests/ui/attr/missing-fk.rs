use loader_runtime::Entity;

#[derive(Entity)]
#[has_many(Post)]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Post {
    id: i64,
    author_id: i64,
}

fn main() {}
