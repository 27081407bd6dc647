use loader_runtime::Entity;

#[derive(Entity)]
#[has_many(Post, fk = "author_id")]
struct User {
    id: i64,
    active: bool,
}

#[derive(Entity)]
struct Post {
    id: i64,
    author_id: i64,
    published: bool,
}

fn main() {
    let active = User::columns().active.eq(true);
    let _ = User::query().preload(User::posts().filter(|_| active));
}
