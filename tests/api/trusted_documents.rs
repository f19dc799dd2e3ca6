//! Trusted documents (issue 12): the manifest, the `log` and `enforce`
//! modes, the router-secret and admin bypasses, and APQ that cannot smuggle
//! a document past the list.

use std::path::PathBuf;

use axum::body::Body;
use http::{Request, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use user_service::config::TrustedDocumentsMode;

use crate::helpers::{TestApp, TestResponse};

const LISTED: &str =
    "query Profile($id: ID!) { user(authUserId: $id) { displayName goals { title } } }";
const UNLISTED: &str = "query Sneaky($id: ID!) { user(authUserId: $id) { displayName bio } }";

fn sha256(query: &str) -> String {
    hex::encode(Sha256::digest(query.as_bytes()))
}

/// A manifest holding [`LISTED`] under its own id and a second document
/// under an arbitrary id (ids are opaque to the service).
fn manifest() -> PathBuf {
    let manifest = json!({
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [
            { "id": sha256(LISTED), "name": "Profile", "type": "query", "body": LISTED },
            { "id": "typename-v1", "name": "Typename", "type": "query", "body": "query Typename { __typename }" },
        ],
    });
    let path = std::env::temp_dir().join(format!("trusted-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&path, manifest.to_string()).expect("write the manifest");
    path
}

async fn spawn(mode: TrustedDocumentsMode, router_secret: Option<&str>) -> TestApp {
    let path = manifest();
    TestApp::spawn_with(|config| {
        config.platform.trusted_documents = mode;
        config.platform.trusted_documents_manifest = Some(path);
        config.http.router_secret = router_secret.map(|secret| secret.to_owned().into());
    })
    .await
}

async fn post(app: &TestApp, body: Value, headers: &[(&str, String)]) -> TestResponse {
    let mut request = Request::post("/graphql").header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    app.request(request.body(Body::from(body.to_string())).unwrap())
        .await
}

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

#[tokio::test]
async fn enforce_runs_manifest_documents_by_id_or_identical_body_and_refuses_others() {
    let app = spawn(TrustedDocumentsMode::Enforce, None).await;
    // Set up as an admin: the mutation is not in the manifest either.
    post(
        &app,
        json!({ "query": "mutation { createGoal(authUserId: \"ada\", input: { title: \"Trusted\" }) { id } }" }),
        &[("authorization", format!("Bearer {}", app.admin_token()))],
    )
    .await
    .ok();
    let variables = json!({ "id": "ada" });

    // By id alone: the manifest supplies the body.
    let by_id = post(
        &app,
        json!({ "variables": variables, "extensions": persisted(&sha256(LISTED)) }),
        &[],
    )
    .await;
    assert_eq!(by_id.ok()["user"]["goals"][0]["title"], "Trusted");
    let arbitrary_id = post(&app, json!({ "extensions": persisted("typename-v1") }), &[]).await;
    assert_eq!(arbitrary_id.ok()["__typename"], "Query");

    // By identical body.
    let by_body = post(
        &app,
        json!({ "query": LISTED, "variables": variables }),
        &[],
    )
    .await;
    assert_eq!(by_body.ok()["user"]["goals"][0]["title"], "Trusted");

    // Anything else is refused before it runs.
    let before = app.statements();
    let refused = post(
        &app,
        json!({ "query": UNLISTED, "variables": variables }),
        &[],
    )
    .await;
    assert_eq!(
        refused.error_code(),
        Some("PERSISTED_QUERY_NOT_IN_LIST"),
        "{}",
        refused.body
    );
    assert!(refused.body["data"].is_null());
    assert_eq!(app.statements(), before, "nothing ran");
    // Also over GET, and with one character changed.
    let changed = LISTED.replace("goals", "goals ");
    let uri = format!(
        "/graphql?query={}",
        url::form_urlencoded::byte_serialize(changed.as_bytes()).collect::<String>()
    );
    let get = app
        .request(
            Request::get(uri)
                .header("apollo-require-preflight", "true")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(get.error_code(), Some("PERSISTED_QUERY_NOT_IN_LIST"));
}

#[tokio::test]
async fn apq_cannot_smuggle_a_document_past_the_list() {
    let app = spawn(TrustedDocumentsMode::Enforce, None).await;
    let hash = sha256(UNLISTED);
    // Registering an unlisted document is refused, and registers nothing.
    let register = post(
        &app,
        json!({ "query": UNLISTED, "variables": { "id": "ada" }, "extensions": persisted(&hash) }),
        &[],
    )
    .await;
    assert_eq!(register.error_code(), Some("PERSISTED_QUERY_NOT_IN_LIST"));
    let hash_only = json!({ "variables": { "id": "ada" }, "extensions": persisted(&hash) });
    let miss = post(&app, hash_only.clone(), &[]).await;
    assert_eq!(miss.error_code(), Some("PERSISTED_QUERY_NOT_FOUND"));

    // An admin may register it (the bypass), yet a request without the
    // bypass that names it by hash is still refused.
    let admin = [("authorization", format!("Bearer {}", app.admin_token()))];
    let registered = post(
        &app,
        json!({ "query": UNLISTED, "variables": { "id": "ada" }, "extensions": persisted(&hash) }),
        &admin,
    )
    .await;
    registered.ok();
    let by_admin = post(&app, hash_only.clone(), &admin).await;
    by_admin.ok();
    let anonymous = post(&app, hash_only, &[]).await;
    assert_eq!(
        anonymous.error_code(),
        Some("PERSISTED_QUERY_NOT_IN_LIST"),
        "{}",
        anonymous.body
    );
}

#[tokio::test]
async fn the_router_secret_and_an_admin_token_bypass_the_list_but_a_user_token_does_not() {
    let secret = "router-secret-for-trusted-documents";
    let app = spawn(TrustedDocumentsMode::Enforce, Some(secret)).await;
    let body = json!({ "query": UNLISTED, "variables": { "id": "ada" } });
    let from_router = post(
        &app,
        body.clone(),
        &[("router-authorization", secret.to_owned())],
    )
    .await;
    assert_eq!(from_router.status, StatusCode::OK);
    from_router.ok();

    let app = spawn(TrustedDocumentsMode::Enforce, None).await;
    let admin = post(
        &app,
        body.clone(),
        &[("authorization", format!("Bearer {}", app.admin_token()))],
    )
    .await;
    admin.ok();
    let user = post(
        &app,
        body,
        &[("authorization", format!("Bearer {}", app.token("ada")))],
    )
    .await;
    assert_eq!(user.error_code(), Some("PERSISTED_QUERY_NOT_IN_LIST"));
}

#[tokio::test]
async fn log_mode_runs_unknown_documents_and_counts_them() {
    let app = spawn(TrustedDocumentsMode::Log, None).await;
    app.create_goal("ada", "Logged").await;
    let response = post(
        &app,
        json!({ "query": "query Logged($id: ID!) { user(authUserId: $id) { goals { title } } }", "variables": { "id": "ada" } }),
        &[],
    )
    .await;
    assert_eq!(response.ok()["user"]["goals"][0]["title"], "Logged");
    let metrics = app
        .request(Request::get("/metrics").body(Body::empty()).unwrap())
        .await;
    let text = metrics.body.as_str().expect("Prometheus text");
    assert!(
        text.contains("trusted_documents_unknown_total{outcome=\"logged\"}"),
        "{text}"
    );
}

#[tokio::test]
async fn off_ignores_the_manifest_and_a_listing_mode_without_one_does_not_start() {
    let app = spawn(TrustedDocumentsMode::Off, None).await;
    app.graphql(UNLISTED, json!({ "id": "ada" }), None)
        .await
        .ok();
    // A manifest id means nothing with the list off: it is an APQ miss.
    let by_id = post(&app, json!({ "extensions": persisted("typename-v1") }), &[]).await;
    assert_eq!(by_id.error_code(), Some("PERSISTED_QUERY_NOT_FOUND"));

    let mut config = app.config.clone();
    config.platform.trusted_documents = TrustedDocumentsMode::Enforce;
    config.platform.trusted_documents_manifest = None;
    let refused =
        user_service::build_state(config.clone(), app.state.db.clone(), app.clock.clone());
    assert!(
        refused.is_err(),
        "enforce without a manifest must not start"
    );
    config.platform.trusted_documents_manifest = Some(PathBuf::from("/nonexistent/manifest.json"));
    assert!(user_service::build_state(config, app.state.db.clone(), app.clock.clone()).is_err());
}
