//! Nested lists go through dataloaders: the statements a request costs do
//! not grow with the number of users in it.

use serde_json::json;

use crate::helpers::TestApp;

async fn statements_for(app: &TestApp, ids: &[String]) -> u64 {
    let before = app.statements();
    let response = app
        .graphql(
            "query($ids: [ID!]!) { users(authUserIds: $ids) { authUserId badges { id } goals { id } } }",
            json!({ "ids": ids }),
            None,
        )
        .await;
    let users = response.ok()["users"].as_array().expect("users").clone();
    assert_eq!(users.len(), ids.len());
    for user in &users {
        assert_eq!(user["badges"].as_array().unwrap().len(), 1, "{user}");
        assert_eq!(user["goals"].as_array().unwrap().len(), 1, "{user}");
    }
    app.statements() - before
}

#[tokio::test]
async fn users_with_badges_and_goals_cost_the_same_for_1_and_100_users() {
    let app = TestApp::spawn().await;
    let ids: Vec<String> = (0..100).map(|n| format!("user-{n}")).collect();
    for id in &ids {
        app.create_goal(id, "Learn SQL").await;
        app.create_badge(id, "Starter").await;
    }

    let one = statements_for(&app, &ids[..1]).await;
    let hundred = statements_for(&app, &ids).await;

    assert!(one > 0, "the counter counts statements");
    assert_eq!(
        one, hundred,
        "1 user: {one} statements, 100 users: {hundred}"
    );
}

async fn stats_statements_for(app: &TestApp, ids: &[String]) -> u64 {
    let before = app.statements();
    let response = app
        .graphql(
            "query($ids: [ID!]!) { users(authUserIds: $ids) { stats { badgeCount goalCount } activity { id kind } } }",
            json!({ "ids": ids }),
            None,
        )
        .await;
    let users = response.ok()["users"].as_array().expect("users").clone();
    assert_eq!(users.len(), ids.len());
    for user in &users {
        assert_eq!(user["stats"]["badgeCount"], 1, "{user}");
        assert_eq!(user["stats"]["goalCount"], 1, "{user}");
        assert_eq!(user["activity"].as_array().unwrap().len(), 2, "{user}");
    }
    app.statements() - before
}

#[tokio::test]
async fn users_with_stats_and_activity_cost_the_same_for_1_and_100_users() {
    let app = TestApp::spawn().await;
    let ids: Vec<String> = (0..100).map(|n| format!("user-{n}")).collect();
    for id in &ids {
        app.create_goal(id, "Learn SQL").await;
        app.create_badge(id, "Starter").await;
    }

    let one = stats_statements_for(&app, &ids[..1]).await;
    let hundred = stats_statements_for(&app, &ids).await;

    assert!(one > 0, "the counter counts statements");
    assert_eq!(
        one, hundred,
        "1 user: {one} statements, 100 users: {hundred}"
    );
}
