//! Relation filters are typed: the inner condition is on the related
//! entity's columns, and each kind has its own methods.

use loader_runtime::Entity;

#[derive(Entity)]
#[entity(table = "users")]
#[has_many(Post, fk = "author_id")]
struct User {
    id: i64,
    name: String,
}

#[derive(Entity)]
#[entity(table = "posts")]
#[belongs_to(User, fk = "author_id", name = "author")]
struct Post {
    id: i64,
    author_id: i64,
    title: String,
}

fn main() {
    // A condition on the owner's columns inside a filter on its posts.
    let _ = User::query().filter(|u| u.posts().any(|_p| u.name.eq("ada")));
    // `any` is for relations with many targets; a belongs_to has `is`.
    let _ = Post::query().filter(|p| p.author().any(|u| u.name.eq("ada")));
    // A filter on another entity's relation: posts' authors, in a query of users.
    let _ = User::query().filter(|_u| Post::columns().author().exists());
}
