//! A Chinook-shaped music store built in memory: artists → albums → tracks
//! (with each track's genre), and playlists ↔ tracks through a join table.
//! Column names are PascalCase, as in the real Chinook database.
//!
//! Run with `cargo run --example chinook`.

use loader_runtime::{Db, Entity};

#[derive(Entity, Debug)]
#[entity(table = "Artist")]
#[has_many(Album, fk = "ArtistId")]
struct Artist {
    #[entity(primary_key, column = "ArtistId")]
    id: i64,
    #[entity(column = "Name")]
    name: String,
}

#[derive(Entity, Debug)]
#[entity(table = "Album")]
#[has_many(Track, fk = "AlbumId")]
struct Album {
    #[entity(primary_key, column = "AlbumId")]
    id: i64,
    #[entity(column = "Title")]
    title: String,
    #[entity(column = "ArtistId")]
    artist_id: i64,
}

#[derive(Entity, Debug)]
#[entity(table = "Track")]
#[belongs_to(Genre, fk = "GenreId")]
struct Track {
    #[entity(primary_key, column = "TrackId")]
    id: i64,
    #[entity(column = "Name")]
    name: String,
    #[entity(column = "AlbumId")]
    album_id: Option<i64>,
    #[entity(column = "GenreId")]
    genre_id: Option<i64>,
}

#[derive(Entity, Debug)]
#[entity(table = "Genre")]
struct Genre {
    #[entity(primary_key, column = "GenreId")]
    id: i64,
    #[entity(column = "Name")]
    name: String,
}

#[derive(Entity, Debug)]
#[entity(table = "Playlist")]
#[many_to_many(
    Track,
    through = "PlaylistTrack",
    fk = "PlaylistId",
    target_fk = "TrackId"
)]
struct Playlist {
    #[entity(primary_key, column = "PlaylistId")]
    id: i64,
    #[entity(column = "Name")]
    name: String,
}

fn main() -> Result<(), loader_runtime::Error> {
    let db = Db::open_in_memory()?;
    db.execute_batch(
        "CREATE TABLE Artist (ArtistId INTEGER PRIMARY KEY, Name TEXT NOT NULL);
         CREATE TABLE Album (AlbumId INTEGER PRIMARY KEY, Title TEXT NOT NULL,
                             ArtistId INTEGER NOT NULL REFERENCES Artist);
         CREATE TABLE Genre (GenreId INTEGER PRIMARY KEY, Name TEXT NOT NULL);
         CREATE TABLE Track (TrackId INTEGER PRIMARY KEY, Name TEXT NOT NULL,
                             AlbumId INTEGER REFERENCES Album, GenreId INTEGER REFERENCES Genre);
         CREATE TABLE Playlist (PlaylistId INTEGER PRIMARY KEY, Name TEXT NOT NULL);
         CREATE TABLE PlaylistTrack (PlaylistId INTEGER NOT NULL, TrackId INTEGER NOT NULL,
                                     PRIMARY KEY (PlaylistId, TrackId));
         INSERT INTO Artist VALUES (1, 'AC/DC'), (2, 'Miles Davis'), (3, 'Nobody Yet');
         INSERT INTO Album VALUES (1, 'Back in Black', 1), (2, 'Highway to Hell', 1), (3, 'Kind of Blue', 2);
         INSERT INTO Genre VALUES (1, 'Rock'), (2, 'Jazz');
         INSERT INTO Track VALUES (1, 'Hells Bells', 1, 1), (2, 'Shoot to Thrill', 1, 1),
                                  (3, 'Highway to Hell', 2, 1), (4, 'So What', 3, 2),
                                  (5, 'Blue in Green', 3, 2), (6, 'Untitled demo', NULL, NULL);
         INSERT INTO Playlist VALUES (1, 'Road trip'), (2, 'Late night'), (3, 'Empty');
         INSERT INTO PlaylistTrack VALUES (1, 1), (1, 3), (1, 4), (2, 4), (2, 5), (2, 6);",
    )?;

    let artists = Artist::query()
        .preload(Artist::albums().preload(Album::tracks().preload(Track::genre())))
        .all(&db)?;
    for artist in &artists {
        println!("{}", artist.name);
        for album in artist.albums() {
            println!("  {}", album.title);
            for track in album.tracks() {
                let genre = track
                    .genre()
                    .map_or("no genre", |genre| genre.name.as_str());
                println!("    {} ({genre})", track.name);
            }
        }
    }
    println!(
        "{} queries for artists, albums, tracks and genres\n",
        db.query_count()
    );

    db.reset_query_log();
    let playlists = Playlist::query().preload(Playlist::tracks()).all(&db)?;
    for playlist in &playlists {
        let names: Vec<&str> = playlist.tracks().iter().map(|t| t.name.as_str()).collect();
        println!("{}: {}", playlist.name, names.join(", "));
    }
    // Every playlist: its PlaylistTrack rows are read alone, then each track
    // they name once, rather than one JOIN repeating a track per playlist.
    println!(
        "{} queries for playlists and their tracks (playlists, PlaylistTrack, tracks)",
        db.query_count()
    );
    Ok(())
}
