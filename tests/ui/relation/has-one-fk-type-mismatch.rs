use loader_runtime::Entity;

#[derive(Entity)]
#[has_one(Profile, fk = "user_id")]
struct User {
    #[entity(primary_key)]
    name: String,
}

#[derive(Entity)]
struct Profile {
    id: i64,
    user_id: Option<i64>,
}

fn main() {}
