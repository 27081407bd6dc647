use loader_runtime::{Db, Entity};

#[derive(Entity)]
#[has_many(Post, fk = "author_id")]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Post {
    id: i64,
    author_id: i64,
}

fn main() -> Result<(), loader_runtime::Error> {
    let db = Db::open_in_memory()?;
    let users = User::query().preload(User::posts()).all(&db)?;
    let _ = users[0].posts_count();
    Ok(())
}
