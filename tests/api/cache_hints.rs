//! Cache hints (issue 12): `Cache-Control` from the schema's hints, the
//! viewer and `CACHE_MAX_AGE_SECS`.

use std::time::Duration;

use axum::body::Body;
use http::Request;
use serde_json::json;

use crate::helpers::{TestApp, TestResponse};

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

async fn get(app: &TestApp, query: &str, token: Option<&str>) -> TestResponse {
    let mut request = Request::get(format!("/graphql?query={}", encode(query)))
        .header("apollo-require-preflight", "true");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    app.request(request.body(Body::empty()).unwrap()).await
}

fn cache_control(response: &TestResponse) -> &str {
    response
        .headers
        .get("cache-control")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("<none>")
}

#[tokio::test]
async fn public_answers_over_get_are_cacheable_for_the_configured_max_age() {
    let app = TestApp::spawn_with(|config| {
        config.platform.cache_max_age = Duration::from_secs(42);
    })
    .await;
    app.create_goal("ada", "Cache me").await;
    let query = "{ user(authUserId: \"ada\") { authUserId displayName goals { title } stats { goalCount } } }";
    let public = get(&app, query, None).await;
    assert_eq!(public.ok()["user"]["goals"][0]["title"], "Cache me");
    assert_eq!(cache_control(&public), "public, max-age=42");
    let vary: Vec<_> = public.headers.get_all("vary").iter().collect();
    assert!(
        vary.iter()
            .any(|value| value.to_str().unwrap_or("").contains("authorization")),
        "Vary: {vary:?}"
    );
}

#[tokio::test]
async fn viewer_dependent_private_and_failed_answers_are_not_stored() {
    let app = TestApp::spawn_with(|config| {
        config.platform.cache_max_age = Duration::from_secs(42);
    })
    .await;
    app.create_goal("ada", "Private").await;
    let public_query = "{ user(authUserId: \"ada\") { displayName } }";

    // The same query with a token depends on who asks.
    let signed_in = get(&app, public_query, Some(&app.token("ada"))).await;
    signed_in.ok();
    assert_eq!(cache_control(&signed_in), "private, no-store");

    // A private field, even asked anonymously (it answers null).
    let private = get(
        &app,
        "{ user(authUserId: \"ada\") { displayName email } }",
        None,
    )
    .await;
    private.ok();
    assert_eq!(cache_control(&private), "private, no-store");
    let preferences = get(
        &app,
        "{ user(authUserId: \"ada\") { preferences { timezone } } }",
        None,
    )
    .await;
    assert_eq!(cache_control(&preferences), "private, no-store");

    // `me` is the viewer by definition.
    let me = get(&app, "{ me { authUserId } }", Some(&app.token("ada"))).await;
    me.ok();
    assert_eq!(cache_control(&me), "private, no-store");

    // An error is never cached.
    let failed = get(
        &app,
        "{ user(authUserId: \"not valid!\") { displayName } }",
        None,
    )
    .await;
    assert!(failed.body["errors"].is_array());
    assert_eq!(cache_control(&failed), "no-store");

    // Nor is a mutation's answer (the schema's `no_cache` hint, which wins
    // over `private`).
    let mutation = app
        .graphql_as(
            "ada",
            "mutation { updateProfile(authUserId: \"ada\", input: { displayName: \"Ada\" }) { displayName } }",
            json!({}),
        )
        .await;
    mutation.ok();
    assert_eq!(cache_control(&mutation), "no-store");
}

#[tokio::test]
async fn a_zero_max_age_turns_public_caching_off() {
    let app = TestApp::spawn_with(|config| {
        config.platform.cache_max_age = Duration::ZERO;
    })
    .await;
    let public = get(&app, "{ user(authUserId: \"ada\") { displayName } }", None).await;
    public.ok();
    assert_eq!(cache_control(&public), "no-store");
}
