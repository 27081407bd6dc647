// Reading a polymorphic relation that was not preloaded, and preloading a
// relation that belongs to none of its targets: one error each.
use loader_runtime::{Db, Entity};

#[derive(Entity)]
#[entity(table = "users")]
#[has_many(Post, fk = "author_id")]
struct User {
    id: i64,
}

#[derive(Entity)]
#[entity(table = "posts")]
struct Post {
    id: i64,
    author_id: i64,
}

#[derive(Entity)]
#[entity(table = "comments")]
#[polymorphic(Post = "post", fk = "commentable_id", type_column = "commentable_type", name = "commentable")]
struct Comment {
    id: i64,
    commentable_type: String,
    commentable_id: i64,
}

fn main() -> loader_runtime::Result<()> {
    let db = Db::open_in_memory()?;
    let comments = Comment::query().all(&db)?;
    let _ = comments[0].commentable();
    let _ = Comment::query().preload(Comment::commentable().preload(User::posts()));
    Ok(())
}
