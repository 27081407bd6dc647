//! Every relation kind on the real Chinook schema (PascalCase tables and
//! columns, nullable keys, a self-referential key, a many-to-many through a
//! join table with a composite key): the preloaded graph equals what lazy
//! loading returns and what a hand-written SQL query returns, and a preload
//! costs 1 + the number of preloaded relations.
//!
//! The database script is read from `LOADER_CHINOOK_SQLITE` (set by
//! `.ci/run`); without it these tests print why and pass.

// Relation attributes that repeat a target or an `fk` value trip this lint on
// clippy 1.95 (rust-clippy#12923).
#![allow(clippy::duplicated_attributes)]

use std::collections::BTreeMap;

mod common;

use loader_runtime::{Db, Entity, Keyed};
use rust_decimal::Decimal;

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "Artist")]
#[has_many(Album, fk = "artist_id")]
#[has_many(Track, through = "albums")]
struct Artist {
    #[entity(primary_key, column = "ArtistId")]
    artist_id: i64,
    #[entity(column = "Name")]
    name: Option<String>,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "Album")]
#[belongs_to(Artist, fk = "ArtistId")]
#[has_many(Track, fk = "AlbumId")]
struct Album {
    #[entity(primary_key, column = "AlbumId")]
    album_id: i64,
    #[entity(column = "Title")]
    title: String,
    #[entity(column = "ArtistId")]
    artist_id: i64,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "Track")]
#[belongs_to(Album, fk = "album_id")]
#[belongs_to(Genre, fk = "genre_id")]
#[belongs_to(MediaType, fk = "media_type_id")]
#[many_to_many(
    Playlist,
    through = "PlaylistTrack",
    fk = "TrackId",
    target_fk = "PlaylistId"
)]
#[has_many(InvoiceLine, fk = "track_id")]
struct Track {
    #[entity(primary_key, column = "TrackId")]
    track_id: i64,
    #[entity(column = "Name")]
    name: String,
    #[entity(column = "AlbumId")]
    album_id: Option<i64>,
    #[entity(column = "MediaTypeId")]
    media_type_id: i64,
    #[entity(column = "GenreId")]
    genre_id: Option<i64>,
    #[entity(column = "Composer")]
    composer: Option<String>,
    #[entity(column = "Milliseconds")]
    milliseconds: i64,
    #[entity(column = "UnitPrice")]
    unit_price: Decimal,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "Genre")]
#[has_many(Track, fk = "genre_id")]
#[has_many(Album, through = "tracks", source = "album")]
struct Genre {
    #[entity(primary_key, column = "GenreId")]
    genre_id: i64,
    #[entity(column = "Name")]
    name: Option<String>,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "MediaType")]
#[has_many(Track, fk = "media_type_id")]
struct MediaType {
    #[entity(primary_key, column = "MediaTypeId")]
    media_type_id: i64,
    #[entity(column = "Name")]
    name: Option<String>,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "Playlist")]
#[many_to_many(
    Track,
    through = "PlaylistTrack",
    fk = "PlaylistId",
    target_fk = "TrackId"
)]
#[has_many(PlaylistTrack, fk = "playlist_id", name = "entries")]
#[has_many(Genre, through = "tracks", source = "genre")]
struct Playlist {
    #[entity(primary_key, column = "PlaylistId")]
    playlist_id: i64,
    #[entity(column = "Name")]
    name: Option<String>,
}

/// The join table, read as an entity with a composite key.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "PlaylistTrack")]
#[belongs_to(Playlist, fk = "playlist_id")]
#[belongs_to(Track, fk = "track_id")]
struct PlaylistTrack {
    #[entity(primary_key, column = "PlaylistId")]
    playlist_id: i64,
    #[entity(primary_key, column = "TrackId")]
    track_id: i64,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "Employee")]
#[belongs_to(Employee, fk = "reports_to", name = "manager")]
#[has_many(Employee, fk = "reports_to", name = "reports")]
#[has_many(Customer, fk = "support_rep_id", name = "customers")]
struct Employee {
    #[entity(primary_key, column = "EmployeeId")]
    employee_id: i64,
    #[entity(column = "LastName")]
    last_name: String,
    #[entity(column = "FirstName")]
    first_name: String,
    #[entity(column = "Title")]
    title: Option<String>,
    #[entity(column = "ReportsTo")]
    reports_to: Option<i64>,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "Customer")]
