//! Limits: abusive documents are refused before execution with a clear code
//! (depth, aliases, complexity, a 10 MB body), the request timeout, rate
//! limits with 429 + `Retry-After`, CORS, production defaults; and the
//! defaults admit legitimate queries.

use std::time::{Duration, Instant};

use axum::body::Body;
use http::{Request, StatusCode};
use serde_json::json;

use crate::helpers::TestApp;

/// Loose: refusals happen before execution, far below this even in debug
/// builds on a busy machine.
const FAST: Duration = Duration::from_secs(5);

#[tokio::test]
async fn deep_nesting_is_refused_by_the_depth_limit() {
    let app = TestApp::spawn().await;
    // Introspection types nest without end.
    let query = format!(
        "{{ __type(name: \"User\") {}{{ name }}{}}}",
        "{ fields { type ".repeat(10),
        "} } ".repeat(10)
    );
    let start = Instant::now();
    let response = app.graphql(&query, json!({}), None).await;
    assert!(start.elapsed() < FAST);
    assert_eq!(
        response.error_code(),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{}",
        response.body
    );
    assert!(
        response.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .to_lowercase()
            .contains("nested too deep"),
        "{}",
        response.body
    );
}

#[tokio::test]
async fn absurd_nesting_is_refused_by_the_parser() {
    let app = TestApp::spawn().await;
    let query = format!("{}{}", "{ a ".repeat(5000), "}".repeat(5000));
    let response = app.graphql(&query, json!({}), None).await;
    assert_eq!(
        response.error_code(),
        Some("GRAPHQL_PARSE_FAILED"),
        "{}",
        response.body
    );
}

#[tokio::test]
async fn thousands_of_aliases_are_refused_before_execution() {
    // 5000 aliased fields are 50,000 tokens, which the lexical pass refuses
    // by default (see `hostile.rs`): raise it to reach the alias limit.
    let app = TestApp::spawn_with(|config| config.http.graphql_max_tokens = 100_000).await;
    let fields: String = (0..5000)
        .map(|n| format!("a{n}: user(authUserId: \"u{n}\") {{ authUserId }} "))
        .collect();
    let before = app.statements();
    let start = Instant::now();
    let response = app
        .graphql(&format!("{{ {fields} }}"), json!({}), None)
        .await;
    assert!(start.elapsed() < FAST, "took {:?}", start.elapsed());
    assert_eq!(response.error_code(), Some("GRAPHQL_VALIDATION_FAILED"));
    assert!(
        response.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("5000 aliases"),
        "{}",
        response.body
    );
    assert_eq!(app.statements(), before, "nothing executed");

    // Also when hidden in a fragment.
    let fragment = format!("query {{ ...F }} fragment F on Query {{ {fields} }}");
    let response = app.graphql(&fragment, json!({}), None).await;
    assert_eq!(response.error_code(), Some("GRAPHQL_VALIDATION_FAILED"));
}

#[tokio::test]
async fn piles_of_directives_on_one_field_are_refused() {
    let app = TestApp::spawn().await;
    let directives = "@include(if: true) ".repeat(1000);
    let response = app
        .graphql(&format!("{{ __typename {directives} }}"), json!({}), None)
        .await;
    assert_eq!(
        response.error_code(),
        Some("GRAPHQL_PARSE_FAILED"),
        "{}",
        response.body
    );
    assert!(
        response.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("number of directives"),
        "{}",
        response.body
    );
}

#[tokio::test]
async fn a_few_aliases_are_fine() {
    let app = TestApp::spawn().await;
    let response = app
        .graphql(
            "{ a: user(authUserId: \"a\") { authUserId } b: user(authUserId: \"b\") { id: authUserId } }",
            json!({}),
            None,
        )
        .await;
    response.ok();
}

