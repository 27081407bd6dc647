// The chain does not connect: `author` of `Post` leads to `User`, not to
// `Comment`. One error, on the `source` literal.
use loader_runtime::Entity;

#[derive(Entity)]
#[entity(table = "users")]
#[has_many(Post, fk = "author_id")]
#[has_many(Comment, through = "posts", source = "author")]
struct User {
    id: i64,
}

#[derive(Entity)]
#[entity(table = "posts")]
#[belongs_to(User, fk = "author_id", name = "author")]
struct Post {
    id: i64,
    author_id: i64,
}

#[derive(Entity)]
#[entity(table = "comments")]
struct Comment {
    id: i64,
}

fn main() {}
