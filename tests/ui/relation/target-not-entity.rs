//! A relation whose target does not derive `Entity`: one error per
//! relation, on the target, whatever the relation's kind.
use loader_runtime::Entity;

#[derive(Entity)]
#[has_many(Post, fk = "author_id")]
struct User {
    id: i64,
}

struct Post {
    id: i64,
    author_id: i64,
}

struct Tag {
    id: i64,
}

struct Profile {
    id: i64,
    account_id: i64,
}

#[derive(Entity)]
#[belongs_to(Post, fk = "post_id")]
#[many_to_many(Tag, through = "account_tags", fk = "account_id", target_fk = "tag_id")]
#[has_one(Profile, fk = "account_id")]
struct Account {
    id: i64,
    post_id: Option<i64>,
}

fn main() {}
