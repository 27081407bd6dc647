use loader_runtime::Entity;

#[derive(Entity)]
struct Post {
    id: i64,
    title: String,
    published: bool,
}

fn main() {
    let _ = Post::query().filter(|p| p.title.eq(42));
    let _ = Post::query().filter(|p| p.published.eq("yes"));
    let _ = Post::query().filter(|p| p.id.like("1%"));
}
