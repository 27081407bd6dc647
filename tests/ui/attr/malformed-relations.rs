use loader_runtime::Entity;

#[derive(Entity)]
#[has_many(fk = "author_id")]
#[has_many(Vec<Post>, fk = "author_id")]
#[has_many(Post, fk = "author id")]
#[has_many]
#[belongs_to(User, fk = author_id)]
struct User {
    id: i64,
    author_id: i64,
}

#[derive(Entity)]
struct Post {
    id: i64,
    author_id: i64,
}

fn main() {}
