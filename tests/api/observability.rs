//! Observability: request ids, `/metrics`, `/ready`, `/db/status`, and the
//! graceful shutdown that drains in-flight requests.

use std::time::Duration;

use axum::body::Body;
use http::{Request, StatusCode};
use serde_json::json;

use crate::helpers::{ServedApp, TestApp};

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn request_id_is_generated_or_echoed() {
    let app = TestApp::spawn().await;
    let generated = app.request(get("/health")).await;
    let id = generated.headers["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");

    let echoed = app
        .request(
            Request::get("/health")
                .header("x-request-id", "trace-me-42")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(echoed.headers["x-request-id"], "trace-me-42");

    let too_long = "x".repeat(500);
    let replaced = app
        .request(
            Request::get("/health")
                .header("x-request-id", too_long.as_str())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_ne!(replaced.headers["x-request-id"], too_long.as_str());
}

#[tokio::test]
async fn metrics_show_requests_latency_errors_pool_and_event_counters() {
    let app = TestApp::spawn().await;
    app.graphql(
        "query MetricsProbe { user(authUserId: \"m\") { authUserId } }",
        json!({}),
        None,
    )
    .await
    .ok();
    app.graphql("{ nope }", json!({}), None).await;
    let metrics = app.request(get("/metrics")).await;
    assert_eq!(metrics.status, StatusCode::OK);
    let text = metrics.body.as_str().expect("Prometheus text").to_owned();
    for needle in [
        "http_requests_total{",
        "operation=\"MetricsProbe\"",
        "http_request_duration_seconds_bucket{",
        "graphql_errors_total{code=\"GRAPHQL_VALIDATION_FAILED\"}",
        "db_statements_total",
        "db_pool_size",
        "db_pool_idle",
        "db_pool_in_use",
        "db_pool_max",
        "graphql_validation_skipped_total",
        "events_consumed_total",
        "events_dead_lettered_total",
    ] {
        assert!(text.contains(needle), "/metrics lacks {needle}:\n{text}");
    }
}

#[tokio::test]
async fn ready_is_200_when_the_database_answers() {
    let app = TestApp::spawn().await;
    let ready = app.request(get("/ready")).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    assert_eq!(ready.body["status"], "ready");
    assert_eq!(ready.body["checks"]["database"]["status"], "up");
    for informational in ["broker", "auth_service"] {
        let status = ready.body["checks"][informational]["status"].as_str();
        assert!(
            matches!(status, Some("up" | "down")),
            "{informational}: {}",
            ready.body
        );
    }
    // The stub auth-service listens and its breaker is closed.
    assert_eq!(ready.body["checks"]["auth_service"]["status"], "up");
    assert_eq!(
        ready.body["checks"]["auth_service"]["circuit_breaker"],
        "closed"
    );
}

#[tokio::test]
async fn ready_reports_an_open_auth_service_breaker_without_going_unready() {
    let app = TestApp::spawn_with(|config| {
        config.auth.auth_service_breaker_threshold = 1;
        config.auth.auth_service_retries = 0;
    })
    .await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(wiremock::ResponseTemplate::new(500))
        .mount(&app.auth_service)
        .await;
    // A user the service has not met: the lookup fails and opens the breaker.
    app.graphql_as("newcomer", "{ me { authUserId } }", serde_json::json!({}))
        .await
        .ok();
    let ready = app.request(get("/ready")).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    assert_eq!(ready.body["checks"]["auth_service"]["status"], "down");
    assert_eq!(
        ready.body["checks"]["auth_service"]["circuit_breaker"],
        "open"
    );
}

#[tokio::test]
async fn ready_is_503_when_the_database_is_unreachable() {
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let app = TestApp::spawn_with(|config| {
        config.database.database_url =
            format!("postgres://postgres@127.0.0.1:{port}/nowhere").into();
        config.database.database_pool_timeout = Duration::from_secs(1);
        config.http.readiness_timeout = Duration::from_millis(500);
    })
    .await;
    let ready = app.request(get("/ready")).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.body["status"], "not_ready");
    assert_eq!(ready.body["checks"]["database"]["status"], "down");
    let status = app.request(get("/db/status")).await;
    assert_eq!(status.body["reachable"], false);
    // Liveness does not depend on the database.
    assert_eq!(app.request(get("/health")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn ready_is_503_while_migrations_are_pending() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn().await;
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query(
            "DELETE FROM __diesel_schema_migrations WHERE version = (SELECT max(version) FROM __diesel_schema_migrations)",
        ),
        &mut conn,
    )
    .await
    .unwrap();
    let ready = app.request(get("/ready")).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.body["checks"]["database"]["status"], "up");
    assert_eq!(ready.body["checks"]["database"]["pending_migrations"], 1);
}

#[tokio::test]
async fn db_status_reports_reachability_pool_and_schema_version() {
    let app = TestApp::spawn().await;
    let status = app.request(get("/db/status")).await;
    assert_eq!(status.status, StatusCode::OK);
    assert_eq!(status.body["reachable"], true);
    for key in ["size", "idle", "in_use", "max"] {
        assert!(status.body["pool"][key].is_u64(), "{key}: {}", status.body);
    }
    assert_eq!(status.body["pool"]["max"], 8);
    let version = status.body["schema_version"].as_str().expect("version");
    assert!(!version.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_drains_in_flight_requests() {
    let app = TestApp::spawn_with(|config| {
        // Each request waits this long in its dataloader.
        config.http.graphql_loader_delay = Duration::from_millis(700);
    })
    .await;
    let mut server = ServedApp::start(app.router.clone()).await;
    let url = format!("{}/graphql", server.url());
    let in_flight = tokio::spawn(async move {
        crate::helpers::http_client()
            .post(url)
            .json(&json!({ "query": "{ user(authUserId: \"late\") { authUserId } }" }))
            .send()
            .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.begin_shutdown();
    let response = in_flight
        .await
        .expect("task")
        .expect("the in-flight request is answered");
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let task = server.task.take().expect("server task");
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the server stops once drained")
        .expect("join")
        .expect("serve");
    // New connections are refused now.
    assert!(
        crate::helpers::http_client()
            .get(format!("{}/health", server.url()))
            .send()
            .await
            .is_err()
    );
}
