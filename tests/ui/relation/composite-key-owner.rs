use loader_runtime::Entity;

#[derive(Entity)]
struct Playlist {
    id: i64,
}

#[derive(Entity)]
struct Track {
    id: i64,
}

// A join table with a composite key can be read and can belong to things,
// but nothing can be found by its key.
#[derive(Entity)]
#[entity(table = "playlist_track")]
#[belongs_to(Playlist, fk = "playlist_id")]
#[has_many(Note, fk = "playlist_track_id")]
struct PlaylistTrack {
    #[entity(primary_key)]
    playlist_id: i64,
    #[entity(primary_key)]
    track_id: i64,
}

#[derive(Entity)]
struct Note {
    id: i64,
    playlist_track_id: i64,
}

#[derive(Entity)]
#[belongs_to(PlaylistTrack, fk = "playlist_track_id")]
struct Remark {
    id: i64,
    playlist_track_id: i64,
}

fn main() {}
