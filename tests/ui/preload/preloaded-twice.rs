//! One relation preloaded twice at one level: one error, at the second
//! `.preload(...)`, whether or not the relation is read afterwards.

use loader_runtime::{Db, Entity};

#[derive(Entity)]
#[entity(table = "users")]
#[has_many(Post, fk = "author_id")]
struct User {
    id: i64,
}

#[derive(Entity)]
#[entity(table = "posts")]
#[has_many(Comment, fk = "post_id")]
struct Post {
    id: i64,
    author_id: i64,
    published: bool,
}

#[derive(Entity)]
#[entity(table = "comments")]
struct Comment {
    id: i64,
    post_id: i64,
}

fn main() -> Result<(), loader_runtime::Error> {
    let db = Db::open_in_memory()?;
    // Read afterwards.
    let users = User::query()
        .preload(User::posts())
        .preload(User::posts().filter(|p| p.published.eq(true)))
        .all(&db)?;
    let _ = users[0].posts();
    // Never read: would have run the same statement twice.
    let _ = Post::query()
        .preload(Post::comments())
        .preload(Post::comments().count())
        .preload(Post::comments())
        .all(&db)?;
    // Nested.
    let _ = User::query().preload(User::posts().preload(Post::comments()).preload(Post::comments()));
    Ok(())
}
