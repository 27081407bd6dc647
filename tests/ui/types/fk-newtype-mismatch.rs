use loader_runtime::{Entity, SqlType};

#[derive(SqlType, Clone, Copy, PartialEq, Eq, Hash, Debug)]
struct UserId(i64);

#[derive(SqlType, Clone, Copy, PartialEq, Eq, Hash, Debug)]
struct PostId(i64);

#[derive(Entity)]
#[entity(table = "users")]
#[has_many(Post, fk = "author_id")]
struct User {
    id: UserId,
}

#[derive(Entity)]
#[entity(table = "posts")]
struct Post {
    id: PostId,
    // Meant to be a `UserId`.
    author_id: PostId,
}

fn main() {}
