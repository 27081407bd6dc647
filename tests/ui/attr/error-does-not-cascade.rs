use loader_runtime::{Db, Entity};

// The misspelt key is the only error: the rest of the crate still sees
// `User` as an entity, so its uses are not reported too.
#[derive(Entity)]
#[entity(tabel = "users")]
struct User {
    id: i64,
}

fn count(db: &Db) -> usize {
    User::all(db).map(|users| users.len()).unwrap_or(0)
}

fn main() {
    let db = Db::open_in_memory().unwrap();
    let _ = count(&db);
    let _ = User::query().all(&db);
}