#[belongs_to(Employee, fk = "SupportRepId", name = "support_rep")]
#[has_many(Invoice, fk = "customer_id")]
struct Customer {
    #[entity(primary_key, column = "CustomerId")]
    customer_id: i64,
    #[entity(column = "FirstName")]
    first_name: String,
    #[entity(column = "LastName")]
    last_name: String,
    #[entity(column = "Email")]
    email: String,
    #[entity(column = "Country")]
    country: Option<String>,
    #[entity(column = "SupportRepId")]
    support_rep_id: Option<i64>,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "Invoice")]
#[belongs_to(Customer, fk = "customer_id")]
#[has_many(InvoiceLine, fk = "invoice_id", name = "lines")]
#[has_one(InvoiceLine, fk = "invoice_id", name = "first_line")]
struct Invoice {
    #[entity(primary_key, column = "InvoiceId")]
    invoice_id: i64,
    #[entity(column = "CustomerId")]
    customer_id: i64,
    #[entity(column = "InvoiceDate")]
    invoice_date: String,
    #[entity(column = "Total")]
    total: Decimal,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "InvoiceLine")]
#[belongs_to(Invoice, fk = "invoice_id")]
#[belongs_to(Track, fk = "track_id")]
struct InvoiceLine {
    #[entity(primary_key, column = "InvoiceLineId")]
    invoice_line_id: i64,
    #[entity(column = "InvoiceId")]
    invoice_id: i64,
    #[entity(column = "TrackId")]
    track_id: i64,
    #[entity(column = "UnitPrice")]
    unit_price: Decimal,
    #[entity(column = "Quantity")]
    quantity: i64,
}

/// The Chinook database on each configured backend: SQLite in memory from
/// `LOADER_CHINOOK_SQLITE`, and PostgreSQL (when `LOADER_TEST_POSTGRES` is
/// set) from `LOADER_CHINOOK_POSTGRES`. A backend whose variable is unset is
/// skipped with a message; a variable naming an unreadable file fails.
fn chinooks() -> Vec<Db> {
    let mut dbs = Vec::new();
    match script("LOADER_CHINOOK_SQLITE", "Chinook_Sqlite.sql") {
        Some(script) => {
            let db = Db::open_in_memory().unwrap();
            db.execute_batch(&script).unwrap();
            dbs.push(db);
        }
        None => skip("LOADER_CHINOOK_SQLITE", "Chinook_Sqlite.sql"),
    }
    match script("LOADER_CHINOOK_POSTGRES", "Chinook_PostgreSql.sql") {
        Some(script) => dbs.extend(postgres_chinook(&script)),
        None => skip("LOADER_CHINOOK_POSTGRES", "Chinook_PostgreSql.sql"),
    }
    dbs
}

/// The script a variable names, or `None` when it is unset.
fn script(variable: &str, file: &str) -> Option<String> {
    let path = std::env::var_os(variable)?;
    Some(std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!("{variable} is set to {path:?}, which cannot be read ({file}): {error}")
    }))
}

fn skip(variable: &str, file: &str) {
    // Written past the test harness's capture so that it shows.
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("skipped: set {variable} to the path of {file} to run the Chinook tests on it\n")
            .as_bytes(),
    );
}

/// Loads the PostgreSQL script once per test process into schema
/// `loader_chinook`, then opens a session on it.
///
/// The script's identifiers are snake_case (`invoice_line.unit_price`)
/// where the SQLite script's are PascalCase (`InvoiceLine.UnitPrice`); the
/// tables and columns are renamed to the SQLite names after loading so that
/// one set of entities and one set of tests serve both. Everything else is
/// the script's own: `int` keys, `numeric(10,2)` prices, `timestamp` dates.
fn postgres_chinook(script: &str) -> Option<Db> {
    const SCHEMA: &str = "loader_chinook";
    static LOADED: std::sync::Mutex<bool> = std::sync::Mutex::new(false);
    let mut loaded = LOADED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if !*loaded {
        let db = common::backend::postgres_schema(SCHEMA)?;
        // The script creates its own database and connects to it with psql's
        // `\c`; here it runs inside the schema instead.
        let body: String = script
            .lines()
            .filter(|line| {
                !(line.starts_with("DROP DATABASE")
                    || line.starts_with("CREATE DATABASE")
                    || line.starts_with("\\c"))
            })
            .map(|line| format!("{line}\n"))
            .collect();
        db.execute_batch(&body).unwrap();
        let pascal = |name: &str| -> String {
            name.split('_')
                .map(|word| {
                    let mut chars = word.chars();
                    chars.next().map_or_else(String::new, |first| {
                        first.to_uppercase().chain(chars).collect()
                    })
                })
                .collect()
        };
        let columns = db
            .postgres()
            .unwrap()
            .query(
                "SELECT table_name::text, column_name::text FROM information_schema.columns
                 WHERE table_schema = current_schema()",
                &[],
            )
            .unwrap();
        let mut renames = String::new();
        let mut tables = std::collections::BTreeSet::new();
        for row in &columns {
            let (table, column): (String, String) = (row.get(0), row.get(1));
            renames.push_str(&format!(
                "ALTER TABLE \"{table}\" RENAME COLUMN \"{column}\" TO \"{}\";\n",
                pascal(&column)
            ));
            tables.insert(table);
        }
        for table in tables {
            renames.push_str(&format!(
                "ALTER TABLE \"{table}\" RENAME TO \"{}\";\n",
                pascal(&table)
            ));
        }
        db.execute_batch(&format!("{renames}ANALYZE;")).unwrap();
        *loaded = true;
    }
    Some(common::backend::postgres_session(SCHEMA))
}

