//! has_one, many_to_many, nullable and self-referential keys, composite
//! keys, on small hand-made data where every edge case is visible.

#![allow(clippy::duplicated_attributes)]

mod common;

use loader_runtime::{Db, Entity};

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "people")]
#[has_one(Profile, fk = "person_id")]
#[many_to_many(
    Person,
    through = "follows",
    fk = "follower_id",
    target_fk = "followee_id",
    name = "following"
)]
#[many_to_many(
    Person,
    through = "follows",
    fk = "followee_id",
    target_fk = "follower_id",
    name = "followers"
)]
#[many_to_many(Tag, through = "person_tags", fk = "person_id", target_fk = "tag")]
// `Self` names the entity itself, as `Person` does above.
#[has_many(Self, fk = "mentor_id", name = "mentees")]
#[belongs_to(Self, fk = "mentor_id", name = "mentor")]
struct Person {
    id: i64,
    name: String,
    mentor_id: Option<i64>,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "profiles")]
#[belongs_to(Person, fk = "person_id")]
struct Profile {
    id: i64,
    person_id: i64,
    bio: String,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "tags")]
#[many_to_many(
    Person,
    through = "person_tags",
    fk = "tag",
    target_fk = "person_id",
    name = "people"
)]
struct Tag {
    #[entity(primary_key)]
    label: String,
}

fn dbs() -> Vec<Db> {
    let dbs = common::backend::databases();
    for db in &dbs {
        db.execute_batch(
            "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, mentor_id INTEGER);
             CREATE TABLE profiles (id INTEGER PRIMARY KEY, person_id INTEGER NOT NULL, bio TEXT NOT NULL);
             CREATE TABLE follows (follower_id INTEGER NOT NULL, followee_id INTEGER NOT NULL);
             CREATE TABLE tags (label TEXT PRIMARY KEY);
             CREATE TABLE person_tags (person_id INTEGER NOT NULL, tag TEXT NOT NULL);
             INSERT INTO people VALUES (1, 'ada', NULL), (2, 'grace', 1), (3, 'alan', 1), (4, 'edsger', 3);
             -- ada has two profiles: has_one reads the first by id; alan has none.
             INSERT INTO profiles VALUES (10, 2, 'grace'), (12, 1, 'second'), (11, 1, 'first'), (13, 4, 'edsger');
             INSERT INTO follows VALUES (1, 2), (1, 3), (2, 1), (3, 1), (4, 1), (4, 2),
                                        -- a duplicate link shows twice, lazily and preloaded
                                        (4, 1);
             INSERT INTO tags VALUES ('math'), ('o''reilly'), ('unused');
             INSERT INTO person_tags VALUES (1, 'math'), (3, 'math'), (4, 'math'), (2, 'o''reilly');",
        )
        .unwrap();
    }
    dbs
}

impl AsRef<Person> for Person {
    fn as_ref(&self) -> &Person {
        self
    }
}

