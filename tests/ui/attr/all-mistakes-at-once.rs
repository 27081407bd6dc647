use loader_runtime::Entity;

// Every mistake of one derive is reported in one compile.
#[derive(Entity)]
#[entity(table = "users", tabel = "people")]
#[has_many(Post, fk = "author_id", nam = "writings")]
#[has_many(Post, fk = "", name = "drafts")]
#[belongs_to(Team, fk = "tema_id")]
#[has_one(Profile, name = "2fa")]
struct User {
    #[entity(primary_key, primary_key)]
    id: i64,
    #[entity(column = "")]
    name: String,
    team_id: i64,
}

fn main() {}