/// `owner key → related keys` as a hand-written query returns them.
fn pairs(db: &Db, sql: &str) -> BTreeMap<i64, Vec<i64>> {
    let mut map: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for row in common::backend::integer_rows(db, sql) {
        map.entry(row[0].unwrap())
            .or_default()
            .push(row[1].unwrap());
    }
    map
}

/// Collects `owner key → related keys`, leaving out owners with none.
fn collect<'a, O: 'a, T: Keyed + 'a>(
    owners: impl IntoIterator<Item = (&'a O, Vec<&'a T>)>,
    key: impl Fn(&O) -> i64,
) -> BTreeMap<i64, Vec<i64>>
where
    T::Key: Into<i64> + Copy,
{
    owners
        .into_iter()
        .filter(|(_, related)| !related.is_empty())
        .map(|(owner, related)| {
            let keys = related.iter().map(|t| (*t.key()).into()).collect();
            (key(owner), keys)
        })
        .collect()
}

#[test]
fn artist_albums_tracks_three_levels() {
    for db in chinooks() {
        let artists = Artist::query()
            .preload(Artist::albums().preload(Album::tracks().preload(Track::genre())))
            .all(&db)
            .unwrap();
        assert_eq!(db.query_count(), 4, "artists, albums, tracks, genres");
        assert_eq!(artists.len(), 275);

        let albums = collect(
            artists
                .iter()
                .map(|a| (a, a.albums().iter().map(|x| x.entity()).collect())),
            |a| a.artist_id,
        );
        assert_eq!(
            albums,
            pairs(
                &db,
                "SELECT \"ArtistId\", \"AlbumId\" FROM \"Album\" ORDER BY \"ArtistId\", \"AlbumId\""
            )
        );
        let all_albums: Vec<_> = artists.iter().flat_map(|a| a.albums()).collect();
        assert_eq!(all_albums.len(), 347);
        let tracks = collect(
            all_albums
                .iter()
                .map(|a| (a.entity(), a.tracks().iter().map(|t| t.entity()).collect())),
            |a| a.album_id,
        );
        assert_eq!(
            tracks,
            pairs(
                &db,
                "SELECT \"AlbumId\", \"TrackId\" FROM \"Track\" WHERE \"AlbumId\" IS NOT NULL ORDER BY \"AlbumId\", \"TrackId\""
            )
        );
        for track in all_albums.iter().flat_map(|a| a.tracks()) {
            let genre = track.genre().map(|g| g.entity().clone());
            assert_eq!(genre, track.load_genre(&db).unwrap());
        }

        // Lazily, for a sample: the same rows.
        for artist in artists.iter().step_by(25) {
            let lazy = artist.load_albums(&db).unwrap();
            let preloaded: Vec<Album> =
                artist.albums().iter().map(|a| a.entity().clone()).collect();
            assert_eq!(preloaded, lazy);
            for album in artist.albums() {
                let lazy = album.load_tracks(&db).unwrap();
                let preloaded: Vec<Track> =
                    album.tracks().iter().map(|t| t.entity().clone()).collect();
                assert_eq!(preloaded, lazy);
            }
        }
    }
}

