use loader_runtime::Entity;

#[derive(Entity)]
#[entity(tabel = "users")]
#[has_many(Post, fk = "author_id", order_by = "id")]
struct User {
    #[entity(primary_key, colum = "Id")]
    id: i64,
}

#[derive(Entity)]
struct Post {
    id: i64,
    author_id: i64,
}

fn main() {}
