//! The GraphQL schema of `examples/graphql` over the blog entities: users →
//! posts → comments, each relation resolved through a `RelationLoader`, so
//! a nested query runs one statement per level whatever the number of
//! users. Kept apart so that `tests/graphql.rs` runs the same schema.

use async_graphql::{Context, EmptyMutation, EmptySubscription, Object, Schema};
use loader_runtime::{AsyncDb, Entity, RelationLoader};

#[derive(Entity, Debug, Clone)]
#[entity(table = "users")]
#[has_many(Post, fk = "author_id")]
pub struct User {
    pub id: i64,
    pub username: String,
}

#[derive(Entity, Debug, Clone)]
#[entity(table = "posts")]
#[has_many(Comment, fk = "post_id")]
pub struct Post {
    pub id: i64,
    pub author_id: i64,
    pub title: String,
}

#[derive(Entity, Debug, Clone)]
#[entity(table = "comments")]
pub struct Comment {
    pub id: i64,
    pub post_id: i64,
    pub body: String,
}

/// What each request's resolvers share: its connection handle (with a log
/// of its own) and one loader per relation, or none to resolve lazily (the
/// N+1 way, for comparison).
pub struct Loaders {
    pub db: AsyncDb,
    batched: Option<(RelationLoader<UserPosts>, RelationLoader<PostComments>)>,
}

impl Loaders {
    /// Loaders for one request on `db`; `batched: false` resolves each
    /// field with its own statement.
    pub fn new(db: &AsyncDb, batched: bool) -> Self {
        Loaders::waiting(db, batched, loader_runtime::DEFAULT_BATCH_DELAY)
    }

    /// Like [`Loaders::new`], each batch waiting at most `delay` for its
    /// calls.
    pub fn waiting(db: &AsyncDb, batched: bool, delay: std::time::Duration) -> Self {
        let db = db.with_new_log();
        let batched = batched.then(|| {
            (
                RelationLoader::new(&db, User::posts()).with_delay(delay),
                RelationLoader::new(&db, Post::comments()).with_delay(delay),
            )
        });
        Loaders { db, batched }
    }
}

pub type BlogSchema = Schema<QueryRoot, EmptyMutation, EmptySubscription>;

pub fn schema() -> BlogSchema {
    Schema::new(QueryRoot, EmptyMutation, EmptySubscription)
}

fn failed(error: loader_runtime::Error) -> async_graphql::Error {
    async_graphql::Error::new(error.to_string())
}

pub struct QueryRoot;

#[Object]
impl QueryRoot {
    /// The first `limit` users by id.
    async fn users(&self, ctx: &Context<'_>, limit: u64) -> async_graphql::Result<Vec<UserNode>> {
        let loaders = ctx.data::<Loaders>()?;
        let users = User::query()
            .order_by(|u| u.id.asc())
            .limit(limit.min(10_000))
            .all(&loaders.db)
            .await
            .map_err(failed)?;
        Ok(users
            .into_iter()
            .map(|u| UserNode(u.into_entity()))
            .collect())
    }
}

pub struct UserNode(User);

#[Object(name = "User")]
impl UserNode {
    async fn id(&self) -> i64 {
        self.0.id
    }

    async fn username(&self) -> &str {
        &self.0.username
    }

    async fn posts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<PostNode>> {
        let loaders = ctx.data::<Loaders>()?;
        let posts = match &loaders.batched {
            Some((posts, _)) => posts.load(self.0.id).await,
            None => self.0.load_posts(&loaders.db).await,
        }
        .map_err(failed)?;
        Ok(posts.into_iter().map(PostNode).collect())
    }
}

pub struct PostNode(Post);

#[Object(name = "Post")]
impl PostNode {
    async fn id(&self) -> i64 {
        self.0.id
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn comments(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<CommentNode>> {
        let loaders = ctx.data::<Loaders>()?;
        let comments = match &loaders.batched {
            Some((_, comments)) => comments.load(self.0.id).await,
            None => self.0.load_comments(&loaders.db).await,
        }
        .map_err(failed)?;
        Ok(comments.into_iter().map(CommentNode).collect())
    }
}

pub struct CommentNode(Comment);

#[Object(name = "Comment")]
impl CommentNode {
    async fn id(&self) -> i64 {
        self.0.id
    }

    async fn body(&self) -> &str {
        &self.0.body
    }
}

/// Creates the tables and fills them: `users` users with 3 posts each and
/// 2 comments per post.
pub async fn seed(db: &AsyncDb, users: i64) -> Result<(), loader_runtime::Error> {
    db.execute_batch(
        "CREATE TABLE users (id BIGINT PRIMARY KEY, username TEXT NOT NULL);
         CREATE TABLE posts (id BIGINT PRIMARY KEY, author_id BIGINT NOT NULL, title TEXT NOT NULL);
         CREATE INDEX posts_author_id ON posts(author_id);
         CREATE TABLE comments (id BIGINT PRIMARY KEY, post_id BIGINT NOT NULL, body TEXT NOT NULL);
         CREATE INDEX comments_post_id ON comments(post_id);",
    )
    .await?;
    // Generated rows of our own (numbers only), so written into the SQL.
    let users_sql: Vec<String> = (1..=users).map(|u| format!("({u}, 'user {u}')")).collect();
    let posts_sql: Vec<String> = (1..=users * 3)
        .map(|p| format!("({p}, {}, 'post {p}')", (p - 1) / 3 + 1))
        .collect();
    let comments_sql: Vec<String> = (1..=users * 6)
        .map(|c| format!("({c}, {}, 'comment {c}')", (c - 1) / 2 + 1))
        .collect();
    db.execute_batch(&format!(
        "INSERT INTO users VALUES {}; INSERT INTO posts VALUES {}; INSERT INTO comments VALUES {};",
        users_sql.join(", "),
        posts_sql.join(", "),
        comments_sql.join(", ")
    ))
    .await
}

/// The nested query of the example: `limit` users, their posts, and those
/// posts' comments.
pub fn nested_query(limit: u64) -> String {
    format!(
        "{{ users(limit: {limit}) {{ id username posts {{ id title comments {{ id body }} }} }} }}"
    )
}