#[test]
fn track_belongs_to_album_genre_and_media_type() {
    for db in chinooks() {
        let tracks = Track::query()
            .preload(Track::album().preload(Album::artist()))
            .preload(Track::genre())
            .preload(Track::media_type())
            .all(&db)
            .unwrap();
        assert_eq!(db.query_count(), 5);
        assert_eq!(tracks.len(), 3503);
        // track → (album, genre, media type, the album's artist)
        type Related = (Option<i64>, Option<i64>, i64, Option<i64>);
        let expected: BTreeMap<i64, Related> = common::backend::integer_rows(
            &db,
                "SELECT t.\"TrackId\", al.\"AlbumId\", t.\"GenreId\", m.\"MediaTypeId\", ar.\"ArtistId\"
                 FROM \"Track\" t
                 LEFT JOIN \"Album\" al ON al.\"AlbumId\" = t.\"AlbumId\"
                 LEFT JOIN \"Artist\" ar ON ar.\"ArtistId\" = al.\"ArtistId\"
                 JOIN \"MediaType\" m ON m.\"MediaTypeId\" = t.\"MediaTypeId\"",
    )
    .into_iter()
    .map(|r| (r[0].unwrap(), (r[1], r[2], r[3].unwrap(), r[4])))
    .collect();
        for track in &tracks {
            let album = track.album();
            let got = (
                album.map(|a| a.album_id),
                track.genre().map(|g| g.genre_id),
                track.media_type().media_type_id,
                album.map(|a| a.artist().artist_id),
            );
            assert_eq!(got, expected[&track.track_id], "track {}", track.track_id);
        }
        for track in tracks.iter().step_by(97) {
            assert_eq!(
                track.media_type().entity(),
                &track.load_media_type(&db).unwrap()
            );
            assert_eq!(
                track.album().map(|a| a.entity().clone()),
                track.load_album(&db).unwrap()
            );
        }
    }
}

#[test]
fn playlists_and_tracks_many_to_many_both_ways() {
    for db in chinooks() {
        let playlists = Playlist::query()
            .preload(Playlist::tracks().preload(Track::genre()))
            .all(&db)
            .unwrap();
        // Playlists, every PlaylistTrack row, the tracks they name, genres.
        assert_eq!(db.query_count(), 4);
        assert_eq!(playlists.len(), 18);
        let got = collect(
            playlists
                .iter()
                .map(|p| (p.entity(), p.tracks().iter().map(|t| t.entity()).collect())),
            |p| p.playlist_id,
        );
        let expected = pairs(
            &db,
            "SELECT \"PlaylistId\", \"TrackId\" FROM \"PlaylistTrack\" ORDER BY \"PlaylistId\", \"TrackId\"",
        );
        assert_eq!(got, expected);
        assert_eq!(got.values().map(Vec::len).sum::<usize>(), 8715);
        for playlist in &playlists {
            let lazy = playlist.load_tracks(&db).unwrap();
            let preloaded: Vec<Track> = playlist
                .tracks()
                .iter()
                .map(|t| t.entity().clone())
                .collect();
            assert_eq!(preloaded, lazy, "playlist {}", playlist.playlist_id);
        }

        // The other way, reached through a belongs_to so that the keys are bound.
        db.reset_query_log();
        let lines = InvoiceLine::query()
            .preload(InvoiceLine::track().preload(Track::playlists()))
            .all(&db)
            .unwrap();
        // Lines, tracks, then for the playlists of the 1,984 tracks (more
        // than a page) the PlaylistTrack rows by track key, then each of the
        // playlists they name once, by key.
        assert_eq!(db.query_count(), 4);
        let log = db.query_log();
        assert!(log[2].sql.contains("FROM \"PlaylistTrack\" WHERE"));
        assert!(log[2].sql.contains(common::backend::key_set(&db)));
        assert_eq!(log[2].bound_values, 1984);
        assert!(log[3].sql.contains(common::backend::key_set(&db)));
        assert_eq!(log[3].rows, log[3].bound_values, "each playlist once");
        let expected = pairs(
            &db,
            "SELECT \"TrackId\", \"PlaylistId\" FROM \"PlaylistTrack\" ORDER BY \"TrackId\", \"PlaylistId\"",
        );
        for line in &lines {
            let track = line.track();
            let got: Vec<i64> = track.playlists().iter().map(|p| p.playlist_id).collect();
            assert_eq!(
                got,
                expected.get(&track.track_id).cloned().unwrap_or_default()
            );
        }
    }
}

#[test]
fn join_table_with_composite_key_is_readable() {
    for db in chinooks() {
        let entries = PlaylistTrack::query()
            .preload(PlaylistTrack::playlist())
            .preload(PlaylistTrack::track())
            .all(&db)
            .unwrap();
        assert_eq!(entries.len(), 8715);
        assert_eq!(db.query_count(), 3);
        assert!(
            entries
                .iter()
                .all(|e| e.playlist().playlist_id == e.playlist_id)
        );
        assert!(entries.iter().all(|e| e.track().track_id == e.track_id));
        let entry = PlaylistTrack::find(&db, &(1, 3402)).unwrap();
        assert_eq!(
            entry,
            Some(PlaylistTrack {
                playlist_id: 1,
                track_id: 3402
            })
        );
        assert_eq!(PlaylistTrack::find(&db, &(1, 999_999)).unwrap(), None);

        let playlists = Playlist::query()
            .preload(Playlist::entries())
            .all(&db)
            .unwrap();
        let got: usize = playlists.iter().map(|p| p.entries().len()).sum();
        assert_eq!(got, 8715);
    }
}

