//! Activity, stats, preferences and plans.

use serde_json::{Value, json};

use crate::helpers::TestApp;

const ACTIVITY: &str = "query($id: ID!, $first: Int) { user(authUserId: $id) { activity(first: $first) { kind goalId badgeId summary occurredAt } } }";

async fn kinds(app: &TestApp, user: &str) -> Vec<String> {
    let response = app
        .graphql_as(user, ACTIVITY, json!({ "id": user, "first": 100 }))
        .await;
    response.ok()["user"]["activity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_mutation_records_one_event_newest_first() {
    let app = TestApp::spawn().await;
    let user = "act";
    let admin = app.admin_token();
    let run = |query: &'static str, variables: Value| {
        let app = &app;
        async move { app.graphql_as(user, query, variables).await.ok().clone() }
    };
    run(
        "mutation { updateProfile(authUserId: \"act\", input: { bio: \"Hi\" }) { bio } }",
        json!({}),
    )
    .await;
    run("mutation { updatePreferences(authUserId: \"act\", input: { emailNotifications: false }) { emailNotifications } }", json!({})).await;
    app.graphql(
        "mutation { changePlan(authUserId: \"act\", plan: PREMIUM) { plan } }",
        json!({}),
        Some(&admin),
    )
    .await
    .ok();
    let badge = app.create_badge(user, "First").await;
    let goal = app.create_goal(user, "Goal").await;
    run("mutation($g: ID!) { updateGoal(authUserId: \"act\", goalId: $g, input: { title: \"Goal 2\" }) { id } }", json!({ "g": goal })).await;
    run(
        "mutation($g: ID!) { checkInGoal(authUserId: \"act\", goalId: $g) { id } }",
        json!({ "g": goal }),
    )
    .await;
    run("mutation($g: ID!) { updateGoal(authUserId: \"act\", goalId: $g, input: { status: COMPLETED }) { id } }", json!({ "g": goal })).await;
    run(
        "mutation($g: ID!) { deleteGoal(authUserId: \"act\", goalId: $g) }",
        json!({ "g": goal }),
    )
    .await;

    // Failed mutations record nothing.
    let failed = app
        .graphql_as(
            user,
            "mutation { createGoal(authUserId: \"act\", input: { title: \"\" }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(failed.error_code(), Some("BAD_USER_INPUT"));
    let failed = app
        .graphql_as(
            "intruder",
            "mutation { createBadge(authUserId: \"act\", input: { name: \"x\" }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(failed.error_code(), Some("FORBIDDEN"));
    // Changing the plan to the plan it has changes nothing.
    app.graphql(
        "mutation { changePlan(authUserId: \"act\", plan: PREMIUM) { plan } }",
        json!({}),
        Some(&admin),
    )
    .await
    .ok();

    assert_eq!(
        kinds(&app, user).await,
        [
            "GOAL_DELETED",
            "GOAL_COMPLETED",
            "GOAL_CHECKED_IN",
            "GOAL_UPDATED",
            "GOAL_CREATED",
            "BADGE_EARNED",
            "PLAN_CHANGED",
            "PREFERENCES_UPDATED",
            "PROFILE_UPDATED",
        ]
    );
    let response = app
        .graphql_as(user, ACTIVITY, json!({ "id": user, "first": 2 }))
        .await;
    let events = response.ok()["user"]["activity"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["goalId"], goal.as_str());
    let badge_event = app
        .count(&format!("SELECT count(*) AS n FROM activity_events WHERE kind = 'BADGE_EARNED' AND badge_id = '{badge}'"))
        .await;
    assert_eq!(badge_event, 1);
}

#[tokio::test]
async fn activity_first_defaults_to_20_and_is_capped_at_100() {
    let app = TestApp::spawn().await;
    for n in 0..25 {
        app.create_badge("many", &format!("Badge {n}")).await;
    }
    let response = app
        .graphql(
            "{ user(authUserId: \"many\") { activity { summary } } }",
            json!({}),
            None,
        )
        .await;
    let events = response.ok()["user"]["activity"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(events.len(), 20);
    assert_eq!(events[0]["summary"], "Earned the badge \"Badge 24\"");
    for first in [101, -1] {
        let response = app
            .graphql(ACTIVITY, json!({ "id": "many", "first": first }), None)
            .await;
        assert_eq!(
            response.error_code(),
            Some("BAD_USER_INPUT"),
            "first = {first}"
        );
        assert_eq!(response.error_field(), Some("first"));
    }
    let response = app
        .graphql(ACTIVITY, json!({ "id": "many", "first": 100 }), None)
        .await;
    assert_eq!(
        response.ok()["user"]["activity"].as_array().unwrap().len(),
        25
    );
}

#[tokio::test]
async fn stats_follow_badges_and_goals() {
    let app = TestApp::spawn().await;
    let stats = "{ user(authUserId: \"st\") { stats { badgeCount goalCount goalsCompleted goalsInProgress longestStreak lastActiveAt } } }";
    app.create_badge("st", "One").await;
    app.create_badge("st", "Two").await;
    let a = app.create_goal("st", "A").await;
    let b = app.create_goal("st", "B").await;
    app.create_goal("st", "C").await;
    let update = "mutation($g: ID!, $input: UpdateGoalInput!) { updateGoal(authUserId: \"st\", goalId: $g, input: $input) { id } }";
    app.graphql_as(
        "st",
        update,
        json!({ "g": a, "input": { "status": "COMPLETED", "streakCount": 7 } }),
    )
    .await
    .ok();
    app.graphql_as(
        "st",
        update,
        json!({ "g": b, "input": { "status": "NOT_STARTED", "streakCount": 3 } }),
    )
    .await
    .ok();
    app.clock.advance(chrono::Duration::hours(5));
    app.graphql_as(
        "st",
        "mutation { updateProfile(authUserId: \"st\", input: { bio: \"x\" }) { bio } }",
        json!({}),
    )
    .await
    .ok();

    let response = app.graphql(stats, json!({}), None).await;
    assert_eq!(
        response.ok()["user"]["stats"],
        json!({
            "badgeCount": 2, "goalCount": 3, "goalsCompleted": 1, "goalsInProgress": 1,
            "longestStreak": 7, "lastActiveAt": "2026-11-21T15:00:00Z"
        })
    );
    app.graphql_as(
        "st",
        "mutation($g: ID!) { deleteGoal(authUserId: \"st\", goalId: $g) }",
        json!({ "g": a }),
    )
    .await
    .ok();
    let response = app.graphql(stats, json!({}), None).await;
    let stats = &response.ok()["user"]["stats"];
    assert_eq!(stats["goalCount"], 2);
    assert_eq!(stats["goalsCompleted"], 0);
    assert_eq!(stats["longestStreak"], 3);
}

const PREFS: &str = "mutation($id: ID!, $input: UpdatePreferencesInput!) { updatePreferences(authUserId: $id, input: $input) { profileVisibility emailNotifications timezone weeklyGoalTarget } }";

#[tokio::test]
async fn preferences_are_updated_validated_and_guarded() {
    let app = TestApp::spawn().await;
    let response = app
        .graphql_as("pat", PREFS, json!({ "id": "pat", "input": { "timezone": "Europe/Paris", "weeklyGoalTarget": 5, "emailNotifications": false } }))
        .await;
    assert_eq!(
        response.ok()["updatePreferences"],
        json!({ "profileVisibility": "PUBLIC", "emailNotifications": false, "timezone": "Europe/Paris", "weeklyGoalTarget": 5 })
    );
    let response = app
        .graphql_as(
            "pat",
            PREFS,
            json!({ "id": "pat", "input": { "weeklyGoalTarget": null } }),
        )
        .await;
    assert_eq!(
        response.ok()["updatePreferences"]["weeklyGoalTarget"],
        Value::Null
    );
    assert_eq!(
        response.ok()["updatePreferences"]["timezone"],
        "Europe/Paris"
    );

    for (input, field) in [
        (json!({ "timezone": "Mars/Olympus_Mons" }), "timezone"),
        (json!({ "timezone": null }), "timezone"),
        (json!({ "weeklyGoalTarget": 0 }), "weeklyGoalTarget"),
        (json!({ "weeklyGoalTarget": 51 }), "weeklyGoalTarget"),
        (json!({ "profileVisibility": null }), "profileVisibility"),
    ] {
        let response = app
            .graphql_as("pat", PREFS, json!({ "id": "pat", "input": input }))
            .await;
        assert_eq!(response.error_code(), Some("BAD_USER_INPUT"), "{input}");
        assert_eq!(response.error_field(), Some(field), "{input}");
    }
    let response = app
        .graphql_as(
            "eve",
            PREFS,
            json!({ "id": "pat", "input": { "timezone": "UTC" } }),
        )
        .await;
    assert_eq!(response.error_code(), Some("FORBIDDEN"));
    assert_eq!(
        app.count("SELECT count(*) AS n FROM profiles WHERE auth_user_id = 'pat' AND timezone = 'Europe/Paris' AND weekly_goal_target IS NULL").await,
        1
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM activity_events WHERE kind = 'PREFERENCES_UPDATED'")
            .await,
        2
    );
}

#[tokio::test]
async fn premium_needs_an_admin_and_free_is_self_service() {
    let app = TestApp::spawn().await;
    let change = "mutation($plan: Plan!) { changePlan(authUserId: \"pam\", plan: $plan) { plan } }";
    let response = app
        .graphql_as("pam", change, json!({ "plan": "PREMIUM" }))
        .await;
    assert_eq!(response.error_code(), Some("FORBIDDEN"));
    assert_eq!(
        app.count("SELECT count(*) AS n FROM profiles WHERE plan = 'PREMIUM'")
            .await,
        0
    );
    let admin = app.admin_token();
    let response = app
        .graphql(change, json!({ "plan": "PREMIUM" }), Some(&admin))
        .await;
    assert_eq!(response.ok()["changePlan"]["plan"], "PREMIUM");
    let response = app
        .graphql_as("pam", change, json!({ "plan": "FREE" }))
        .await;
    assert_eq!(response.ok()["changePlan"]["plan"], "FREE");
    let response = app
        .graphql_as("other", change, json!({ "plan": "FREE" }))
        .await;
    assert_eq!(response.error_code(), Some("FORBIDDEN"));
    let response = app.graphql(change, json!({ "plan": "FREE" }), None).await;
    assert_eq!(response.error_code(), Some("UNAUTHENTICATED"));
    assert_eq!(
        app.count("SELECT count(*) AS n FROM activity_events WHERE kind = 'PLAN_CHANGED'")
            .await,
        2
    );
}
