//! Outbound calls to the auth-service: an oversized answer is refused and
//! nothing of it stored, a redirect is not followed, and a user first met
//! during an outage gets their username once the auth-service is back.

use std::time::{Duration, Instant};

use diesel_async::RunQueryDsl;
use serde_json::json;
use user_service::clients::auth_service::MAX_USER_BODY_BYTES;
use user_service::clients::username_refresh::{UsernameRefreshSettings, UsernameRefresher};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::TestApp;

const ME: &str = "{ me { authUserId username email } }";

async fn requests_to(app: &TestApp, prefix: &str) -> usize {
    app.auth_service
        .received_requests()
        .await
        .expect("request recording")
        .iter()
        .filter(|request| request.url.path().starts_with(prefix))
        .count()
}

#[derive(diesel::QueryableByName, Debug, PartialEq)]
struct Stored {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    username: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    email: Option<String>,
}

async fn stored(app: &TestApp, id: &str) -> Option<Stored> {
    let mut conn = app.conn().await;
    diesel::sql_query("SELECT username, email FROM auth_users WHERE auth_user_id = $1")
        .bind::<diesel::sql_types::Text, _>(id)
        .get_results::<Stored>(&mut conn)
        .await
        .expect("query auth_users")
        .pop()
}

#[tokio::test]
async fn an_oversized_answer_is_refused_and_nothing_of_it_is_stored() {
    let app = TestApp::spawn_with(|config| {
        config.auth.auth_service_retries = 2;
        config.auth.auth_service_timeout = Duration::from_millis(2000);
        config.auth.auth_service_budget = Duration::from_millis(4000);
    })
    .await;
    // A well-formed user whose username alone is over the cap (1 MiB).
    let huge = "a".repeat(1024 * 1024);
    assert!(huge.len() > MAX_USER_BODY_BYTES);
    Mock::given(method("GET"))
        .and(path("/users/big"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({ "id": "big", "username": huge, "email": "big@example.com" }),
            ),
        )
        .mount(&app.auth_service)
        .await;

    let response = app.graphql_as("big", ME, json!({})).await;
    assert_eq!(
        response.ok()["me"],
        json!({ "authUserId": "big", "username": null, "email": null })
    );
    assert_eq!(
        stored(&app, "big").await,
        Some(Stored {
            username: None,
            email: None
        })
    );
    assert_eq!(
        requests_to(&app, "/users/").await,
        1,
        "an oversized answer is not retried"
    );

    // The same answer just under the cap is a user.
    let fits = "b".repeat(MAX_USER_BODY_BYTES - 200);
    Mock::given(method("GET"))
        .and(path("/users/fits"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "id": "fits", "username": fits, "email": null })),
        )
        .mount(&app.auth_service)
        .await;
    let response = app.graphql_as("fits", ME, json!({})).await;
    assert_eq!(
        response.ok()["me"]["username"].as_str(),
        Some(fits.as_str())
    );
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let app = TestApp::spawn().await;
    let elsewhere = format!("{}/elsewhere/rd", app.auth_service.uri());
    Mock::given(method("GET"))
        .and(path("/users/rd"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", elsewhere.as_str()))
        .mount(&app.auth_service)
        .await;
    Mock::given(method("GET"))
        .and(path("/elsewhere/rd"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "id": "rd", "username": "redirected", "email": null })),
        )
        .mount(&app.auth_service)
        .await;

    let response = app.graphql_as("rd", ME, json!({})).await;
    assert_eq!(response.ok()["me"]["username"], json!(null));
    assert_eq!(requests_to(&app, "/users/rd").await, 1);
    assert_eq!(
        requests_to(&app, "/elsewhere/").await,
        0,
        "the redirect is not followed"
    );
    assert_eq!(stored(&app, "rd").await.and_then(|s| s.username), None);
}

#[tokio::test]
async fn a_username_unknown_during_an_outage_is_filled_in_once_the_auth_service_is_back() {
    let app = TestApp::spawn_with(|config| {
        config.auth.auth_service_retries = 0;
        config.auth.auth_service_breaker_threshold = 1;
        config.auth.auth_service_breaker_cooldown = Duration::from_millis(500);
    })
    .await;
    Mock::given(method("GET"))
        .and(path_regex("^/users/"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&app.auth_service)
        .await;

    // Met during the outage: the row is made with username null.
    let response = app.graphql_as("outage", ME, json!({})).await;
    assert_eq!(response.ok()["me"]["username"], json!(null));
    assert!(app.state.auth_service.is_open());
    // A user described by an event with a null username is not asked about.
    let mut conn = app.conn().await;
    diesel::sql_query(
        "INSERT INTO auth_users (auth_user_id, username, email, source_event_at, created_at, updated_at) \
         VALUES ('from-event', NULL, NULL, now(), now(), now())",
    )
    .execute(&mut conn)
    .await
    .expect("insert an event-made row");

    let refresher = UsernameRefresher::new(
        app.state.db.pool.clone(),
        app.state.auth_service.clone(),
        app.clock.clone(),
        UsernameRefreshSettings {
            interval: Duration::from_millis(100),
            batch: 10,
            max_backoff: Duration::from_millis(400),
        },
    );
    let shutdown = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(refresher.run(shutdown.clone()));

    // Still down for a while: the username stays unknown.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(stored(&app, "outage").await.and_then(|s| s.username), None);

    // The auth-service recovers.
    app.auth_service.reset().await;
    Mock::given(method("GET"))
        .and(path("/users/outage"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({ "id": "outage", "username": "ada", "email": "ada@example.com" }),
        ))
        .mount(&app.auth_service)
        .await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while stored(&app, "outage")
        .await
        .and_then(|s| s.username)
        .is_none()
    {
        assert!(
            Instant::now() < deadline,
            "the username was never filled in"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the refresher stops")
        .expect("no panic");

    assert_eq!(
        stored(&app, "outage").await,
        Some(Stored {
            username: Some("ada".to_owned()),
            email: Some("ada@example.com".to_owned())
        })
    );
    let response = app.graphql_as("outage", ME, json!({})).await;
    assert_eq!(
        response.ok()["me"],
        json!({ "authUserId": "outage", "username": "ada", "email": "ada@example.com" })
    );
    assert_eq!(
        requests_to(&app, "/users/from-event").await,
        0,
        "an event's null is an answer"
    );
}

#[tokio::test]
async fn a_user_the_auth_service_does_not_know_is_asked_again_only_after_a_backoff() {
    let app = TestApp::spawn().await;
    Mock::given(method("GET"))
        .and(path_regex("^/users/"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&app.auth_service)
        .await;
    app.graphql_as("ghost", ME, json!({})).await.ok();
    assert_eq!(requests_to(&app, "/users/ghost").await, 1);

    let mut refresher = UsernameRefresher::new(
        app.state.db.pool.clone(),
        app.state.auth_service.clone(),
        app.clock.clone(),
        UsernameRefreshSettings {
            interval: Duration::from_secs(10),
            batch: 10,
            max_backoff: Duration::from_secs(60),
        },
    );
    for _ in 0..5 {
        assert_eq!(refresher.round().await, 0);
    }
    assert_eq!(
        requests_to(&app, "/users/ghost").await,
        2,
        "asked once by the refresher, then held back by the backoff"
    );
}
