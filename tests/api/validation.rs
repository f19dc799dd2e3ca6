//! Every validation rule answers BAD_USER_INPUT naming the field, and
//! writes nothing.

use serde_json::{Value, json};

use crate::helpers::TestApp;

async fn assert_refused(app: &TestApp, query: &str, variables: Value, field: &str) {
    let before = app.count("SELECT (SELECT count(*) FROM learning_goals) + (SELECT count(*) FROM badges) + (SELECT count(*) FROM activity_events) + (SELECT count(*) FROM auth_users) AS n").await;
    let response = app.graphql_as("val", query, variables.clone()).await;
    assert_eq!(
        response.error_code(),
        Some("BAD_USER_INPUT"),
        "{variables}: {:?}",
        response.body
    );
    assert_eq!(
        response.error_field(),
        Some(field),
        "{variables}: {:?}",
        response.body
    );
    let after = app.count("SELECT (SELECT count(*) FROM learning_goals) + (SELECT count(*) FROM badges) + (SELECT count(*) FROM activity_events) + (SELECT count(*) FROM auth_users) AS n").await;
    assert_eq!(before, after, "{variables} wrote something");
}

fn long(n: usize) -> String {
    "x".repeat(n)
}

#[tokio::test]
async fn profile_rules() {
    let app = TestApp::spawn().await;
    let query = "mutation($input: UpdateProfileInput!) { updateProfile(authUserId: \"val\", input: $input) { authUserId } }";
    let fifty_one: Vec<String> = (0..51).map(|n| format!("skill{n}")).collect();
    let cases = [
        (json!({ "displayName": long(101) }), "displayName"),
        (json!({ "bio": long(2001) }), "bio"),
        (json!({ "headline": long(201) }), "headline"),
        (json!({ "location": long(101) }), "location"),
        (json!({ "websiteUrl": "ftp://example.com" }), "websiteUrl"),
        (json!({ "websiteUrl": "/relative/path" }), "websiteUrl"),
        (
            json!({ "avatarUrl": format!("https://example.com/{}", long(2040)) }),
            "avatarUrl",
        ),
        (json!({ "skills": fifty_one }), "skills"),
        (json!({ "skills": ["ok", "   "] }), "skills"),
        (json!({ "skills": [long(51)] }), "skills"),
    ];
    for (input, field) in cases {
        assert_refused(&app, query, json!({ "input": input }), field).await;
    }
    // At the limits it is accepted (multi-byte characters count as one).
    let ok = json!({ "input": { "displayName": "é".repeat(100), "bio": long(2000), "skills": (0..50).map(|n| format!("s{n}")).collect::<Vec<_>>() } });
    app.graphql_as("val", query, ok).await.ok();
}

#[tokio::test]
async fn badge_rules() {
    let app = TestApp::spawn().await;
    let query = "mutation($input: CreateBadgeInput!) { createBadge(authUserId: \"val\", input: $input) { id } }";
    let cases = [
        (json!({ "name": "  " }), "name"),
        (json!({ "name": long(101) }), "name"),
        (
            json!({ "name": "ok", "description": long(501) }),
            "description",
        ),
        (
            json!({ "name": "ok", "iconUrl": "javascript:alert(1)" }),
            "iconUrl",
        ),
        (
            json!({ "name": "ok", "dateAchieved": "2030-01-01T00:00:00Z" }),
            "dateAchieved",
        ),
    ];
    for (input, field) in cases {
        assert_refused(&app, query, json!({ "input": input }), field).await;
    }
}

#[tokio::test]
async fn goal_rules() {
    let app = TestApp::spawn().await;
    let create = "mutation($input: CreateGoalInput!) { createGoal(authUserId: \"val\", input: $input) { id } }";
    for (input, field) in [
        (json!({ "title": "" }), "title"),
        (json!({ "title": long(201) }), "title"),
        (
            json!({ "title": "ok", "description": long(2001) }),
            "description",
        ),
    ] {
        assert_refused(&app, create, json!({ "input": input }), field).await;
    }
    let goal = app.create_goal("val", "Valid").await;
    let update = "mutation($goal: ID!, $input: UpdateGoalInput!) { updateGoal(authUserId: \"val\", goalId: $goal, input: $input) { id } }";
    for (input, field) in [
        (json!({ "title": " " }), "title"),
        (json!({ "title": null }), "title"),
        (json!({ "status": null }), "status"),
        (json!({ "streakCount": -1 }), "streakCount"),
        (json!({ "description": long(2001) }), "description"),
    ] {
        assert_refused(&app, update, json!({ "goal": goal, "input": input }), field).await;
    }
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM learning_goals WHERE title = 'Valid' AND streak_count = 0"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn malformed_documents_and_arguments_carry_codes() {
    let app = TestApp::spawn().await;
    let response = app.graphql("{ user(authUserId: ", json!({}), None).await;
    assert_eq!(response.error_code(), Some("GRAPHQL_PARSE_FAILED"));
    let response = app.graphql("{ nope }", json!({}), None).await;
    assert_eq!(response.error_code(), Some("GRAPHQL_VALIDATION_FAILED"));
    let response = app
        .graphql(
            "query($s: GoalStatus) { user(authUserId: \"x\") { goals(status: $s) { id } } }",
            json!({ "s": "BOGUS" }),
            None,
        )
        .await;
    assert!(
        matches!(
            response.error_code(),
            Some("BAD_USER_INPUT" | "GRAPHQL_VALIDATION_FAILED")
        ),
        "{:?}",
        response.body
    );
}
