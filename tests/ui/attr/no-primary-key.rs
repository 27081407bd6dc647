use loader_runtime::Entity;

#[derive(Entity)]
struct Track {
    track_id: i64,
    name: String,
}

fn main() {}
