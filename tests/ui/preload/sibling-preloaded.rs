//! A relation read where only its siblings were preloaded: the same message
//! as when nothing was preloaded, naming the relation and the preload.

use loader_runtime::{Db, Entity};

#[derive(Entity)]
#[entity(table = "users")]
struct User {
    id: i64,
}

#[derive(Entity)]
#[entity(table = "posts")]
#[belongs_to(User, fk = "author_id", name = "author")]
#[belongs_to(User, fk = "editor_id", name = "editor")]
#[has_many(Comment, fk = "post_id")]
struct Post {
    id: i64,
    author_id: i64,
    editor_id: Option<i64>,
}

#[derive(Entity)]
#[entity(table = "comments")]
struct Comment {
    id: i64,
    post_id: i64,
}

fn main() -> Result<(), loader_runtime::Error> {
    let db = Db::open_in_memory()?;
    let posts = Post::query().preload(Post::author()).all(&db)?;
    let _ = posts[0].editor();
    let counted = Post::query().preload(Post::comments().count()).all(&db)?;
    let _ = counted[0].comments();
    Ok(())
}
