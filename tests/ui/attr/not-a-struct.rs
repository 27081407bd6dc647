use loader_runtime::Entity;

#[derive(Entity)]
struct Pair(i64, String);

#[derive(Entity)]
enum Status {
    Active,
    Banned,
}

#[derive(Entity)]
union Bits {
    int: i64,
    float: f64,
}

#[derive(Entity)]
struct Marker;

fn main() {}
