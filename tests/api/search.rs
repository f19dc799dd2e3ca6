//! searchUsers: who may search, what matches, privacy and cursors.

use serde_json::{Value, json};

use crate::helpers::TestApp;

const SEARCH: &str = "query($q: String!, $first: Int, $after: String) { searchUsers(query: $q, first: $first, after: $after) { edges { cursor node { authUserId username displayName } } pageInfo { hasNextPage endCursor } } }";

async fn make_user(
    app: &TestApp,
    id: &str,
    username: Option<&str>,
    display_name: &str,
    skills: &[&str],
) {
    app.graphql_as(
        id,
        "mutation($id: ID!, $input: UpdateProfileInput!) { updateProfile(authUserId: $id, input: $input) { authUserId } }",
        json!({ "id": id, "input": { "displayName": display_name, "skills": skills } }),
    )
    .await
    .ok();
    if let Some(username) = username {
        let mut conn = app.conn().await;
        use diesel_async::RunQueryDsl;
        diesel::sql_query(format!(
            "UPDATE auth_users SET username = '{username}' WHERE auth_user_id = '{id}'"
        ))
        .execute(&mut conn)
        .await
        .unwrap();
    }
}

async fn premium(app: &TestApp, id: &str) -> String {
    app.graphql(
        "mutation($id: ID!) { changePlan(authUserId: $id, plan: PREMIUM) { plan } }",
        json!({ "id": id }),
        Some(&app.admin_token()),
    )
    .await
    .ok();
    app.token(id)
}

fn ids(response: &Value) -> Vec<String> {
    response["searchUsers"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| edge["node"]["authUserId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn only_premium_users_and_admins_may_search() {
    let app = TestApp::spawn().await;
    make_user(&app, "free", None, "Free", &[]).await;
    let response = app.graphql(SEARCH, json!({ "q": "a" }), None).await;
    assert_eq!(response.error_code(), Some("UNAUTHENTICATED"));
    let response = app.graphql_as("free", SEARCH, json!({ "q": "a" })).await;
    assert_eq!(response.error_code(), Some("FORBIDDEN"));
    let token = premium(&app, "free").await;
    app.graphql(SEARCH, json!({ "q": "free" }), Some(&token))
        .await
        .ok();
    app.graphql(SEARCH, json!({ "q": "free" }), Some(&app.admin_token()))
        .await
        .ok();
}

#[tokio::test]
async fn matches_username_display_name_and_skills_case_insensitively_but_never_private_profiles() {
    let app = TestApp::spawn().await;
    let token = premium(&app, "searcher").await;
    make_user(&app, "u1", Some("AdaLovelace"), "Countess", &[]).await;
    make_user(&app, "u2", None, "Grace ADA Hopper", &[]).await;
    make_user(&app, "u3", None, "Someone", &["Ada programming"]).await;
    make_user(&app, "u4", None, "Unrelated", &["Rust"]).await;
    make_user(&app, "u5", None, "Private Ada", &[]).await;
    app.graphql_as("u5", "mutation { updatePreferences(authUserId: \"u5\", input: { profileVisibility: PRIVATE }) { timezone } }", json!({}))
        .await
        .ok();

    let response = app
        .graphql(SEARCH, json!({ "q": "  aDa " }), Some(&token))
        .await;
    assert_eq!(ids(response.ok()), ["u1", "u2", "u3"]);
    assert_eq!(
        response.ok()["searchUsers"]["edges"][0]["node"]["username"],
        "AdaLovelace"
    );

    // A username changed later (an auth-service event) is searchable.
    let mut conn = app.conn().await;
    use diesel_async::RunQueryDsl;
    diesel::sql_query("UPDATE auth_users SET username = 'rustacean' WHERE auth_user_id = 'u1'")
        .execute(&mut conn)
        .await
        .unwrap();
    let response = app
        .graphql(SEARCH, json!({ "q": "RUSTACEAN" }), Some(&token))
        .await;
    assert_eq!(ids(response.ok()), ["u1"]);
    let response = app
        .graphql(SEARCH, json!({ "q": "lovelace" }), Some(&token))
        .await;
    assert_eq!(ids(response.ok()), Vec::<String>::new());
}

#[tokio::test]
async fn wildcards_match_literally() {
    let app = TestApp::spawn().await;
    let token = premium(&app, "searcher").await;
    make_user(&app, "p1", None, "100% sure", &[]).await;
    make_user(&app, "p2", None, "1000 sure", &[]).await;
    make_user(&app, "p3", None, "snake_case", &[]).await;
    make_user(&app, "p4", None, "snakeXcase", &[]).await;
    make_user(&app, "p5", None, "back\\slash", &[]).await;
    for (query, expected) in [
        ("0%", vec!["p1"]),
        ("e_c", vec!["p3"]),
        ("k\\s", vec!["p5"]),
        ("%", vec!["p1"]),
        ("_", vec!["p3"]),
    ] {
        let response = app
            .graphql(SEARCH, json!({ "q": query }), Some(&token))
            .await;
        assert_eq!(ids(response.ok()), expected, "query {query:?}");
    }
}

#[tokio::test]
async fn pages_follow_cursors_and_refuse_forged_ones() {
    let app = TestApp::spawn().await;
    let token = premium(&app, "searcher").await;
    for n in 1..=5 {
        make_user(&app, &format!("m{n}"), None, &format!("Match {n}"), &[]).await;
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let response = app
            .graphql(
                SEARCH,
                json!({ "q": "match", "first": 2, "after": after }),
                Some(&token),
            )
            .await;
        let data = response.ok().clone();
        seen.extend(ids(&data));
        let page = &data["searchUsers"]["pageInfo"];
        if !page["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = Some(page["endCursor"].as_str().unwrap().to_owned());
    }
    assert_eq!(seen, ["m1", "m2", "m3", "m4", "m5"]);

    let response = app
        .graphql(SEARCH, json!({ "q": "match", "first": 2 }), Some(&token))
        .await;
    let cursor = response.ok()["searchUsers"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let (position, tag) = cursor.split_once('.').unwrap();
    let mut forged_position = position.to_owned();
    forged_position.replace_range(0..1, if position.starts_with('A') { "B" } else { "A" });
    for bad in [
        format!("{forged_position}.{tag}"),
        "garbage".to_owned(),
        format!("{position}.AAAA"),
    ] {
        let response = app
            .graphql(SEARCH, json!({ "q": "match", "after": bad }), Some(&token))
            .await;
        assert_eq!(response.error_code(), Some("BAD_USER_INPUT"), "{bad}");
        assert_eq!(response.error_field(), Some("after"));
    }
    // A cursor from another search is stale here.
    let response = app
        .graphql(SEARCH, json!({ "q": "mat", "after": cursor }), Some(&token))
        .await;
    assert_eq!(response.error_code(), Some("BAD_USER_INPUT"));

    for (variables, field) in [
        (json!({ "q": "match", "first": 51 }), "first"),
        (json!({ "q": "match", "first": -1 }), "first"),
        (json!({ "q": "   " }), "query"),
    ] {
        let response = app.graphql(SEARCH, variables.clone(), Some(&token)).await;
        assert_eq!(response.error_code(), Some("BAD_USER_INPUT"), "{variables}");
        assert_eq!(response.error_field(), Some(field));
    }
    let response = app
        .graphql(SEARCH, json!({ "q": "match", "first": 50 }), Some(&token))
        .await;
    assert_eq!(ids(response.ok()).len(), 5);
}