#[tokio::test]
async fn complexity_over_the_limit_is_refused() {
    let app = TestApp::spawn_with(|config| config.http.graphql_max_complexity = 5).await;
    let response = app
        .graphql(
            "{ user(authUserId: \"a\") { authUserId displayName bio headline location websiteUrl } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(response.error_code(), Some("GRAPHQL_VALIDATION_FAILED"));
    assert!(
        response.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("complex"),
        "{}",
        response.body
    );
}

#[tokio::test]
async fn a_10_mb_body_is_refused_with_413() {
    let app = TestApp::spawn().await;
    let padding = "x".repeat(10 * 1024 * 1024);
    let body = json!({ "query": "{ __typename }", "variables": { "padding": padding } });
    let start = Instant::now();
    let response = app
        .request(
            Request::post("/graphql")
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await;
    assert!(start.elapsed() < FAST);
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(response.error_code(), Some("BAD_USER_INPUT"));
}

#[tokio::test]
async fn the_defaults_admit_users_with_100_ids_and_every_nested_field() {
    let app = TestApp::spawn().await;
    let ids: Vec<String> = (0..100).map(|n| format!("user-{n}")).collect();
    let response = app
        .graphql(
            "query($ids: [ID!]!) { users(authUserIds: $ids) {
                authUserId username displayName bio skills headline location websiteUrl avatarUrl plan
                createdAt email
                badges { id name description iconUrl dateAchieved }
                goals { id title description status streakCount lastCheckInOn createdAt updatedAt }
                inProgress: goals(status: IN_PROGRESS) { id title }
                preferences { profileVisibility emailNotifications timezone weeklyGoalTarget }
                stats { badgeCount goalCount goalsCompleted goalsInProgress longestStreak lastActiveAt }
                activity(first: 100) { id kind occurredAt goalId badgeId summary }
                __typename
            } }",
            json!({ "ids": ids }),
            Some(&app.admin_token()),
        )
        .await;
    let users = response.ok()["users"].as_array().expect("users").clone();
    assert_eq!(users.len(), 100);
}

#[tokio::test]
async fn the_defaults_admit_a_full_search_page_with_every_nested_field() {
    let app = TestApp::spawn().await;
    for n in 0..3 {
        let id = format!("searchable-{n}");
        app.graphql_as(
            &id,
            "mutation($id: ID!) { updateProfile(authUserId: $id, input: { displayName: \"Searchable\" }) { authUserId } }",
            json!({ "id": id }),
        )
        .await
        .ok();
        app.create_goal(&id, "Goal").await;
    }
    let response = app
        .graphql(
            "{ searchUsers(query: \"searchable\", first: 50) {
                edges { cursor node {
                    authUserId username displayName bio skills headline location websiteUrl avatarUrl
                    plan createdAt email
                    badges { id name description iconUrl dateAchieved }
                    goals { id title description status streakCount lastCheckInOn createdAt updatedAt }
                    preferences { profileVisibility emailNotifications timezone weeklyGoalTarget }
                    stats { badgeCount goalCount goalsCompleted goalsInProgress longestStreak lastActiveAt }
                    activity(first: 100) { id kind occurredAt goalId badgeId summary }
                } }
                pageInfo { hasNextPage endCursor }
            } }",
            json!({}),
            Some(&app.admin_token()),
        )
        .await;
    let edges = response.ok()["searchUsers"]["edges"]
        .as_array()
        .expect("edges")
        .clone();
    assert_eq!(edges.len(), 3);
    assert_eq!(edges[0]["node"]["stats"]["goalCount"], 1);
}

#[tokio::test]
async fn the_defaults_admit_the_graphiql_introspection_query() {
    let app = TestApp::spawn().await;
    let response = app.graphql(INTROSPECTION, json!({}), None).await;
    assert!(
        response.ok()["__schema"]["types"]
            .as_array()
            .is_some_and(|types| !types.is_empty())
    );
}

#[tokio::test]
async fn a_slow_request_times_out_with_503() {
    let app = TestApp::spawn_with(|config| {
        config.http.request_timeout = Duration::from_millis(100);
        // The loader waits this long before loading: far beyond the timeout.
        config.http.graphql_loader_delay = Duration::from_millis(2_000);
    })
    .await;
    let start = Instant::now();
    let response = app
        .graphql(
            "{ user(authUserId: \"slow\") { authUserId } }",
            json!({}),
            None,
        )
        .await;
    assert!(
        start.elapsed() < Duration::from_millis(1_500),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.error_code(), Some("SERVICE_UNAVAILABLE"));
}