#[test]
fn employees_self_reference_several_levels() {
    for db in chinooks() {
        let employees = Employee::query()
            .preload(Employee::manager())
            .preload(Employee::reports().preload(Employee::reports().preload(Employee::manager())))
            .all(&db)
            .unwrap();
        assert_eq!(db.query_count(), 5);
        assert_eq!(employees.len(), 8);
        let expected = pairs(
            &db,
            "SELECT \"ReportsTo\", \"EmployeeId\" FROM \"Employee\" WHERE \"ReportsTo\" IS NOT NULL ORDER BY \"ReportsTo\", \"EmployeeId\"",
        );
        let got = collect(
            employees
                .iter()
                .map(|e| (e.entity(), e.reports().iter().map(|r| r.entity()).collect())),
            |e| e.employee_id,
        );
        assert_eq!(got, expected);
        let general_manager = employees.iter().find(|e| e.reports_to.is_none()).unwrap();
        assert!(general_manager.manager().is_none());
        // Two levels down from the top: the sales agents and IT staff.
        let second_level: Vec<_> = general_manager
            .reports()
            .iter()
            .flat_map(|r| r.reports())
            .collect();
        assert_eq!(second_level.len(), 5);
        for employee in second_level {
            let manager = employee.manager().expect("has a manager");
            assert_eq!(Some(manager.employee_id), employee.reports_to);
            assert_eq!(
                Some(manager.entity().clone()),
                employee.load_manager(&db).unwrap()
            );
        }
    }
}

#[test]
fn customers_support_reps_invoices_and_lines() {
    for db in chinooks() {
        let customers = Customer::query()
            .preload(Customer::support_rep().preload(Employee::customers()))
            .preload(
                Customer::invoices()
                    .preload(Invoice::lines().preload(InvoiceLine::track()))
                    .preload(Invoice::first_line()),
            )
            .all(&db)
            .unwrap();
        assert_eq!(db.query_count(), 7);
        assert_eq!(customers.len(), 59);
        let invoices = collect(
            customers.iter().map(|c| {
                (
                    c.entity(),
                    c.invoices().iter().map(|i| i.entity()).collect(),
                )
            }),
            |c| c.customer_id,
        );
        assert_eq!(
            invoices,
            pairs(
                &db,
                "SELECT \"CustomerId\", \"InvoiceId\" FROM \"Invoice\" ORDER BY \"CustomerId\", \"InvoiceId\""
            )
        );
        let all_invoices: Vec<_> = customers.iter().flat_map(|c| c.invoices()).collect();
        assert_eq!(all_invoices.len(), 412);
        let lines = collect(
            all_invoices
                .iter()
                .map(|i| (i.entity(), i.lines().iter().map(|l| l.entity()).collect())),
            |i| i.invoice_id,
        );
        let expected_lines = pairs(
            &db,
            "SELECT \"InvoiceId\", \"InvoiceLineId\" FROM \"InvoiceLine\" ORDER BY \"InvoiceId\", \"InvoiceLineId\"",
        );
        assert_eq!(lines, expected_lines);
        for invoice in &all_invoices {
            let first = invoice.first_line().map(|l| l.invoice_line_id);
            assert_eq!(first, expected_lines.get(&invoice.invoice_id).map(|l| l[0]));
            assert_eq!(
                invoice.first_line().map(|l| l.entity().clone()),
                invoice.load_first_line(&db).unwrap()
            );
            for line in invoice.lines() {
                assert_eq!(line.track().track_id, line.track_id);
            }
        }
        for customer in &customers {
            let rep = customer.support_rep();
            assert_eq!(rep.map(|r| r.employee_id), customer.support_rep_id);
            if let Some(rep) = rep {
                assert!(
                    rep.customers()
                        .iter()
                        .any(|c| c.customer_id == customer.customer_id)
                );
            }
            assert_eq!(
                rep.map(|r| r.entity().clone()),
                customer.load_support_rep(&db).unwrap()
            );
        }
    }
}

