//! `diesel-peer <shape> <database file>`: loads one shape the idiomatic
//! Diesel way once to warm up, then once timed; prints
//! `<nanoseconds> <checksum> <peak memory in kB>`, or `error <message>`.

// Every column is read so that Diesel decodes as much as the loader does;
// not every field is looked at afterwards.
#![allow(dead_code)]

use std::time::Instant;

use diesel::prelude::*;

diesel::table! { users (id) { id -> BigInt, username -> Text, } }
diesel::table! { posts (id) { id -> BigInt, author_id -> BigInt, title -> Text, } }
diesel::table! { comments (id) { id -> BigInt, post_id -> BigInt, body -> Text, } }
diesel::table! { tags (id) { id -> BigInt, name -> Text, } }
diesel::table! { post_tags (post_id, tag_id) { post_id -> BigInt, tag_id -> BigInt, } }
diesel::joinable!(posts -> users (author_id));
diesel::joinable!(comments -> posts (post_id));
diesel::joinable!(post_tags -> posts (post_id));
diesel::joinable!(post_tags -> tags (tag_id));
diesel::allow_tables_to_appear_in_same_query!(users, posts, comments, tags, post_tags);

#[derive(Queryable, Identifiable, Selectable, Debug, Clone)]
#[diesel(table_name = users)]
struct User {
    id: i64,
    username: String,
}

#[derive(Queryable, Identifiable, Selectable, Associations, Debug, Clone)]
#[diesel(belongs_to(User, foreign_key = author_id), table_name = posts)]
struct Post {
    id: i64,
    author_id: i64,
    title: String,
}

#[derive(Queryable, Identifiable, Selectable, Associations, Debug, Clone)]
#[diesel(belongs_to(Post), table_name = comments)]
struct Comment {
    id: i64,
    post_id: i64,
    body: String,
}

#[derive(Queryable, Identifiable, Selectable, Debug, Clone)]
#[diesel(table_name = tags)]
struct Tag {
    id: i64,
    name: String,
}

#[derive(Queryable, Identifiable, Selectable, Associations, Debug, Clone)]
#[diesel(belongs_to(Post), belongs_to(Tag), table_name = post_tags, primary_key(post_id, tag_id))]
struct PostTag {
    post_id: i64,
    tag_id: i64,
}

fn mix(sum: u64, value: i64) -> u64 {
    sum.wrapping_mul(1_000_003).wrapping_add(value as u64)
}

fn has_many(conn: &mut SqliteConnection) -> QueryResult<u64> {
    let all_users = users::table.order(users::id).select(User::as_select()).load(conn)?;
    let all_posts = Post::belonging_to(&all_users)
        .order(posts::id)
        .select(Post::as_select())
        .load(conn)?;
    let grouped = all_posts.grouped_by(&all_users);
    let mut sum = 0;
    for (user, posts) in all_users.iter().zip(&grouped) {
        sum = mix(sum, user.id);
        for post in posts {
            sum = mix(sum, post.id);
        }
    }
    Ok(sum)
}

fn belongs_to(conn: &mut SqliteConnection) -> QueryResult<u64> {
    let all_posts = posts::table.order(posts::id).select(Post::as_select()).load(conn)?;
    let mut ids: Vec<i64> = all_posts.iter().map(|p| p.author_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let authors = users::table
        .filter(users::id.eq_any(&ids))
        .select(User::as_select())
        .load(conn)?;
    let by_id: std::collections::HashMap<i64, &User> = authors.iter().map(|u| (u.id, u)).collect();
    let mut sum = 0;
    for post in &all_posts {
        sum = mix(sum, post.id);
        sum = mix(sum, by_id[&post.author_id].id);
    }
    Ok(sum)
}

fn nested(conn: &mut SqliteConnection) -> QueryResult<u64> {
    let all_users = users::table.order(users::id).select(User::as_select()).load(conn)?;
    let all_posts = Post::belonging_to(&all_users)
        .order(posts::id)
        .select(Post::as_select())
        .load(conn)?;
    let all_comments = Comment::belonging_to(&all_posts)
        .order(comments::id)
        .select(Comment::as_select())
        .load(conn)?;
    let comments_by_post = all_comments.grouped_by(&all_posts);
    let posts_with_comments: Vec<(Post, Vec<Comment>)> = all_posts.into_iter().zip(comments_by_post).collect();
    let by_user = posts_with_comments.grouped_by(&all_users);
    let mut sum = 0;
    for (user, posts) in all_users.iter().zip(&by_user) {
        sum = mix(sum, user.id);
        for (post, comments) in posts {
            sum = mix(sum, post.id);
            for comment in comments {
                sum = mix(sum, comment.id);
            }
        }
    }
    Ok(sum)
}

fn many_to_many(conn: &mut SqliteConnection) -> QueryResult<u64> {
    let all_posts = posts::table.order(posts::id).select(Post::as_select()).load(conn)?;
    let links: Vec<(PostTag, Tag)> = PostTag::belonging_to(&all_posts)
        .inner_join(tags::table)
        .order((post_tags::post_id, tags::id))
        .select((PostTag::as_select(), Tag::as_select()))
        .load(conn)?;
    let grouped = links.grouped_by(&all_posts);
    let mut sum = 0;
    for (post, tags) in all_posts.iter().zip(&grouped) {
        sum = mix(sum, post.id);
        for (_, tag) in tags {
            sum = mix(sum, tag.id);
        }
    }
    Ok(sum)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(shape), Some(path)) = (args.next(), args.next()) else {
        eprintln!("usage: diesel-peer <has_many|belongs_to|nested|many_to_many> <database>");
        std::process::exit(2);
    };
    let run: fn(&mut SqliteConnection) -> QueryResult<u64> = match shape.as_str() {
        "has_many" => has_many,
        "belongs_to" => belongs_to,
        "nested" => nested,
        "many_to_many" => many_to_many,
        other => {
            eprintln!("unknown shape {other}");
            std::process::exit(2);
        }
    };
    let mut conn = SqliteConnection::establish(&path).unwrap_or_else(|e| {
        println!("error {e}");
        std::process::exit(0)
    });
    if let Err(error) = run(&mut conn) {
        println!("error {error}");
        return;
    }
    let start = Instant::now();
    match run(&mut conn) {
        Ok(sum) => println!("{} {sum} {}", start.elapsed().as_nanos(), peak_memory_kb()),
        Err(error) => println!("error {error}"),
    }
}

/// The process's peak resident memory (`VmHWM`), in kB.
fn peak_memory_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .and_then(|line| line.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
