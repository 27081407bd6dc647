//! The service of `examples/api`: routes, handlers and seed data. Kept in a
//! file of its own so that `tests/api.rs` serves the same router.

use axum::Json;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use loader_runtime::{AsyncDb, Entity};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Entity, Serialize, Debug)]
#[entity(table = "users")]
#[has_many(Post, fk = "author_id")]
pub struct User {
    pub id: i64,
    pub username: String,
}

#[derive(Entity, Serialize, Debug)]
#[entity(table = "posts")]
#[has_many(Comment, fk = "post_id")]
pub struct Post {
    pub id: i64,
    #[serde(skip)]
    pub author_id: i64,
    pub title: String,
    pub published: bool,
    pub created_at: String,
}

#[derive(Entity, Serialize, Debug)]
#[entity(table = "comments")]
pub struct Comment {
    pub id: i64,
    #[serde(skip)]
    pub post_id: i64,
    pub body: String,
}

/// The largest page a client may ask for; larger limits are capped.
pub const MAX_PAGE: u64 = 100;

/// The service: every handler gets the pool from the router's state.
pub fn router(db: AsyncDb) -> Router {
    Router::new()
        .route("/users", get(list_users))
        .route("/users/{id}", get(show_user))
        .route("/users_n_plus_one", get(list_users_n_plus_one))
        .with_state(db)
}

/// An error as the client sees it: a status and `{"error": "..."}`.
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }
}

impl From<loader_runtime::Error> for ApiError {
    /// A database failure: logged with its SQL, shown without it.
    fn from(error: loader_runtime::Error) -> Self {
        eprintln!("database error: {error}");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the database failed; try again",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

/// `?limit=..&offset=..`, both optional.
#[derive(Deserialize)]
pub struct Page {
    limit: Option<u64>,
    offset: Option<u64>,
}

impl Page {
    fn limit(&self) -> u64 {
        self.limit.unwrap_or(20).min(MAX_PAGE)
    }

    fn offset(&self) -> u64 {
        self.offset.unwrap_or(0)
    }
}

fn page(query: Result<Query<Page>, QueryRejection>) -> Result<Page, ApiError> {
    query.map(|Query(page)| page).map_err(|rejection| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "limit and offset must be whole numbers: {}",
                rejection.body_text()
            ),
        )
    })
}

/// A JSON body with the number of statements the request ran, in the
/// `x-statements` header, and how long it waited for a pooled connection,
/// in `x-pool-wait-us`, so that a client (or a test) can see the cost.
fn counted<T: Serialize>(db: &AsyncDb, body: &T) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert("x-statements", HeaderValue::from(db.query_count()));
    let waited = db.pool_wait().total.as_micros() as u64;
    headers.insert("x-pool-wait-us", HeaderValue::from(waited));
    (headers, Json(body)).into_response()
}

/// The users of a page, by name.
fn users_page(page: &Page) -> loader_runtime::Query<User> {
    User::query()
        .order_by(|u| u.username.asc())
        .limit(page.limit())
        .offset(page.offset())
}

/// `GET /users?limit=20&offset=0`: a page of users by name, each with their
/// 3 latest published posts and each post's comment count. 3 statements,
/// whatever the page size.
async fn list_users(
    State(db): State<AsyncDb>,
    query: Result<Query<Page>, QueryRejection>,
) -> Result<Response, ApiError> {
    let page = page(query)?;
    let db = db.with_new_log();
    let users = users_page(&page)
        .preload(
            User::posts()
                .filter(|p| p.published.eq(true))
                .order_by(|p| p.created_at.desc())
                .limit_per_parent(3)
                .preload(Post::comments().count()),
        )
        .all(&db)
        .await?;
    Ok(counted(&db, &users))
}

/// `GET /users/{id}`: one user with every post and its comments.
async fn show_user(
    State(db): State<AsyncDb>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, format!("`{id}` is not a user id")))?;
    let db = db.with_new_log();
    let user = User::query()
        .preload(User::posts().preload(Post::comments()))
        .find(&db, &id)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no user {id}")))?;
    Ok(counted(&db, &user))
}

/// `GET /users_n_plus_one`: the page of `/users` loaded lazily, for
/// comparison only: one statement per user and one per post.
async fn list_users_n_plus_one(
    State(db): State<AsyncDb>,
    query: Result<Query<Page>, QueryRejection>,
) -> Result<Response, ApiError> {
    let page = page(query)?;
    let db = db.with_new_log();
    let users = users_page(&page).all(&db).await?;
    let mut body = Vec::with_capacity(users.len());
    for user in &users {
        let mut posts: Vec<Post> = user.load_posts(&db).await?;
        posts.retain(|post| post.published);
        posts.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        posts.truncate(3);
        let mut shown = Vec::with_capacity(posts.len());
        for post in &posts {
            let comments = post.load_comments(&db).await?.len();
            let mut value = serde_json::to_value(post).unwrap_or(Value::Null);
            value["comments_count"] = json!(comments);
            shown.push(value);
        }
        let mut value = serde_json::to_value(user.entity()).unwrap_or(Value::Null);
        value["posts"] = Value::Array(shown);
        body.push(value);
    }
    Ok(counted(&db, &body))
}

/// Creates the tables and fills them: `users` users, each with 5 posts
/// (every third unpublished) and 0 to 3 comments per post.
pub async fn seed(db: &AsyncDb, users: i64) -> Result<(), loader_runtime::Error> {
    db.execute_batch(
        "CREATE TABLE users (id BIGINT PRIMARY KEY, username TEXT NOT NULL);
         CREATE TABLE posts (id BIGINT PRIMARY KEY, author_id BIGINT NOT NULL, title TEXT NOT NULL,
                             published BOOLEAN NOT NULL, created_at TEXT NOT NULL);
         CREATE INDEX posts_author_id ON posts(author_id);
         CREATE TABLE comments (id BIGINT PRIMARY KEY, post_id BIGINT NOT NULL, body TEXT NOT NULL);
         CREATE INDEX comments_post_id ON comments(post_id);",
    )
    .await?;
    // Generated rows of our own (numbers only), so written into the SQL.
    let mut sql = String::from("INSERT INTO users VALUES ");
    let mut posts = String::from("INSERT INTO posts VALUES ");
    let mut comments = String::from("INSERT INTO comments VALUES ");
    let mut comment = 0;
    for user in 1..=users {
        sql.push_str(&format!(
            "{}({user}, 'user {:04}')",
            if user > 1 { ", " } else { "" },
            (user * 37) % 1000
        ));
        for n in 0..5 {
            let post = user * 10 + n;
            let published = if post % 3 == 0 { "FALSE" } else { "TRUE" };
            let day = 1 + (post * 7) % 28;
            posts.push_str(&format!(
                "{}({post}, {user}, 'post {post}', {published}, '2026-{:02}-{day:02}')",
                if user > 1 || n > 0 { ", " } else { "" },
                1 + n
            ));
            for _ in 0..(post % 4) {
                comment += 1;
                comments.push_str(&format!(
                    "{}({comment}, {post}, 'comment {comment}')",
                    if comment > 1 { ", " } else { "" }
                ));
            }
        }
    }
    db.execute_batch(&format!("{sql}; {posts}; {comments};"))
        .await
}