/// The same entities and preloads on SQLite and on PostgreSQL give the same
/// graph, field by field: `int` keys widened to `i64`, `numeric(10,2)`
/// prices read as exact `Decimal`s (reals in SQLite's `NUMERIC` columns),
/// `timestamp` invoice dates to the text SQLite stores.
#[test]
fn postgres_graph_equals_sqlite_graph() {
    let dbs = chinooks();
    if dbs.len() < 2 {
        return;
    }
    type Lines = Vec<(InvoiceLine, Track, Vec<Playlist>)>;
    type Graph = Vec<(Customer, Option<Employee>, Vec<(Invoice, Lines)>)>;
    let graph = |db: &Db| -> Graph {
        Customer::query()
            .preload(Customer::support_rep())
            .preload(Customer::invoices().preload(
                Invoice::lines().preload(InvoiceLine::track().preload(Track::playlists())),
            ))
            .all(db)
            .unwrap()
            .iter()
            .map(|customer| {
                let invoices = customer
                    .invoices()
                    .iter()
                    .map(|invoice| {
                        let lines = invoice
                            .lines()
                            .iter()
                            .map(|line| {
                                let track = line.track();
                                let playlists = track
                                    .playlists()
                                    .iter()
                                    .map(|p| p.entity().clone())
                                    .collect();
                                (line.entity().clone(), track.entity().clone(), playlists)
                            })
                            .collect();
                        (invoice.entity().clone(), lines)
                    })
                    .collect();
                let rep = customer.support_rep().map(|r| r.entity().clone());
                (customer.entity().clone(), rep, invoices)
            })
            .collect()
    };
    let sqlite = graph(&dbs[0]);
    let postgres = graph(&dbs[1]);
    assert_eq!(sqlite.len(), 59);
    assert_eq!(sqlite[0].2[0].0.invoice_date, "2022-03-11 00:00:00");
    assert_eq!(sqlite, postgres);
    for db in &dbs {
        // One statement per level, and two for the playlists of the 1,984
        // tracks: their PlaylistTrack rows, then each playlist once.
        assert_eq!(db.query_count(), 7, "{}", common::backend::name(db));
    }
}

/// Prices are exact: every invoice's total is the sum of its lines'
/// `unit_price × quantity` to the cent, on both databases, and a filter on
/// a price binds a `Decimal` (`numeric` on PostgreSQL; compared by SQLite's
/// `NUMERIC` affinity there).
#[test]
fn prices_are_exact_decimals() {
    let mut counts = Vec::new();
    for db in chinooks() {
        let place = common::backend::name(&db);
        let invoices = Invoice::query().preload(Invoice::lines()).all(&db).unwrap();
        assert_eq!(invoices.len(), 412, "{place}");
        for invoice in &invoices {
            let sum: Decimal = invoice
                .lines()
                .iter()
                .map(|line| line.unit_price * Decimal::from(line.quantity))
                .sum();
            assert_eq!(
                sum, invoice.total,
                "{place}: invoice {}",
                invoice.invoice_id
            );
        }
        let total: Decimal = invoices.iter().map(|i| i.total).sum();
        assert_eq!(total.to_string(), "2328.60", "{place}");
        let dear = Track::query()
            .filter(|t| t.unit_price.gt(Decimal::new(99, 2)))
            .order_by(|t| t.unit_price.desc())
            .all(&db)
            .unwrap();
        let expected = common::backend::integer_rows(
            &db,
            "SELECT COUNT(*) FROM \"Track\" WHERE \"UnitPrice\" > 0.99",
        )[0][0];
        assert_eq!(Some(dear.len() as i64), expected, "{place}");
        assert!(
            dear.iter().all(|t| t.unit_price == Decimal::new(199, 2)),
            "{place}"
        );
        counts.push(dear.len());
    }
    if counts.len() == 2 {
        assert_eq!(counts[0], counts[1], "SQLite and PostgreSQL agree");
    }
}

/// A relation filter on real data: customers with an invoice over 15 (11
/// of 59; every customer has one over 10), as one `EXISTS` statement, equal
/// to the hand-written query on both databases; and the other way round,
/// invoices of customers in Brazil.
#[test]
fn customers_with_an_invoice_over_fifteen() {
    let mut results = Vec::new();
    for db in chinooks() {
        let place = common::backend::name(&db);
        db.reset_query_log();
        let customers = Customer::query()
            .filter(|c| c.invoices().any(|i| i.total.gt(Decimal::from(15))))
            .all(&db)
            .unwrap();
        assert_eq!(db.query_count(), 1, "{place}");
        let got: Vec<i64> = customers.iter().map(|c| c.customer_id).collect();
        let expected: Vec<i64> = common::backend::integer_rows(
            &db,
            "SELECT \"CustomerId\" FROM \"Customer\" c WHERE EXISTS (SELECT 1 FROM \"Invoice\" i \
             WHERE i.\"CustomerId\" = c.\"CustomerId\" AND i.\"Total\" > 15) ORDER BY 1",
        )
        .into_iter()
        .map(|row| row[0].unwrap())
        .collect();
        assert!(
            !expected.is_empty() && expected.len() < 59,
            "{place}: {}",
            expected.len()
        );
        assert_eq!(got, expected, "{place}");
        let brazil = Invoice::query()
            .filter(|i| i.customer().is(|c| c.country.eq("Brazil")))
            .all(&db)
            .unwrap();
        let expected_brazil = common::backend::integer_rows(
            &db,
            "SELECT COUNT(*) FROM \"Invoice\" i JOIN \"Customer\" c ON c.\"CustomerId\" = i.\"CustomerId\" WHERE c.\"Country\" = 'Brazil'",
        )[0][0];
        assert_eq!(Some(brazil.len() as i64), expected_brazil, "{place}");
        results.push((got, brazil.len()));
    }
    if results.len() == 2 {
        assert_eq!(results[0], results[1], "SQLite and PostgreSQL agree");
    }
}

