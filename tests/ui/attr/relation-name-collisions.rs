use loader_runtime::Entity;

#[derive(Entity)]
#[has_many(Post, fk = "author_id", name = "query")]
#[has_many(Post, fk = "author_id", name = "username")]
#[has_many(Post, fk = "author_id", name = "load_posts")]
#[has_many(Post, fk = "author_id")]
struct User {
    id: i64,
    username: String,
}

#[derive(Entity)]
struct Post {
    id: i64,
    author_id: i64,
}

fn main() {}
