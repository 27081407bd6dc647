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

        let posts: Vec<PostsWithAuthor> = Post::query().preload(Post::author()).all(&db).unwrap();
        assert_eq!(authors(&posts)[..3], ["user 1", "user 2", "user 3"]);
        assert_eq!(takes_any(&Comment::query().all(&db).unwrap()), 6);
    }
}
