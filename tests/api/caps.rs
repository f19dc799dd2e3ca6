//! Per-user caps (issue 9, item 3) and the write quota that counts a
//! mutation's aliases (item 2): refused creations and over-quota mutations
//! write nothing.

use futures::future::join_all;
use http::StatusCode;
use serde_json::json;
use user_service::domain::{MAX_BADGES_PER_USER, MAX_GOALS_PER_USER};

use crate::helpers::TestApp;

const CREATE_GOAL: &str = "mutation($id: ID!, $title: String!) { createGoal(authUserId: $id, input: { title: $title }) { id } }";
const CREATE_BADGE: &str = "mutation($id: ID!, $name: String!) { createBadge(authUserId: $id, input: { name: $name }) { id } }";

async fn goals_of(app: &TestApp, sub: &str) -> i64 {
    app.count(&format!(
        "SELECT count(*) AS n FROM learning_goals WHERE auth_user_id = '{sub}'"
    ))
    .await
}

async fn badges_of(app: &TestApp, sub: &str) -> i64 {
    app.count(&format!(
        "SELECT count(*) AS n FROM badges WHERE auth_user_id = '{sub}'"
    ))
    .await
}

async fn events_of(app: &TestApp, sub: &str) -> i64 {
    app.count(&format!(
        "SELECT count(*) AS n FROM activity_events WHERE auth_user_id = '{sub}'"
    ))
    .await
}

#[tokio::test]
async fn the_goal_past_the_cap_is_refused_and_writes_nothing() {
    let app = TestApp::spawn().await;
    for n in 0..MAX_GOALS_PER_USER {
        app.create_goal("collector", &format!("goal {n}")).await;
    }
    let cap = i64::try_from(MAX_GOALS_PER_USER).unwrap();
    assert_eq!(goals_of(&app, "collector").await, cap);
    let events = events_of(&app, "collector").await;

    let refused = app
        .graphql_as(
            "collector",
            CREATE_GOAL,
            json!({ "id": "collector", "title": "one too many" }),
        )
        .await;
    assert_eq!(
        refused.error_code(),
        Some("BAD_USER_INPUT"),
        "{}",
        refused.body
    );
    assert_eq!(refused.error_field(), Some("input"));
    let message = refused.body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains(&MAX_GOALS_PER_USER.to_string()),
        "{message}"
    );
    assert_eq!(goals_of(&app, "collector").await, cap, "no row");
    assert_eq!(events_of(&app, "collector").await, events, "no event");

    // The cap is per user: another one still creates.
    app.create_goal("newcomer", "first").await;
}

#[tokio::test]
async fn the_badge_past_the_cap_is_refused_and_writes_nothing() {
    let app = TestApp::spawn().await;
    for n in 0..MAX_BADGES_PER_USER {
        app.create_badge("decorated", &format!("badge {n}")).await;
    }
    let cap = i64::try_from(MAX_BADGES_PER_USER).unwrap();
    assert_eq!(badges_of(&app, "decorated").await, cap);
    let events = events_of(&app, "decorated").await;

    let refused = app
        .graphql_as(
            "decorated",
            CREATE_BADGE,
            json!({ "id": "decorated", "name": "one too many" }),
        )
        .await;
    assert_eq!(
        refused.error_code(),
        Some("BAD_USER_INPUT"),
        "{}",
        refused.body
    );
    assert_eq!(refused.error_field(), Some("input"));
    assert_eq!(badges_of(&app, "decorated").await, cap, "no row");
    assert_eq!(events_of(&app, "decorated").await, events, "no event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creations_near_the_cap_never_exceed_it() {
    let app = TestApp::spawn().await;
    let room = 4;
    for n in 0..MAX_GOALS_PER_USER - room {
        app.create_goal("racer", &format!("goal {n}")).await;
    }
    let attempts = 16;
    let responses = join_all((0..attempts).map(|n| {
        app.graphql_as(
            "racer",
            CREATE_GOAL,
            json!({ "id": "racer", "title": format!("race {n}") }),
        )
    }))
    .await;
    let created = responses
        .iter()
        .filter(|response| response.body.get("errors").is_none())
        .count();
    for response in &responses {
        if response.body.get("errors").is_some() {
            assert_eq!(
                response.error_code(),
                Some("BAD_USER_INPUT"),
                "{}",
                response.body
            );
        }
    }
    assert_eq!(created, room, "exactly the room left is used");
    let cap = i64::try_from(MAX_GOALS_PER_USER).unwrap();
    assert_eq!(goals_of(&app, "racer").await, cap);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM activity_events WHERE auth_user_id = 'racer' AND kind = 'GOAL_CREATED'")
            .await,
        cap,
        "one event per goal, none for the refused"
    );
}

/// A mutation creating `n` goals for `sub` through aliases.
fn aliased_goals(sub: &str, n: usize) -> String {
    let fields: String = (0..n)
        .map(|i| {
            format!(
                "g{i}: createGoal(authUserId: \"{sub}\", input: {{ title: \"t{i}\" }}) {{ id }} "
            )
        })
        .collect();
    format!("mutation {{ {fields}}}")
}

#[tokio::test]
async fn each_alias_of_a_mutation_counts_against_the_per_user_quota() {
    let app = TestApp::spawn_with(|config| config.http.rate_limit_per_user = 5).await;

    // Six writes in one request, with a quota of five: refused whole.
    let refused = app
        .graphql_as("greedy", &aliased_goals("greedy", 6), json!({}))
        .await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.body
    );
    assert!(refused.headers.contains_key("retry-after"));
    assert_eq!(refused.error_code(), Some("SERVICE_UNAVAILABLE"));
    assert_eq!(goals_of(&app, "greedy").await, 0, "nothing written");
    assert_eq!(events_of(&app, "greedy").await, 0);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM auth_users WHERE auth_user_id = 'greedy'")
            .await,
        0,
        "not even the user"
    );

    // Five fit, and use the whole quota: the next request is refused.
    let passed = app
        .graphql_as("frugal", &aliased_goals("frugal", 5), json!({}))
        .await;
    assert_eq!(passed.status, StatusCode::OK);
    passed.ok();
    assert_eq!(goals_of(&app, "frugal").await, 5);
    let next = app.graphql_as("frugal", "{ __typename }", json!({})).await;
    assert_eq!(next.status, StatusCode::TOO_MANY_REQUESTS, "{}", next.body);

    // A query still costs one per request, whatever its aliases.
    for n in 0..5 {
        let query = app
            .graphql_as(
                "reader",
                "{ a: __typename b: __typename c: __typename }",
                json!({}),
            )
            .await;
        assert_eq!(query.status, StatusCode::OK, "query {n}");
    }
}
