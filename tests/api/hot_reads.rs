//! The hot reads (issue 10): `user` / `users` with badges and goals cost
//! one pool checkout and three statements, nothing read crosses requests,
//! and the `seed` bulk load writes the benchmark kit's content and leaves
//! statistics behind.

use serde_json::{Value, json};
use user_service::db::seed::{SeedError, SeedPlan, seed};

use crate::helpers::TestApp;

/// Pool checkouts so far.
fn checkouts(app: &TestApp) -> u64 {
    let stats = app.state.db.pool.state().statistics;
    stats.get_direct + stats.get_waited
}

const ONE: &str =
    "query($id: ID!) { user(authUserId: $id) { authUserId badges { name } goals { title } } }";

#[tokio::test]
async fn a_user_with_badges_and_goals_costs_one_checkout_and_three_statements() {
    let app = TestApp::spawn().await;
    app.create_badge("ada", "Starter").await;
    app.create_goal("ada", "Learn SQL").await;
    // Warm: the connection has prepared its statements.
    app.graphql(ONE, json!({ "id": "ada" }), None).await.ok();

    let (statements, taken) = (app.statements(), checkouts(&app));
    let response = app.graphql(ONE, json!({ "id": "ada" }), None).await;
    let user = &response.ok()["user"];
    assert_eq!(user["badges"], json!([{ "name": "Starter" }]));
    assert_eq!(user["goals"], json!([{ "title": "Learn SQL" }]));
    assert_eq!(app.statements() - statements, 3, "user, badges, goals");
    assert_eq!(checkouts(&app) - taken, 1, "one connection for the request");

    // Without lists, the users statement alone.
    let statements = app.statements();
    app.graphql(
        "query($id: ID!) { user(authUserId: $id) { displayName } }",
        json!({ "id": "ada" }),
        None,
    )
    .await
    .ok();
    assert_eq!(app.statements() - statements, 1);

    // `users` with both lists: the same, whatever the number of ids.
    let ids: Vec<String> = (0..40)
        .map(|n| format!("nobody-{n}"))
        .chain(["ada".to_owned()])
        .collect();
    let (statements, taken) = (app.statements(), checkouts(&app));
    let response = app
        .graphql(
            "query($ids: [ID!]!) { users(authUserIds: $ids) { badges { name } goals { title } } }",
            json!({ "ids": ids }),
            None,
        )
        .await;
    let users = response.ok()["users"].as_array().expect("users").clone();
    assert_eq!(users.len(), 41);
    assert!(users[..40].iter().all(Value::is_null));
    assert_eq!(users[40]["badges"][0]["name"], "Starter");
    assert_eq!(app.statements() - statements, 3);
    assert_eq!(checkouts(&app) - taken, 1);
}

#[tokio::test]
async fn lists_read_with_a_user_belong_to_that_request_only() {
    let app = TestApp::spawn().await;
    app.create_badge("ada", "First").await;
    let names = |response: &crate::helpers::TestResponse, alias: &str| -> Vec<String> {
        response.ok()[alias]["badges"]
            .as_array()
            .expect("badges")
            .iter()
            .map(|badge| badge["name"].as_str().expect("name").to_owned())
            .collect()
    };
    let both = "{ a: user(authUserId: \"ada\") { badges { name } } b: user(authUserId: \"ada\") { badges { name } } }";
    let statements = app.statements();
    let response = app.graphql(both, json!({}), None).await;
    // The same user twice in one document: both see the list, and it is
    // read once.
    assert_eq!(names(&response, "a"), ["First"]);
    assert_eq!(names(&response, "b"), ["First"]);
    assert_eq!(app.statements() - statements, 2, "users and badges");

    app.create_badge("ada", "Second").await;
    let response = app.graphql(both, json!({}), None).await;
    assert_eq!(
        names(&response, "a").len(),
        2,
        "the next request reads afresh"
    );
    assert_eq!(names(&response, "b").len(), 2);
}

#[tokio::test]
async fn seed_writes_the_kit_content_and_analyzes() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn().await;
    let plan = SeedPlan {
        users: 30,
        badges_per_user: 3,
        goals_per_user: 4,
        replace: false,
    };
    let report = seed(&mut conn, plan).await.expect("seed");
    assert_eq!(
        (report.users, report.badges, report.goals, report.replaced),
        (30, 90, 120, 0)
    );
    for table in ["auth_users", "profiles", "badges", "learning_goals"] {
        let analyzed = app
            .count(&format!(
                "SELECT count(*) AS n FROM pg_stat_user_tables WHERE relname = '{table}' AND last_analyze IS NOT NULL"
            ))
            .await;
        assert_eq!(analyzed, 1, "{table} analyzed");
    }

    // User 12, as the kit's seed.sql computes it.
    let response = app
        .graphql(
            "{ user(authUserId: \"u00012\") { username displayName bio skills headline location websiteUrl avatarUrl plan createdAt badges { name description iconUrl dateAchieved } goals { title description status streakCount } } }",
            json!({}),
            None,
        )
        .await;
    let user = &response.ok()["user"];
    assert_eq!(user["username"], "user00012");
    assert_eq!(user["displayName"], "Alan Hopper 12");
    assert_eq!(user["skills"], json!(["typescript", "react"]));
    assert_eq!(user["headline"], "Data scientist at Acme");
    assert_eq!(user["location"], "Berlin, DE");
    assert_eq!(user["websiteUrl"], "https://example.com/~user12");
    assert_eq!(user["plan"], "FREE");
    assert!(
        user["createdAt"]
            .as_str()
            .expect("createdAt")
            .starts_with("2024-01-01T07:24:00")
    );
    let badges: Vec<&str> = user["badges"]
        .as_array()
        .expect("badges")
        .iter()
        .map(|badge| badge["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        badges,
        ["Bookworm", "Week Warrior", "Streak Starter"],
        "newest first"
    );
    assert_eq!(
        user["badges"][0]["description"],
        "Awarded for milestone 3 of learner 12."
    );
    assert_eq!(
        user["badges"][0]["iconUrl"],
        "https://cdn.example.com/badges/4.svg"
    );
    assert!(
        user["badges"][0]["dateAchieved"]
            .as_str()
            .expect("dateAchieved")
            .starts_with("2024-01-10T08:24:00")
    );
    assert_eq!(user["goals"][0]["title"], "Ship a side project (4)");
    assert_eq!(user["goals"][0]["status"], "IN_PROGRESS");
    assert_eq!(user["goals"][0]["streakCount"], 18);
    assert_eq!(user["goals"][3]["title"], "Write a blog post a week (1)");
    let premium = app
        .graphql("{ user(authUserId: \"u00015\") { plan } }", json!({}), None)
        .await;
    assert_eq!(premium.ok()["user"]["plan"], "PREMIUM");

    // Again: refused, then replaced without duplicates.
    assert!(matches!(
        seed(&mut conn, plan).await,
        Err(SeedError::UsersExist(30))
    ));
    let report = seed(
        &mut conn,
        SeedPlan {
            replace: true,
            ..plan
        },
    )
    .await
    .expect("replace");
    assert_eq!(report.replaced, 30);
    assert_eq!(app.count("SELECT count(*) AS n FROM badges").await, 90);
}
