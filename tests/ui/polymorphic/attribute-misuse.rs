// Six independent mistakes in `#[polymorphic(...)]`, each reported once.
use loader_runtime::Entity;

#[derive(Entity)]
#[entity(table = "posts")]
struct Post {
    id: i64,
}

#[derive(Entity)]
#[entity(table = "photos")]
struct Photo {
    id: i64,
}

#[derive(Entity)]
#[entity(table = "comments")]
#[polymorphic(Post = "post", Photo = "post", fk = "commentable", type_colum = "commentable_type", name = "commentable")]
#[polymorphic(Post = "post", fk = "commentable_id", name = "other")]
#[polymorphic(Post = "post", fk = "commentable_id", type_column = "commentable_type", name = "id")]
#[polymorphic(Post = "post", fk = "commentable_id", type_column = "commentable_type", name = "query")]
struct Comment {
    id: i64,
    commentable_type: String,
    commentable_id: i64,
}

fn main() {}
