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

// A mistake in a relation of `LineItem` leaves its columns intact, so the
// `fk` that `Order` names on it is still checked and found.
#[derive(Entity)]
#[has_many(LineItem, fk = "order_id")]
struct Order {
    id: i64,
}

#[derive(Entity)]
#[belongs_to(Order, fk = "order_id", nmae = "order")]
struct LineItem {
    id: i64,
    order_id: i64,
}

fn main() {
    let db = Db::open_in_memory().unwrap();
    let _ = count(&db);
    let _ = User::query().all(&db);
    let _ = Order::query().preload(Order::line_items()).all(&db);
    let _ = LineItem::find(&db, &1);
}
