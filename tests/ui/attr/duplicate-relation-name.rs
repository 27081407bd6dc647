use loader_runtime::Entity;

#[derive(Entity)]
struct User {
    id: i64,
}

#[derive(Entity)]
#[belongs_to(User, fk = "author_id")]
#[belongs_to(User, fk = "editor_id")]
struct Post {
    id: i64,
    author_id: i64,
    editor_id: i64,
}

fn main() {}
