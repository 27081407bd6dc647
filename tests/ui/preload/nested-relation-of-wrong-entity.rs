use loader_runtime::Entity;

#[derive(Entity)]
#[has_many(Post, fk = "author_id")]
#[has_many(Follower, fk = "user_id")]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Post {
    id: i64,
    author_id: i64,
}

#[derive(Entity)]
struct Follower {
    id: i64,
    user_id: i64,
}

fn main() {
    let _ = User::query().preload(User::posts().preload(User::followers()));
}
