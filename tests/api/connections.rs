//! Relay connections of a user's goals, badges and activity: keyset pages
//! that neither skip nor repeat when rows are inserted between two pages,
//! tamper-evident cursors bound to their listing, caps as errors, privacy,
//! and a statement count flat in the number of users.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::helpers::TestApp;

const GOALS_PAGE: &str = "query($id: ID!, $first: Int, $after: String, $status: GoalStatus) {
    user(authUserId: $id) {
        goalsConnection(first: $first, after: $after, status: $status) {
            totalCount edges { cursor node { id title } } pageInfo { hasNextPage endCursor }
        }
    }
}";

async fn goals_page(app: &TestApp, viewer: &str, variables: Value) -> Value {
    app.graphql_as(viewer, GOALS_PAGE, variables).await.ok()["user"]["goalsConnection"].clone()
}

fn titles(page: &Value) -> Vec<String> {
    page["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| edge["node"]["title"].as_str().expect("title").to_owned())
        .collect()
}

#[tokio::test]
async fn pages_neither_skip_nor_repeat_when_goals_are_inserted_between_them() {
    let app = TestApp::spawn().await;
    for n in 0..7 {
        app.create_goal("ada", &format!("goal {n}")).await;
        app.clock.advance(chrono::Duration::seconds(1));
    }

    let first = goals_page(&app, "ada", json!({ "id": "ada", "first": 3 })).await;
    assert_eq!(titles(&first), ["goal 6", "goal 5", "goal 4"]);
    assert_eq!(first["totalCount"], 7);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);

    // Two new goals arrive between the pages (newest first: before the
    // cursor, so they must not push "goal 4" onto the next page again).
    app.create_goal("ada", "new 1").await;
    app.clock.advance(chrono::Duration::seconds(1));
    app.create_goal("ada", "new 2").await;

    let mut seen: Vec<String> = titles(&first);
    let mut after = first["pageInfo"]["endCursor"].clone();
    loop {
        let page = goals_page(
            &app,
            "ada",
            json!({ "id": "ada", "first": 3, "after": after }),
        )
        .await;
        assert_eq!(page["totalCount"], 9, "the count follows the listing");
        seen.extend(titles(&page));
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    let expected: Vec<String> = (0..7).rev().map(|n| format!("goal {n}")).collect();
    assert_eq!(seen, expected, "no duplicates, no gaps");

    let fresh = goals_page(&app, "ada", json!({ "id": "ada", "first": 2 })).await;
    assert_eq!(titles(&fresh), ["new 2", "new 1"]);
}

#[tokio::test]
async fn filters_page_badges_and_activity_too() {
    let app = TestApp::spawn().await;
    let goal = app.create_goal("ada", "Rust").await;
    app.create_goal("ada", "SQL").await;
    for n in 0..3 {
        app.create_badge("ada", &format!("badge {n}")).await;
    }
    app.graphql_as(
        "ada",
        "mutation($g: ID!) { updateGoal(authUserId: \"ada\", goalId: $g, input: { status: COMPLETED }) { id } }",
        json!({ "g": goal }),
    )
    .await
    .ok();

    let response = app
        .graphql_as(
            "ada",
            "{ me {
                done: goalsConnection(status: COMPLETED) { totalCount edges { node { title status } } }
                badgesConnection(first: 2) { totalCount edges { node { name } } pageInfo { hasNextPage } }
                created: activityConnection(kinds: [GOAL_CREATED, GOAL_COMPLETED]) { totalCount edges { node { kind } } }
                all: activityConnection(first: 100) { totalCount }
            } }",
            json!({}),
        )
        .await;
    let me = &response.ok()["me"];
    assert_eq!(me["done"]["totalCount"], 1);
    assert_eq!(me["done"]["edges"][0]["node"]["title"], "Rust");
    assert_eq!(me["badgesConnection"]["totalCount"], 3);
    assert_eq!(me["badgesConnection"]["edges"].as_array().unwrap().len(), 2);
    assert_eq!(me["badgesConnection"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(me["created"]["totalCount"], 3);
    let kinds: HashSet<&str> = me["created"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| edge["node"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, HashSet::from(["GOAL_CREATED", "GOAL_COMPLETED"]));
    assert_eq!(me["all"]["totalCount"], 6);
}

#[tokio::test]
async fn forged_foreign_and_garbage_cursors_and_oversized_pages_are_bad_user_input() {
    let app = TestApp::spawn().await;
    for n in 0..3 {
        app.create_goal("ada", &format!("goal {n}")).await;
        app.create_goal("bob", &format!("goal {n}")).await;
    }
    let page = goals_page(&app, "ada", json!({ "id": "ada", "first": 1 })).await;
    let cursor = page["pageInfo"]["endCursor"].as_str().unwrap().to_owned();
    let (position, tag) = cursor.split_once('.').unwrap();
    let mut forged_tag = tag.to_owned().into_bytes();
    forged_tag[0] = if forged_tag[0] == b'A' { b'B' } else { b'A' };
    let forged = format!("{position}.{}", String::from_utf8(forged_tag).unwrap());

    let bad_requests = [
        json!({ "id": "ada", "after": forged }),
        json!({ "id": "ada", "after": "garbage" }),
        json!({ "id": "ada", "after": "" }),
        // Another user's listing, or another filter of the same one.
        json!({ "id": "bob", "after": cursor }),
        json!({ "id": "ada", "after": cursor, "status": "COMPLETED" }),
        json!({ "id": "ada", "first": 101 }),
        json!({ "id": "ada", "first": -1 }),
    ];
    for variables in bad_requests {
        let response = app
            .graphql_as("admin-x", GOALS_PAGE, variables.clone())
            .await;
        assert_eq!(
            response.error_code(),
            Some("BAD_USER_INPUT"),
            "{variables}: {}",
            response.body
        );
    }
    // The genuine cursor works, and a page of 100 is allowed.
    let next = goals_page(
        &app,
        "ada",
        json!({ "id": "ada", "first": 100, "after": cursor }),
    )
    .await;
    assert_eq!(titles(&next), ["goal 1", "goal 0"]);
}

#[tokio::test]
async fn private_profiles_page_nothing_for_others() {
    let app = TestApp::spawn().await;
    app.create_goal("priv", "Hidden").await;
    app.create_badge("priv", "Hidden").await;
    app.graphql_as(
        "priv",
        "mutation { updatePreferences(authUserId: \"priv\", input: { profileVisibility: PRIVATE }) { profileVisibility } }",
        json!({}),
    )
    .await
    .ok();
    let query = "{ user(authUserId: \"priv\") {
        goalsConnection { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } }
        badgesConnection { totalCount edges { node { id } } }
        activityConnection { totalCount edges { node { id } } }
    } }";
    let stranger = app.graphql_as("stranger", query, json!({})).await;
    let user = &stranger.ok()["user"];
    for list in ["goalsConnection", "badgesConnection", "activityConnection"] {
        assert_eq!(user[list]["totalCount"], 0, "{list} leaks: {user}");
        assert_eq!(user[list]["edges"], json!([]), "{list} leaks: {user}");
    }
    assert_eq!(user["goalsConnection"]["pageInfo"]["hasNextPage"], false);

    let owner = app.graphql_as("priv", query, json!({})).await;
    let user = &owner.ok()["user"];
    assert_eq!(user["goalsConnection"]["totalCount"], 1);
    assert_eq!(user["badgesConnection"]["totalCount"], 1);
    assert_eq!(user["activityConnection"]["totalCount"], 3);
}

