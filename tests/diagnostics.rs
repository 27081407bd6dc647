//! Seeing the queries: tracing output, query-count assertions, forbidden
//! blocks, N+1 warnings and strict mode, unused-preload reports.

mod common;

use std::cell::RefCell;
use std::io::Write;
use std::panic::Location;
use std::sync::Once;

use common::{Post, User, blog};
use loader_runtime::{Error, NPlusOne};

/// Everything the `fmt` subscriber writes on this thread while `block`
/// runs, at `DEBUG`. One global subscriber (tests run in parallel, and
/// `tracing` caches per call site whether anyone listens) writes each
/// thread's output to that thread's buffer.
fn captured<R>(block: impl FnOnce() -> R) -> (R, String) {
    thread_local! {
        static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    struct ThreadBuffer;
    impl Write for ThreadBuffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            BUFFER.with(|buffer| buffer.borrow_mut().extend_from_slice(bytes));
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(|| ThreadBuffer)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
    });
    BUFFER.with(|buffer| buffer.borrow_mut().clear());
    let result = block();
    let text = BUFFER.with(|buffer| String::from_utf8(buffer.take()).unwrap());
    (result, text)
}

/// Loads a user's posts lazily and says from where (the N+1 report must
/// name this line).
#[track_caller]
fn load_posts_here(user: &User, db: &loader_runtime::Db) -> &'static Location<'static> {
    user.load_posts(db).unwrap();
    Location::caller()
}

