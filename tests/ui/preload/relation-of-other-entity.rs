use loader_runtime::{Db, Entity};

#[derive(Entity)]
#[has_many(Post, fk = "author_id")]
struct User {
    id: i64,
}

#[derive(Entity)]
#[has_many(Comment, fk = "post_id")]
struct Post {
    id: i64,
    author_id: i64,
}

#[derive(Entity)]
struct Comment {
    id: i64,
    post_id: i64,
}

fn main() -> Result<(), loader_runtime::Error> {
    let db = Db::open_in_memory()?;
    let _ = User::query().preload(Post::comments()).all(&db)?;
    Ok(())
}