/// Statements `users(authUserIds: ids)` with three connections costs.
async fn statements_for(app: &TestApp, ids: &[String]) -> u64 {
    let before = app.statements();
    let response = app
        .graphql(
            "query($ids: [ID!]!) { users(authUserIds: $ids) {
                goalsConnection(first: 1) { totalCount edges { node { id } } pageInfo { hasNextPage } }
                badgesConnection(first: 1) { totalCount edges { node { id } } }
                activityConnection(first: 1, kinds: [GOAL_CREATED]) { totalCount edges { node { kind } } }
            } }",
            json!({ "ids": ids }),
            None,
        )
        .await;
    let users = response.ok()["users"].as_array().expect("users").clone();
    assert_eq!(users.len(), ids.len());
    for user in &users {
        assert_eq!(user["goalsConnection"]["totalCount"], 2, "{user}");
        assert_eq!(user["goalsConnection"]["pageInfo"]["hasNextPage"], true);
        assert_eq!(user["badgesConnection"]["totalCount"], 1, "{user}");
        assert_eq!(user["activityConnection"]["totalCount"], 2, "{user}");
        assert_eq!(
            user["activityConnection"]["edges"][0]["node"]["kind"],
            "GOAL_CREATED"
        );
    }
    app.statements() - before
}

#[tokio::test]
async fn connections_cost_the_same_statements_for_1_and_40_users() {
    let app = TestApp::spawn().await;
    let ids: Vec<String> = (0..40).map(|n| format!("user-{n}")).collect();
    for id in &ids {
        app.create_goal(id, "Learn SQL").await;
        app.create_goal(id, "Learn Rust").await;
        app.create_badge(id, "Starter").await;
    }
    let one = statements_for(&app, &ids[..1]).await;
    let many = statements_for(&app, &ids).await;
    assert!(one > 0, "the counter counts statements");
    assert_eq!(one, many, "1 user {one} statements, 40 users {many}");
}
