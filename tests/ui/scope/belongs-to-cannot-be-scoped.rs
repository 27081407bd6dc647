use loader_runtime::Entity;

#[derive(Entity)]
struct User {
    id: i64,
    active: bool,
}

#[derive(Entity)]
#[belongs_to(User, fk = "author_id", name = "author")]
#[has_one(Note, fk = "post_id")]
struct Post {
    id: i64,
    author_id: i64,
}

#[derive(Entity)]
struct Note {
    id: i64,
    post_id: i64,
}

fn main() {
    let _ = Post::query().preload(Post::author().filter(|u| u.active.eq(true)));
    let _ = Post::query().preload(Post::author().count());
    let _ = Post::query().preload(Post::note().count());
}