/// Invoice dates are `timestamp` on PostgreSQL and text on SQLite; the
/// `String` field reads both the same way and filters both with the same
/// strings (on PostgreSQL the server parses them as timestamps).
#[test]
fn filters_on_dates_read_as_text() {
    let mut results = Vec::new();
    for db in chinooks() {
        let ids = |invoices: Vec<loader_runtime::Loaded<Invoice, ()>>| -> Vec<i64> {
            invoices.iter().map(|i| i.invoice_id).collect()
        };
        let on_day = ids(Invoice::query()
            .filter(|i| i.invoice_date.eq("2022-03-11 00:00:00"))
            .all(&db)
            .unwrap());
        let expected: Vec<i64> = common::backend::integer_rows(
            &db,
            "SELECT \"InvoiceId\" FROM \"Invoice\" WHERE \"InvoiceDate\" = '2022-03-11 00:00:00' ORDER BY 1",
        )
        .into_iter()
        .map(|row| row[0].unwrap())
        .collect();
        assert!(!expected.is_empty());
        assert_eq!(on_day, expected, "{}", common::backend::name(&db));
        let days = ids(Invoice::query()
            .filter(|i| {
                i.invoice_date
                    .is_in(["2022-03-11 00:00:00", "2021-01-02 00:00:00"])
            })
            .all(&db)
            .unwrap());
        let january = ids(Invoice::query()
            .filter(|i| i.invoice_date.lt("2021-02-01 00:00:00"))
            .order_by(|i| i.invoice_date.desc())
            .all(&db)
            .unwrap());
        assert!(days.len() > on_day.len());
        assert!(!january.is_empty());
        results.push((on_day, days, january));
    }
    if results.len() == 2 {
        assert_eq!(results[0], results[1], "SQLite and PostgreSQL agree");
    }
}

