//! Preloaded values in function signatures: each relation has a public
//! marker type (`UserPosts` for `posts` of `User`), so a function can take
//! "users with their posts preloaded" whatever else was preloaded.

mod common;

use common::{Comment, Post, PostAuthor, PostComments, User, UserPosts, blogs};
use loader_runtime::{Has, Loaded, PreloadList, With};

/// Works for any preload list that contains `User::posts()`, in any
/// position, with anything nested below it.
fn post_titles<P, I>(user: &Loaded<User, P>) -> Vec<String>
where
    P: Has<UserPosts, I>,
{
    user.posts().iter().map(|post| post.title.clone()).collect()
}

/// Nested: the posts must have their comments preloaded.
fn comment_count<P, I, J>(user: &Loaded<User, P>) -> usize
where
    P: Has<UserPosts, I, Nested: Has<PostComments, J>>,
{
    user.posts().iter().map(|post| post.comments().len()).sum()
}

/// Nested, returning borrows of the nested rows.
#[allow(clippy::needless_lifetimes)] // spelled out, as users write it
fn comment_bodies<'a, P, I, J>(user: &'a Loaded<User, P>) -> Vec<&'a str>
where
    P: Has<UserPosts, I, Nested: Has<PostComments, J>>,
{
    user.posts()
        .iter()
        .flat_map(|post| post.comments().iter().map(|c| c.body.as_str()))
        .collect()
}

/// Two levels down a many-to-many, returning borrows: the bounds written
/// as above are enough (no `P: 'a` needed), since every preload list is
/// `'static`.
mod tagged {
    use loader_runtime::{Entity, Has, Loaded};

    #[derive(Entity)]
    #[entity(table = "users")]
    #[has_many(Post, fk = "author_id")]
    pub struct User {
        pub id: i64,
    }

    #[derive(Entity)]
    #[entity(table = "posts")]
    #[many_to_many(Tag, through = "post_tags", fk = "post_id", target_fk = "tag_id")]
    pub struct Post {
        pub id: i64,
        pub author_id: i64,
    }

    #[derive(Entity)]
    #[entity(table = "tags")]
    pub struct Tag {
        pub id: i64,
        pub label: String,
    }

    #[allow(clippy::needless_lifetimes)] // spelled out, as users write it
    pub fn labels<'a, P, I, J>(user: &'a Loaded<User, P>) -> Vec<&'a str>
    where
        P: Has<UserPosts, I, Nested: Has<PostTags, J>>,
    {
        let mut labels = Vec::new();
        for post in user.posts() {
            labels.extend(post.tags().iter().map(|tag| tag.label.as_str()));
        }
        labels
    }
}

/// The exact type, spelled out: the preload list is built newest first.
type PostsWithAuthor = Loaded<Post, (With<PostAuthor>, ())>;

fn authors(posts: &[PostsWithAuthor]) -> Vec<&str> {
    posts
        .iter()
        .map(|post| post.author().username.as_str())
        .collect()
}

fn takes_any<P: PreloadList<Comment>>(comments: &[Loaded<Comment, P>]) -> usize {
    comments.len()
}

#[test]
fn generic_functions_over_preloaded_values() {
    for db in blogs(3, 2, 1) {
        let plain = User::query().preload(User::posts()).all(&db).unwrap();
        let nested = User::query()
            .preload(User::posts().preload(Post::comments()))
            .all(&db)
            .unwrap();
        assert_eq!(post_titles(&plain[0]), ["post 1", "post 4"]);
        assert_eq!(post_titles(&nested[0]), post_titles(&plain[0]));
        assert_eq!(comment_count(&nested[1]), 2);
        assert_eq!(comment_bodies(&nested[1]).len(), 2);

        let tagged_db = loader_runtime::Db::open_in_memory().unwrap();
        tagged_db
            .execute_batch(
                "CREATE TABLE users (id INTEGER PRIMARY KEY);
             CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL);
             CREATE TABLE tags (id INTEGER PRIMARY KEY, label TEXT NOT NULL);
             CREATE TABLE post_tags (post_id INTEGER NOT NULL, tag_id INTEGER NOT NULL);
             INSERT INTO users VALUES (1); INSERT INTO posts VALUES (1, 1), (2, 1);
             INSERT INTO tags VALUES (1, 'rust'), (2, 'sql');
             INSERT INTO post_tags VALUES (1, 1), (2, 1), (2, 2);",
            )
            .unwrap();
        let users = tagged::User::query()
            .preload(tagged::User::posts().preload(tagged::Post::tags()))
            .all(&tagged_db)
            .unwrap();
        assert_eq!(tagged::labels(&users[0]), ["rust", "rust", "sql"]);

        let posts: Vec<PostsWithAuthor> = Post::query().preload(Post::author()).all(&db).unwrap();
        assert_eq!(authors(&posts)[..3], ["user 1", "user 2", "user 3"]);
        assert_eq!(takes_any(&Comment::query().all(&db).unwrap()), 6);
    }
}
