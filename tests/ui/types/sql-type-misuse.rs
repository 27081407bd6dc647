use loader_runtime::SqlType;

#[derive(SqlType)]
struct Point(i64, i64);

#[derive(SqlType)]
enum Shape {
    Circle(f64),
    Square,
}

#[derive(SqlType)]
#[sql_type(rename_all = "snake-case")]
enum Status {
    Active,
}

#[derive(SqlType)]
#[sql_type(integr)]
enum Level {
    Low,
}

#[derive(SqlType)]
#[sql_type(rename_all = "lowercase")]
enum Twice {
    Draft,
    #[sql_type(rename = "draft")]
    Other,
}

fn main() {}
