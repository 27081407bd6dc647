use loader_runtime::Entity;

#[derive(Entity)]
#[many_to_many(Tag, through = "post_tags", fk = "post_id")]
#[has_many(Comment, fk = "post_id", through = "post_comments")]
struct Post {
    id: i64,
}

#[derive(Entity)]
struct Tag {
    id: i64,
}

#[derive(Entity)]
struct Comment {
    id: i64,
    post_id: i64,
}

fn main() {}
