// Five independent mistakes in `through` relations, each reported once,
// on the token to change.
use loader_runtime::Entity;

#[derive(Entity)]
#[entity(table = "users")]
#[has_many(Post, fk = "author_id")]
#[belongs_to(Team, fk = "team_id")]
#[has_many(Comment, through = "post")]
#[has_many(Tag, through = "team", name = "team_tags")]
#[has_many(Comment, through = "posts", fk = "author_id", name = "fk_comments")]
#[has_many(Post, fk = "author_id", source = "posts", name = "sourced")]
#[has_many(Comment, through = "again", name = "again")]
struct User {
    id: i64,
    team_id: i64,
}

#[derive(Entity)]
#[entity(table = "posts")]
#[has_many(Comment, fk = "post_id")]
struct Post {
    id: i64,
    author_id: i64,
}

#[derive(Entity)]
#[entity(table = "comments")]
struct Comment {
    id: i64,
    post_id: i64,
}

#[derive(Entity)]
#[entity(table = "teams")]
struct Team {
    id: i64,
}

#[derive(Entity)]
#[entity(table = "tags")]
struct Tag {
    id: i64,
}

fn main() {}
