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

fn main() -> Result<(), loader_runtime::Error> {
    let db = Db::open_in_memory()?;
    let users = User::query().all(&db)?;
    for user in &users {
        let _ = user.posts();
    }
    Ok(())
}
