use loader_runtime::Entity;

/// Types of the user's own that were never made column types.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
struct InvoiceId(i64);
struct Money(i64);

#[derive(Entity)]
#[entity(table = "invoices")]
struct Invoice {
    id: InvoiceId,
    total: Money,
    discount: Option<Money>,
}

fn main() {}