/// Names of people, loaded (`Loaded<Person, _>`) or not.
fn names<'a, P: AsRef<Person> + 'a>(people: impl IntoIterator<Item = &'a P>) -> Vec<&'a str> {
    people
        .into_iter()
        .map(|p| p.as_ref().name.as_str())
        .collect()
}

#[test]
fn has_one_is_the_first_child_by_key_or_none() {
    for db in dbs() {
        let people = Person::query().preload(Person::profile()).all(&db).unwrap();
        assert_eq!(db.query_count(), 2);
        let bios: Vec<Option<&str>> = people
            .iter()
            .map(|p| p.profile().map(|profile| profile.bio.as_str()))
            .collect();
        assert_eq!(bios, [Some("first"), Some("grace"), None, Some("edsger")]);
        for person in &people {
            let lazy = person.load_profile(&db).unwrap();
            assert_eq!(person.profile().map(|p| p.entity().clone()), lazy);
        }
    }
}

#[test]
fn has_one_through_bound_keys() {
    for db in dbs() {
        let profiles = Profile::query()
            .preload(Profile::person().preload(Person::profile()))
            .all(&db)
            .unwrap();
        assert_eq!(db.query_count(), 3);
        // ada's second profile points back at ada, whose has_one is the first.
        let second = profiles.iter().find(|p| p.bio == "second").unwrap();
        assert_eq!(second.person().profile().unwrap().bio, "first");
    }
}

#[test]
fn many_to_many_self_referential_both_directions() {
    for db in dbs() {
        let people = Person::query()
            .preload(Person::following())
            .preload(Person::followers())
            .all(&db)
            .unwrap();
        // Every person: each relation reads the join table, then its targets.
        assert_eq!(db.query_count(), 5);
        let following: Vec<Vec<&str>> = people.iter().map(|p| names(p.following())).collect();
        assert_eq!(
            following,
            [
                vec!["grace", "alan"],
                vec!["ada"],
                vec!["ada"],
                vec!["ada", "ada", "grace"]
            ]
        );
        let followers: Vec<Vec<&str>> = people.iter().map(|p| names(p.followers())).collect();
        assert_eq!(
            followers,
            [
                vec!["grace", "alan", "edsger", "edsger"],
                vec!["ada", "edsger"],
                vec!["ada"],
                vec![]
            ]
        );
        for person in &people {
            let lazy = person.load_following(&db).unwrap();
            let preloaded: Vec<Person> = person
                .following()
                .iter()
                .map(|p| p.entity().clone())
                .collect();
            assert_eq!(preloaded, lazy);
            let lazy = person.load_followers(&db).unwrap();
            let preloaded: Vec<Person> = person
                .followers()
                .iter()
                .map(|p| p.entity().clone())
                .collect();
            assert_eq!(preloaded, lazy);
        }
    }
}

#[test]
fn a_target_shared_by_many_owners_is_loaded_once() {
    for db in dbs() {
        let people = Person::query()
            .preload(Person::tags().preload(Tag::people()))
            .all(&db)
            .unwrap();
        assert_eq!(db.query_count(), 4);
        let log = db.query_log();
        assert_eq!(log[1].rows, 4, "one row per link");
        assert_eq!(log[2].rows, 2, "each linked tag is read once");
        assert_eq!(
            log[3].bound_values, 2,
            "the nested query asks for 2 distinct tags"
        );
        let math_of_ada = &people[0].tags()[0];
        let math_of_alan = &people[2].tags()[0];
        assert!(std::ptr::eq(math_of_ada, math_of_alan), "one shared value");
        assert_eq!(names(math_of_ada.people()), ["ada", "alan", "edsger"]);
        assert_eq!(people[1].tags().first().unwrap().label, "o'reilly");
    }
}

#[test]
fn many_to_many_with_text_keys_and_unlinked_targets() {
    for db in dbs() {
        let tags = Tag::query().preload(Tag::people()).all(&db).unwrap();
        let got: Vec<(&str, Vec<&str>)> = tags
            .iter()
            .map(|t| (t.label.as_str(), names(t.people())))
            .collect();
        assert_eq!(
            got,
            [
                ("math", vec!["ada", "alan", "edsger"]),
                ("o'reilly", vec!["grace"]),
                ("unused", vec![]),
            ]
        );
        let tag = Tag::find(&db, &"o'reilly".to_owned()).unwrap().unwrap();
        assert_eq!(names(&tag.load_people(&db).unwrap()), ["grace"]);
    }
}

#[test]
fn nullable_self_reference_both_ways_several_levels() {
    for db in dbs() {
        let roots = Person::query()
            .preload(Person::mentor())
            .preload(Person::mentees().preload(Person::mentees().preload(Person::mentor())))
            .all(&db)
            .unwrap();
        assert_eq!(db.query_count(), 5);
        let ada = &roots[0];
        assert!(ada.mentor().is_none());
        assert_eq!(
            names(ada.mentees().iter().map(|m| m.entity())),
            ["grace", "alan"]
        );
        let grandchildren: Vec<&str> = ada
            .mentees()
            .iter()
            .flat_map(|m| m.mentees())
            .map(|g| g.name.as_str())
            .collect();
        assert_eq!(grandchildren, ["edsger"]);
        let edsger = &ada.mentees()[1].mentees()[0];
        assert_eq!(edsger.mentor().unwrap().name, "alan");
        assert_eq!(roots[3].mentor().map(|m| m.name.as_str()), Some("alan"));
        assert_eq!(roots[3].load_mentor(&db).unwrap().unwrap().name, "alan");
    }
}

#[test]
fn relation_kinds_with_no_owners_run_no_query() {
    for db in dbs() {
        db.execute_batch("DELETE FROM people").unwrap();
        let people = Person::query()
            .preload(Person::profile())
            .preload(Person::tags())
            .preload(Person::following())
            .all(&db)
            .unwrap();
        assert!(people.is_empty());
        // Where a wave is one round trip, the tables read whole (profiles,
        // the join tables with their targets) went out with the roots.
        let expected = if common::backend::pipelines(&db) {
            6
        } else {
            1
        };
        assert_eq!(db.query_count(), expected, "{}", common::backend::name(&db));
    }
}
