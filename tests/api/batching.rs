//! Nested lists go through dataloaders: the statements a request costs do
//! not grow with the number of users in it. (One user with badges and
//! goals is one statement, `tests/api/hot_reads.rs`; from two users on, the
//! count is fixed.)

use serde_json::{Value, json};

use crate::helpers::TestApp;

/// Statements `users(authUserIds: ids) { selection }` costs; `check` looks
/// at each user of the answer.
async fn statements_for(
    app: &TestApp,
    ids: &[String],
    selection: &str,
    check: impl Fn(&Value),
) -> u64 {
    let before = app.statements();
    let query = format!("query($ids: [ID!]!) {{ users(authUserIds: $ids) {{ {selection} }} }}");
    let response = app.graphql(&query, json!({ "ids": ids }), None).await;
    let users = response.ok()["users"].as_array().expect("users").clone();
    assert_eq!(users.len(), ids.len());
    users.iter().for_each(&check);
    app.statements() - before
}

#[tokio::test]
async fn users_cost_the_same_statements_for_2_and_100_users() {
    let app = TestApp::spawn().await;
    let ids: Vec<String> = (0..100).map(|n| format!("user-{n}")).collect();
    for id in &ids {
        app.create_goal(id, "Learn SQL").await;
        app.create_badge(id, "Starter").await;
    }

    let lists = |user: &Value| {
        assert_eq!(user["badges"].as_array().unwrap().len(), 1, "{user}");
        assert_eq!(user["goals"].as_array().unwrap().len(), 1, "{user}");
    };
    let stats_and_activity = |user: &Value| {
        assert_eq!(user["stats"]["badgeCount"], 1, "{user}");
        assert_eq!(user["stats"]["goalCount"], 1, "{user}");
        assert_eq!(user["activity"].as_array().unwrap().len(), 2, "{user}");
    };
    for (selection, check) in [
        (
            "authUserId badges { id } goals { id }",
            &lists as &dyn Fn(&Value),
        ),
        (
            "stats { badgeCount goalCount } activity { id kind }",
            &stats_and_activity,
        ),
    ] {
        let one = statements_for(&app, &ids[..1], selection, check).await;
        let two = statements_for(&app, &ids[..2], selection, check).await;
        let hundred = statements_for(&app, &ids, selection, check).await;
        assert!(one > 0, "the counter counts statements");
        assert!(one <= two, "{selection}: 1 user {one}, 2 users {two}");
        assert_eq!(
            two, hundred,
            "{selection}: 2 users {two} statements, 100 users {hundred}"
        );
    }
}