fn from(address: &str) -> http::request::Builder {
    Request::post("/graphql")
        .header("content-type", "application/json")
        .header("x-forwarded-for", address)
}

fn typename() -> Body {
    Body::from(json!({ "query": "{ __typename }" }).to_string())
}

#[tokio::test]
async fn rate_limit_per_client_address_answers_429_with_retry_after() {
    let app = TestApp::spawn_with(|config| {
        config.http.rate_limit_per_ip = 3;
        config.http.trust_x_forwarded_for = true;
    })
    .await;
    for _ in 0..3 {
        let response = app
            .request(from("203.0.113.9").body(typename()).unwrap())
            .await;
        assert_eq!(response.status, StatusCode::OK);
    }
    let limited = app
        .request(from("203.0.113.9").body(typename()).unwrap())
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    assert!(limited.error_code().is_some());
    // Another client is not affected; nor is a spoofed first entry, since
    // only the proxy's (last) entry counts.
    let other = app
        .request(from("203.0.113.10").body(typename()).unwrap())
        .await;
    assert_eq!(other.status, StatusCode::OK);
    let spoofed = app
        .request(from("198.51.100.1, 203.0.113.9").body(typename()).unwrap())
        .await;
    assert_eq!(spoofed.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn rate_limit_per_user_answers_429_with_retry_after() {
    let app = TestApp::spawn_with(|config| config.http.rate_limit_per_user = 2).await;
    for _ in 0..2 {
        let response = app.graphql_as("busy", "{ __typename }", json!({})).await;
        assert_eq!(response.status, StatusCode::OK);
    }
    let limited = app.graphql_as("busy", "{ __typename }", json!({})).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers.contains_key("retry-after"));
    let other = app.graphql_as("calm", "{ __typename }", json!({})).await;
    assert_eq!(other.status, StatusCode::OK);
}

#[tokio::test]
async fn cors_preflight_allows_the_configured_origin_only() {
    let app = TestApp::spawn().await;
    let preflight = |origin: &str| {
        Request::options("/graphql")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type,authorization",
            )
            .body(Body::empty())
            .unwrap()
    };
    let allowed = app.request(preflight("https://app.example.com")).await;
    assert!(allowed.status.is_success());
    assert_eq!(
        allowed.headers["access-control-allow-origin"],
        "https://app.example.com"
    );
    let methods = allowed.headers["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(methods.contains("POST"), "{methods}");

    for refused in [
        "https://evil.example.com",
        "https://app.example.com.evil.com",
        "http://app.example.com",
    ] {
        let response = app.request(preflight(refused)).await;
        assert!(
            !response.headers.contains_key("access-control-allow-origin"),
            "{refused}: {:?}",
            response.headers
        );
    }
}

#[tokio::test]
async fn production_turns_introspection_and_graphiql_off_unless_enabled() {
    let app = TestApp::spawn_with(|config| {
        config.app_env = user_service::config::AppEnv::Production;
        config.http.enable_graphiql = None;
        config.http.enable_introspection = None;
    })
    .await;
    let response = app.graphql(INTROSPECTION, json!({}), None).await;
    assert_eq!(response.error_code(), Some("GRAPHQL_VALIDATION_FAILED"));
    let graphiql = app
        .request(Request::get("/graphiql").body(Body::empty()).unwrap())
        .await;
    assert_eq!(graphiql.status, StatusCode::NOT_FOUND);

    let enabled = TestApp::spawn_with(|config| {
        config.app_env = user_service::config::AppEnv::Production;
        config.http.enable_introspection = Some(true);
    })
    .await;
    enabled.graphql(INTROSPECTION, json!({}), None).await.ok();
}

/// The introspection query GraphiQL sends (graphql-js
/// `getIntrospectionQuery` with descriptions).
const INTROSPECTION: &str = r"
query IntrospectionQuery {
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) {
    name description
    args { ...InputValue }
    type { ...TypeRef }
    isDeprecated deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}
";
