//! OpenTelemetry (issue 12): spans exported over OTLP/HTTP to a receiver
//! inside the test, continuing the `traceparent` a request carried, passed
//! on to the auth-service, continued from AMQP headers, and sampled
//! parent-based.
//!
//! A test binary of its own: the exporting subscriber is the process's
//! global one, installed before any span exists (a thread-local one beside
//! the other tests of `tests/api` would race their callsite registrations),
//! and it shares the harness of `tests/api/helpers`.

#[allow(dead_code, unused_imports)]
#[path = "api/helpers/mod.rs"]
mod helpers;

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::routing::post;
use http::Request;
use serde_json::{Value, json};
use tracing_subscriber::layer::SubscriberExt;
use user_service::telemetry::{OtelSettings, otel_layer, set_parent_from_amqp};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{ServedApp, TestApp};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";

/// An OTLP/HTTP receiver: every JSON body posted to `/v1/traces`.
async fn receiver() -> (ServedApp, Arc<Mutex<Vec<Value>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = Arc::clone(&received);
    let router = axum::Router::new().route(
        "/v1/traces",
        post(move |body: axum::body::Bytes| {
            let store = Arc::clone(&store);
            async move {
                if let Ok(value) = serde_json::from_slice::<Value>(&body) {
                    store.lock().unwrap().push(value);
                }
                ([("content-type", "application/json")], "{}")
            }
        }),
    );
    (ServedApp::start(router).await, received)
}

/// Every span received: (name, traceId, spanId, parentSpanId).
fn spans(received: &Mutex<Vec<Value>>) -> Vec<(String, String, String, String)> {
    let text = |value: &Value| value.as_str().unwrap_or("").to_owned();
    received
        .lock()
        .unwrap()
        .iter()
        .flat_map(|body| {
            body["resourceSpans"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .flat_map(|resource| {
            resource["scopeSpans"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .flat_map(|scope| scope["spans"].as_array().cloned().unwrap_or_default())
        .map(|span| {
            (
                text(&span["name"]),
                text(&span["traceId"]),
                text(&span["spanId"]),
                text(&span["parentSpanId"]),
            )
        })
        .collect()
}

fn graphql_request(query: &str, token: &str, traceparent: Option<&str>) -> Request<Body> {
    let mut request = Request::post("/graphql")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"));
    if let Some(traceparent) = traceparent {
        request = request.header("traceparent", traceparent);
    }
    request
        .body(Body::from(json!({ "query": query }).to_string()))
        .unwrap()
}

#[tokio::test]
async fn spans_continue_the_callers_trace_and_pass_it_to_the_auth_service_and_from_amqp() {
    let (collector, received) = receiver().await;
    let settings = OtelSettings {
        endpoint: collector.url(),
        // New traces are never sampled: only continued ones are exported.
        sample_ratio: 0.0,
        service_name: "user-service-test".to_owned(),
    };
    let (layer, provider) = otel_layer(&settings).expect("exporter");
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
        .expect("the only subscriber of this test binary");

    let app = TestApp::spawn().await;
    Mock::given(method("GET"))
        .and(path("/users/ada"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({ "id": "ada", "username": "ada", "email": "ada@example.com" }),
            ),
        )
        .mount(&app.auth_service)
        .await;

    // `me` for a user the service has not met asks the auth-service.
    let traceparent = format!("00-{TRACE_ID}-{PARENT_ID}-01");
    let response = app
        .request(graphql_request(
            "{ me { authUserId username } }",
            &app.token("ada"),
            Some(&traceparent),
        ))
        .await;
    assert_eq!(response.ok()["me"]["username"], "ada", "{}", response.body);
    // Not sampled here, and no parent: not exported.
    app.request(graphql_request("{ __typename }", &app.token("bob"), None))
        .await
        .ok();

    // A consumed event whose headers carry the publisher's trace.
    let amqp_trace = "0af7651916cd43dd8448eb211c80319c";
    let mut headers = lapin::types::FieldTable::default();
    headers.insert(
        "traceparent".into(),
        lapin::types::AMQPValue::LongString(format!("00-{amqp_trace}-b7ad6b7169203331-01").into()),
    );
    let span = tracing::info_span!("process");
    set_parent_from_amqp(&span, Some(&headers));
    span.in_scope(|| tracing::info!("handled"));
    drop(span);

    let flushed = tokio::task::spawn_blocking(move || provider.force_flush())
        .await
        .expect("flush");
    assert!(flushed.is_ok(), "{flushed:?}");

    let spans = spans(&received);
    // The HTTP `request` span is the child of the caller's span (async-graphql's
    // own `request` span is a child of it).
    assert!(
        spans
            .iter()
            .any(|(name, trace, _, parent)| name == "request"
                && trace == TRACE_ID
                && parent == PARENT_ID),
        "no request span under the caller's: {spans:?}"
    );
    assert!(
        spans
            .iter()
            .any(|(name, trace, _, parent)| name == "fetch_user"
                && trace == TRACE_ID
                && !parent.is_empty()),
        "the auth-service call is a span of the same trace: {spans:?}"
    );
    assert!(
        spans
            .iter()
            .any(|(name, trace, _, _)| name == "sql" && trace == TRACE_ID),
        "SQL statements are spans of the request's trace: {spans:?}"
    );
    assert!(
        spans
            .iter()
            .all(|(_, trace, _, _)| trace == TRACE_ID || trace == amqp_trace),
        "the request without a parent is not sampled (ratio 0), so not exported: {spans:?}"
    );
    assert!(
        spans
            .iter()
            .any(|(name, trace, _, parent)| name == "process"
                && trace == amqp_trace
                && parent == "b7ad6b7169203331"),
        "the consumer continues the publisher's trace: {spans:?}"
    );

    // The auth-service got the trace too.
    let calls = app
        .auth_service
        .received_requests()
        .await
        .unwrap_or_default();
    let sent = calls
        .iter()
        .filter_map(|call| call.headers.get("traceparent"))
        .filter_map(|value| value.to_str().ok())
        .collect::<Vec<_>>();
    assert!(
        sent.iter().any(|value| value.contains(TRACE_ID)),
        "traceparent sent to the auth-service: {sent:?}"
    );
}
