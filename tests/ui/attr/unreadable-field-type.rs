use loader_runtime::Entity;

/// A type of the user's own that no driver knows how to read.
struct Money(i64);

#[derive(Entity)]
#[entity(table = "invoices")]
struct Invoice {
    id: i64,
    total: Money,
}

fn main() {}
