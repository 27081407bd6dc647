// The relation followed on the entity gone through does not exist there:
// one error, on the `source` literal, naming both ends of the chain.
use loader_runtime::Entity;

#[derive(Entity)]
#[entity(table = "users")]
#[has_many(Post, fk = "author_id")]
#[has_many(Comment, through = "posts", source = "replies")]
struct User {
    id: i64,
}

#[derive(Entity)]
#[entity(table = "posts")]
#[has_many(Comment, fk = "post_id")]
struct Post {
    id: i64,
    author_id: i64,
}

#[derive(Entity)]
#[entity(table = "comments")]
struct Comment {
    id: i64,
    post_id: i64,
}

fn main() {
    let _ = User::query().preload(User::comments());
}
