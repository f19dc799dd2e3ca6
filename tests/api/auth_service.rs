//! The auth-service client behind `me` and first mutations: success, 404,
//! 500 (bounded retries), a response slower than the timeout, the service
//! down, and the circuit breaker opening and closing. In every case `me`
//! answers with what the service holds locally.

use std::time::{Duration, Instant};

use serde_json::json;
use user_service::clients::circuit_breaker::BreakerState;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::TestApp;

const ME: &str = "{ me { authUserId username email } }";

async fn requests(app: &TestApp) -> usize {
    app.auth_service
        .received_requests()
        .await
        .expect("request recording")
        .len()
}

#[tokio::test]
async fn me_fills_username_and_email_from_the_auth_service() {
    let app = TestApp::spawn().await;
    Mock::given(method("GET"))
        .and(path("/users/as-found"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({ "id": "as-found", "username": "ada", "email": "ada@example.com" }),
        ))
        .expect(1)
        .mount(&app.auth_service)
        .await;

    let response = app.graphql_as("as-found", ME, json!({})).await;
    assert_eq!(
        response.ok()["me"],
        json!({ "authUserId": "as-found", "username": "ada", "email": "ada@example.com" })
    );
    // Known now: asked once, never again.
    let response = app.graphql_as("as-found", ME, json!({})).await;
    assert_eq!(response.ok()["me"]["username"], "ada");
    assert_eq!(requests(&app).await, 1);
}

#[tokio::test]
async fn a_404_keeps_the_token_standing_and_is_not_retried() {
    let app = TestApp::spawn().await;
    Mock::given(method("GET"))
        .and(path("/users/as-missing"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&app.auth_service)
        .await;

    let response = app.graphql_as("as-missing", ME, json!({})).await;
    assert_eq!(
        response.ok()["me"],
        json!({ "authUserId": "as-missing", "username": null, "email": null })
    );
    assert_eq!(requests(&app).await, 1, "a 404 is an answer, not a failure");
    assert!(!app.state.auth_service.is_open());
}

#[tokio::test]
async fn a_500_is_retried_a_bounded_number_of_times_and_me_still_answers() {
    let app = TestApp::spawn_with(|config| {
        config.auth.auth_service_retries = 2;
        config.auth.auth_service_breaker_threshold = 10;
    })
    .await;
    Mock::given(method("GET"))
        .and(path_regex("^/users/"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&app.auth_service)
        .await;

    let response = app.graphql_as("as-500", ME, json!({})).await;
    assert_eq!(
        response.ok()["me"],
        json!({ "authUserId": "as-500", "username": null, "email": null })
    );
    assert_eq!(requests(&app).await, 3, "one attempt and two retries");

    // A first mutation by an unknown user works too.
    let response = app
        .graphql_as(
            "as-500-b",
            "mutation { createGoal(authUserId: \"as-500-b\", input: { title: \"Learn\" }) { title } }",
            json!({}),
        )
        .await;
    assert_eq!(response.ok()["createGoal"]["title"], "Learn");
}

#[tokio::test]
async fn a_response_slower_than_the_timeout_costs_at_most_the_budget() {
    let app = TestApp::spawn_with(|config| {
        config.auth.auth_service_timeout = Duration::from_millis(300);
        config.auth.auth_service_budget = Duration::from_millis(700);
    })
    .await;
    Mock::given(method("GET"))
        .and(path_regex("^/users/"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "id": "x", "username": "late", "email": null }))
                .set_delay(Duration::from_secs(5)),
        )
        .mount(&app.auth_service)
        .await;

    let started = Instant::now();
    let response = app.graphql_as("as-slow", ME, json!({})).await;
    let elapsed = started.elapsed();
    assert_eq!(response.ok()["me"]["username"], json!(null));
    assert_eq!(response.ok()["me"]["authUserId"], "as-slow");
    assert!(
        elapsed < Duration::from_millis(2500),
        "me took {elapsed:?} although the budget is 700 ms"
    );
}

#[tokio::test]
async fn a_dead_auth_service_does_not_break_me_or_mutations() {
    let app = TestApp::spawn_with(|config| {
        // Nothing listens on port 1.
        config.auth.auth_service_url = "http://127.0.0.1:1".to_owned();
    })
    .await;

    let response = app.graphql_as("as-down", ME, json!({})).await;
    assert_eq!(
        response.ok()["me"],
        json!({ "authUserId": "as-down", "username": null, "email": null })
    );
    let response = app
        .graphql_as(
            "as-down-2",
            "mutation { createBadge(authUserId: \"as-down-2\", input: { name: \"Pioneer\" }) { name } }",
            json!({}),
        )
        .await;
    assert_eq!(response.ok()["createBadge"]["name"], "Pioneer");
}

#[tokio::test]
async fn the_breaker_opens_after_consecutive_failures_and_closes_after_a_good_trial() {
    let app = TestApp::spawn_with(|config| {
        config.auth.auth_service_retries = 0;
        config.auth.auth_service_breaker_threshold = 2;
        config.auth.auth_service_breaker_cooldown = Duration::from_millis(2000);
    })
    .await;
    Mock::given(method("GET"))
        .and(path_regex("^/users/"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&app.auth_service)
        .await;

    for sub in ["br-1", "br-2"] {
        let response = app.graphql_as(sub, ME, json!({})).await;
        assert_eq!(response.ok()["me"]["authUserId"], sub);
    }
    assert_eq!(requests(&app).await, 2);
    assert!(
        app.state.auth_service.is_open(),
        "two failures open the breaker"
    );
    assert_eq!(app.state.auth_service.breaker_state(), BreakerState::Open);

    // Open: lookups cost nothing, and me still answers.
    let response = app.graphql_as("br-3", ME, json!({})).await;
    assert_eq!(response.ok()["me"]["username"], json!(null));
    assert_eq!(
        requests(&app).await,
        2,
        "no request while the breaker is open"
    );

    // The auth-service recovers; after the cool-down a trial closes the breaker.
    app.auth_service.reset().await;
    Mock::given(method("GET"))
        .and(path_regex("^/users/"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "id": "x", "username": "back", "email": null })),
        )
        .mount(&app.auth_service)
        .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut n = 0;
    loop {
        n += 1;
        let sub = format!("br-probe-{n}");
        let response = app.graphql_as(&sub, ME, json!({})).await;
        if response.ok()["me"]["username"] == "back" {
            break;
        }
        assert!(Instant::now() < deadline, "the breaker never closed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.state.auth_service.breaker_state(), BreakerState::Closed);
    let response = app.graphql_as("br-after", ME, json!({})).await;
    assert_eq!(response.ok()["me"]["username"], "back");
}
