use loader_runtime::Entity;

#[derive(Entity)]
struct Track {
    #[entity(primary_key)]
    track_id: i64,
    #[entity(primary_key)]
    playlist_id: i64,
}

fn main() {}