/// `has_many` through other relations on real data: each artist's tracks
/// through their albums (the albums' two keys, then the tracks), page 2 of each
/// artist's tracks by name (5 a page, one statement), each genre's albums
/// through its tracks (an album with tracks of several genres counted once
/// per genre) and each playlist's genres through its tracks, each equal to
/// hand-written SQL on both databases.
#[test]
fn artist_tracks_through_albums_and_paged() {
    let mut results = Vec::new();
    for db in chinooks() {
        let place = common::backend::name(&db);
        db.reset_query_log();
        let artists = Artist::query()
            .preload(Artist::tracks())
            .preload(
                Artist::tracks()
                    .order_by(|t| t.name.asc())
                    .limit_per_parent(5)
                    .offset_per_parent(5)
                    .count(),
            )
            .all(&db)
            .unwrap();
        assert_eq!(
            db.query_count(),
            4,
            "{place}: artists, the albums' keys, their tracks, a count"
        );
        let tracks = collect(
            artists
                .iter()
                .map(|a| (a, a.tracks().iter().map(|t| t.entity()).collect())),
            |a| a.artist_id,
        );
        let expected = pairs(
            &db,
            "SELECT a.\"ArtistId\", t.\"TrackId\" FROM \"Track\" t JOIN \"Album\" a ON a.\"AlbumId\" = t.\"AlbumId\" ORDER BY 1, 2",
        );
        assert_eq!(tracks, expected, "{place}");
        assert_eq!(
            tracks.values().map(Vec::len).sum::<usize>(),
            3503,
            "{place}"
        );
        for artist in artists.iter().step_by(40) {
            let lazy: Vec<i64> = artist
                .load_tracks(&db)
                .unwrap()
                .iter()
                .map(|t| t.track_id)
                .collect();
            let preloaded: Vec<i64> = artist.tracks().iter().map(|t| t.track_id).collect();
            assert_eq!(lazy, preloaded, "{place}: artist {}", artist.artist_id);
        }
        // A count ignores paging (it counts the filter's rows).
        for artist in &artists {
            assert_eq!(artist.tracks_count(), artist.tracks().len(), "{place}");
        }

        db.reset_query_log();
        let paged = Artist::query()
            .preload(
                Artist::tracks()
                    .order_by(|t| t.name.asc())
                    .limit_per_parent(5)
                    .offset_per_parent(5),
            )
            .all(&db)
            .unwrap();
        assert_eq!(db.query_count(), 2, "{place}");
        let got = collect(
            paged
                .iter()
                .map(|a| (a, a.tracks().iter().map(|t| t.entity()).collect())),
            |a| a.artist_id,
        );
        let expected_page = pairs(
            &db,
            "SELECT \"ArtistId\", \"TrackId\" FROM (SELECT a.\"ArtistId\", t.\"TrackId\", ROW_NUMBER() OVER (
               PARTITION BY a.\"ArtistId\" ORDER BY t.\"Name\", t.\"TrackId\") AS n
             FROM \"Track\" t JOIN \"Album\" a ON a.\"AlbumId\" = t.\"AlbumId\") AS ranked
             WHERE n > 5 AND n <= 10 ORDER BY 1, n",
        );
        assert!(expected_page.len() > 50, "{place}: {}", expected_page.len());
        assert_eq!(
            got, expected_page,
            "{place}: page 2 of each artist's tracks"
        );
        // The same page 2 by keyset for one artist: after the last track
        // of page 1.
        let first_page = Artist::query()
            .filter(|a| a.artist_id.eq(90))
            .preload(
                Artist::tracks()
                    .order_by(|t| t.name.asc())
                    .limit_per_parent(5),
            )
            .all(&db)
            .unwrap();
        let last = first_page[0].tracks().iter().next_back().unwrap().track_id;
        let second_page = Artist::query()
            .filter(|a| a.artist_id.eq(90))
            .preload(
                Artist::tracks()
                    .order_by(|t| t.name.asc())
                    .after(&last)
                    .limit_per_parent(5),
            )
            .all(&db)
            .unwrap();
        let keyset: Vec<i64> = second_page[0].tracks().iter().map(|t| t.track_id).collect();
        assert_eq!(
            keyset, expected_page[&90],
            "{place}: keyset page 2 of artist 90"
        );

        let genres = Genre::query().preload(Genre::albums()).all(&db).unwrap();
        let albums = collect(
            genres
                .iter()
                .map(|g| (g, g.albums().iter().map(|a| a.entity()).collect())),
            |g| g.genre_id,
        );
        let expected_albums = pairs(
            &db,
            "SELECT DISTINCT t.\"GenreId\", t.\"AlbumId\" FROM \"Track\" t
             WHERE t.\"GenreId\" IS NOT NULL AND t.\"AlbumId\" IS NOT NULL ORDER BY 1, 2",
        );
        assert_eq!(
            albums, expected_albums,
            "{place}: each album once per genre"
        );
        let playlists = Playlist::query()
            .preload(Playlist::genres().order_by(|g| g.name.asc()))
            .all(&db)
            .unwrap();
        let playlist_genres: BTreeMap<i64, Vec<i64>> = playlists
            .iter()
            .filter(|p| !p.genres().is_empty())
            .map(|p| {
                (
                    p.playlist_id,
                    p.genres().iter().map(|g| g.genre_id).collect(),
                )
            })
            .collect();
        let expected_genres = pairs(
            &db,
            "SELECT \"PlaylistId\", \"GenreId\" FROM (SELECT DISTINCT pt.\"PlaylistId\", g.\"GenreId\", g.\"Name\"
               FROM \"PlaylistTrack\" pt JOIN \"Track\" t ON t.\"TrackId\" = pt.\"TrackId\"
               JOIN \"Genre\" g ON g.\"GenreId\" = t.\"GenreId\") AS d
             ORDER BY \"PlaylistId\", \"Name\", \"GenreId\"",
        );
        assert_eq!(
            playlist_genres, expected_genres,
            "{place}: each genre once, by name"
        );
        // The databases order names by their own collations: compare sets.
        let playlist_genres: BTreeMap<i64, std::collections::BTreeSet<i64>> = playlist_genres
            .into_iter()
            .map(|(playlist, genres)| (playlist, genres.into_iter().collect()))
            .collect();
        results.push((tracks, got, albums, playlist_genres));
    }
    if results.len() == 2 {
        assert_eq!(results[0], results[1], "SQLite and PostgreSQL agree");
    }
}