#[test]
fn every_statement_is_a_tracing_event_inside_its_preload_span() {
    let db = blog(3, 2, 1);
    let (users, log) = captured(|| {
        User::query()
            .preload(User::posts().preload(Post::comments()))
            .all(&db)
            .unwrap()
    });
    assert_eq!(users.len(), 3);
    let events: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("loader::query"))
        .collect();
    assert_eq!(events.len(), 3, "{log}");
    assert!(
        events[0].contains("rows=3") && events[0].contains("bound_values=0"),
        "{log}"
    );
    assert!(events.iter().all(|e| e.contains("elapsed_us=")), "{log}");
    assert!(events[0].contains(r#"sql=SELECT "users"."id""#), "{log}");
    assert!(
        events[1].contains(r#"preload{entity="User" relation="posts" owners=3}"#),
        "{log}"
    );
    assert!(
        events[2].contains(r#"preload{entity="Post" relation="comments" owners=6}"#),
        "nested preload spans nest: {log}"
    );
    assert!(events[2].contains("rows=6"), "{log}");
}

#[test]
fn assert_queries_passes_through_and_fails_with_the_statements() {
    let db = blog(3, 1, 0);
    let users = db.assert_queries(2, || User::query().preload(User::posts()).all(&db).unwrap());
    assert_eq!(users.len(), 3);
    let failure = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        db.assert_queries(1, || {
            for user in User::all(&db).unwrap() {
                user.load_posts(&db).unwrap();
            }
        })
    }))
    .unwrap_err();
    let message = failure.downcast_ref::<String>().unwrap();
    assert!(
        message.starts_with("expected 1 queries, 4 ran:"),
        "{message}"
    );
    assert!(message.contains(r#"4. SELECT "posts"."id""#), "{message}");
}

#[test]
fn forbidden_blocks_fail_any_query() {
    let db = blog(2, 2, 0);
    let users = User::query().preload(User::posts()).all(&db).unwrap();
    let count = db.query_count();
    let titles = db.forbid_queries(|| {
        // Reading preloaded data is fine...
        let titles: Vec<String> = users
            .iter()
            .flat_map(|u| u.posts())
            .map(|p| p.title.clone())
            .collect();
        // ...a query is not.
        let error = users[0].load_posts(&db).unwrap_err();
        assert!(
            matches!(error, Error::QueryForbidden { entity: "Post", .. }),
            "{error}"
        );
        assert!(User::all(&db).is_err());
        titles
    });
    assert_eq!(titles.len(), 4);
    assert_eq!(db.query_count(), count, "nothing ran");
    assert!(User::all(&db).is_ok(), "allowed again after the block");
}

#[test]
fn n_plus_one_warns_once_with_the_caller_and_the_fix() {
    let db = blog(5, 1, 0);
    let users = User::all(&db).unwrap();
    let (site, log) = captured(|| {
        let mut site = None;
        for user in &users {
            site = Some(load_posts_here(user, &db)); // the N+1 loop
        }
        site.unwrap()
    });
    let warnings: Vec<&str> = log.lines().filter(|l| l.contains("WARN")).collect();
    assert_eq!(
        warnings.len(),
        1,
        "one warning per relation and scope: {log}"
    );
    let warning = warnings[0];
    assert!(warning.contains("loader::n_plus_one"), "{warning}");
    assert!(
        warning.contains("`posts` of `User` was loaded lazily 3 times"),
        "{warning}"
    );
    assert!(warning.contains(&format!("last at {site}")), "{warning}");
    assert!(
        warning.contains("add `.preload(User::posts())`"),
        "{warning}"
    );
}

#[test]
fn no_warning_for_few_lazy_loads_or_for_preloads() {
    let db = blog(5, 1, 0);
    let users = User::all(&db).unwrap();
    let (_, log) = captured(|| {
        users[0].load_posts(&db).unwrap();
        users[1].load_posts(&db).unwrap(); // at the threshold of 2: fine
        User::query().preload(User::posts()).all(&db).unwrap();
        Post::query().preload(Post::author()).all(&db).unwrap();
    });
    assert!(!log.contains("WARN"), "{log}");
    // A new scope starts the count again.
    db.reset_query_log();
    let (_, log) = captured(|| {
        users[2].load_posts(&db).unwrap();
        users[3].load_posts(&db).unwrap();
    });
    assert!(!log.contains("WARN"), "{log}");
}

#[test]
fn threshold_and_strict_mode() {
    let db = blog(6, 1, 0);
    let users = User::all(&db).unwrap();
    db.set_n_plus_one(NPlusOne::Warn { threshold: 4 });
    let (_, log) = captured(|| {
        for user in &users[..4] {
            user.load_posts(&db).unwrap();
        }
    });
    assert!(!log.contains("WARN"), "{log}");
    let (_, log) = captured(|| users[4].load_posts(&db).unwrap());
    assert!(log.contains("loaded lazily 5 times"), "{log}");

    db.set_n_plus_one(NPlusOne::Strict { threshold: 1 });
    let posts = Post::all(&db).unwrap();
    posts[0].load_author(&db).unwrap();
    match posts[1].load_author(&db) {
        Err(Error::NPlusOne {
            entity,
            relation,
            count,
            location,
            suggestion,
        }) => {
            assert_eq!((entity, relation, count), ("Post", "author", 2));
            assert!(location.contains("tests/diagnostics.rs"), "{location}");
            assert_eq!(
                suggestion,
                "add `.preload(Post::author())` to the query that loaded these `Post` rows"
            );
        }
        other => panic!("expected Error::NPlusOne, got {other:?}"),
    }
    db.set_n_plus_one(NPlusOne::Off);
    for post in &posts {
        post.load_author(&db).unwrap();
    }
}

#[test]
fn unused_preloads_are_reported_with_their_call_site() {
    let db = blog(3, 2, 1);
    db.set_unused_preload_detection(true);
    let (site, log) = captured(|| {
        let comments = Post::comments();
        let site = format!("tests/diagnostics.rs:{}", line!() - 1);
        let users = User::query()
            .preload(User::posts().preload(comments))
            .all(&db)
            .unwrap();
        let posts: usize = users.iter().map(|u| u.posts().len()).sum();
        assert_eq!(posts, 6);
        // The comments are never read.
        site
    });
    let warnings: Vec<&str> = log.lines().filter(|l| l.contains("WARN")).collect();
    assert_eq!(warnings.len(), 1, "{log}");
    assert!(warnings[0].contains("loader::unused_preload"), "{log}");
    assert!(
        warnings[0].contains("relation `comments` of `Post` was preloaded at"),
        "{log}"
    );
    assert!(
        warnings[0].contains(&format!("preloaded at {site}:")),
        "{log}"
    );

    let (_, log) = captured(|| {
        let posts = Post::query()
            .preload(Post::author())
            .preload(Post::comments())
            .all(&db)
            .unwrap();
        assert!(posts.iter().all(|p| !p.author().username.is_empty()));
        assert!(posts.iter().all(|p| p.comments().len() == 1));
    });
    assert!(!log.contains("WARN"), "everything was read: {log}");

    db.set_unused_preload_detection(false);
    let (_, log) = captured(|| {
        User::query().preload(User::posts()).all(&db).unwrap();
    });
    assert!(!log.contains("WARN"), "off: {log}");
}
