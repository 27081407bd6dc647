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
    let users = User::query().preload(User::posts()).all(&db)?;
    for post in users[0].posts() {
        let _ = post.comments();
    }
    Ok(())
}
