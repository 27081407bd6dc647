use loader_runtime::Entity;

#[derive(Entity)]
struct User {
    id: i64,
}

#[derive(Entity)]
#[belongs_to(User, fk = "user_id")]
struct Post {
    id: i64,
    author_id: i64,
    title: String,
}

fn main() {}
