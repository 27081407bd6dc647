// A polymorphic target that is not an entity: one error, on the target.
use loader_runtime::Entity;

#[derive(Entity)]
#[entity(table = "posts")]
struct Post {
    id: i64,
}

#[derive(Entity)]
#[entity(table = "comments")]
#[polymorphic(Post = "post", String = "text", fk = "commentable_id", type_column = "commentable_type", name = "commentable")]
struct Comment {
    id: i64,
    commentable_type: String,
    commentable_id: i64,
}

fn main() {}
