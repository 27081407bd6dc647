// The inverse of a polymorphic relation that does not exist, and one whose
// target list lacks this entity: one error each, on the `as` literal.
use loader_runtime::Entity;

#[derive(Entity)]
#[entity(table = "posts")]
#[has_many(Comment, as = "comentable")]
struct Post {
    id: i64,
}

#[derive(Entity)]
#[entity(table = "photos")]
#[has_many(Comment, as = "commentable")]
struct Photo {
    id: i64,
}

#[derive(Entity)]
#[entity(table = "comments")]
#[polymorphic(Post = "post", fk = "commentable_id", type_column = "commentable_type", name = "commentable")]
struct Comment {
    id: i64,
    commentable_type: String,
    commentable_id: i64,
}

fn main() {}
