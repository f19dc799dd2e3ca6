//! GraphQL over HTTP: media type negotiation and its status codes, CSRF
//! prevention, router-only mode, the batch cap and automatic persisted
//! queries (over POST and GET).

use axum::body::Body;
use http::{Request, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::TestApp;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

fn post() -> http::request::Builder {
    Request::post("/graphql").header("content-type", "application/json")
}

fn json_body(body: Value) -> Body {
    Body::from(body.to_string())
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[tokio::test]
async fn graphql_response_json_uses_400_for_request_errors_and_200_otherwise() {
    let app = TestApp::spawn().await;
    let invalid = json!({ "query": "{ nope }" });
    let response = app
        .request(
            post()
                .header("accept", GRAPHQL_RESPONSE)
                .body(json_body(invalid.clone()))
                .unwrap(),
        )
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(response.headers["content-type"], GRAPHQL_RESPONSE);
    assert_eq!(response.error_code(), Some("GRAPHQL_VALIDATION_FAILED"));

    let unparsable = json!({ "query": "{ user(" });
    let response = app
        .request(
            post()
                .header("accept", GRAPHQL_RESPONSE)
                .body(json_body(unparsable))
                .unwrap(),
        )
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(response.error_code(), Some("GRAPHQL_PARSE_FAILED"));

    // A field error (here `me` without a token) is still a GraphQL response: 200.
    let field_error = json!({ "query": "{ me { authUserId } }" });
    let response = app
        .request(
            post()
                .header("accept", GRAPHQL_RESPONSE)
                .body(json_body(field_error))
                .unwrap(),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.error_code(), Some("UNAUTHENTICATED"));

    // application/json (the default): 200 even for a request error.
    let response = app
        .request(post().body(json_body(invalid.clone())).unwrap())
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.headers["content-type"], "application/json");
    assert_eq!(response.error_code(), Some("GRAPHQL_VALIDATION_FAILED"));

    // Neither media type acceptable: 406.
    let response = app
        .request(
            post()
                .header("accept", "text/html")
                .body(json_body(invalid))
                .unwrap(),
        )
        .await;
    assert_eq!(response.status, StatusCode::NOT_ACCEPTABLE);
}

#[tokio::test]
async fn csrf_prevention_refuses_simple_requests() {
    let app = TestApp::spawn().await;
    let body = json!({ "query": "{ __typename }" }).to_string();
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let response = app
            .request(
                Request::post("/graphql")
                    .header("content-type", content_type)
                    .body(Body::from(body.clone()))
                    .unwrap(),
            )
            .await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{content_type}");
        assert!(
            response.body["errors"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("CSRF"),
            "{}",
            response.body
        );
    }
    let no_type = app
        .request(Request::post("/graphql").body(Body::from(body)).unwrap())
        .await;
    assert_eq!(no_type.status, StatusCode::BAD_REQUEST);

    // GET needs a preflight-forcing header too.
    let uri = format!("/graphql?query={}", encode("{ __typename }"));
    let bare = app
        .request(Request::get(&uri).body(Body::empty()).unwrap())
        .await;
    assert_eq!(bare.status, StatusCode::BAD_REQUEST);
    let with_header = app
        .request(
            Request::get(&uri)
                .header("apollo-require-preflight", "true")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(with_header.status, StatusCode::OK);
    assert_eq!(with_header.ok()["__typename"], "Query");
}

#[tokio::test]
async fn router_only_mode_needs_the_shared_secret() {
    let secret = "a-long-shared-secret-between-gateway-and-subgraph";
    let app = TestApp::spawn_with(|config| {
        config.http.router_secret = Some(secret.to_owned().into());
    })
    .await;
    let body = json!({ "query": "{ __typename }" });
    for presented in [None, Some("wrong"), Some("")] {
        let mut request = post();
        if let Some(presented) = presented {
            request = request.header("router-authorization", presented);
        }
        let response = app
            .request(request.body(json_body(body.clone())).unwrap())
            .await;
        assert_eq!(response.status, StatusCode::FORBIDDEN, "{presented:?}");
        assert_eq!(response.error_code(), Some("FORBIDDEN"));
    }
    let response = app
        .request(
            post()
                .header("router-authorization", secret)
                .body(json_body(body.clone()))
                .unwrap(),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.ok()["__typename"], "Query");
    // The other endpoints stay open.
    let health = app
        .request(Request::get("/health").body(Body::empty()).unwrap())
        .await;
    assert_eq!(health.status, StatusCode::OK);
}

#[tokio::test]
async fn batches_are_answered_up_to_the_cap_and_a_batch_of_1000_is_refused() {
    let app = TestApp::spawn().await;
    let batch = json!([
        { "query": "{ __typename }" },
        { "query": "query Two { user(authUserId: \"nobody\") { authUserId } }" },
    ]);
    let response = app
        .request(post().body(json_body(batch.clone())).unwrap())
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body[0]["data"]["__typename"], "Query");
    assert_eq!(response.body[1]["data"]["user"], Value::Null);

    let before = app.statements();
    let abusive = Value::Array(vec![
        json!({ "query": "{ user(authUserId: \"x\") { authUserId } }" });
        1000
    ]);
    let response = app
        .request(post().body(json_body(abusive.clone())).unwrap())
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(response.error_code(), Some("GRAPHQL_VALIDATION_FAILED"));
    assert!(
        response.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("1000")
    );
    assert_eq!(app.statements(), before, "nothing ran");
}

fn sha256(query: &str) -> String {
    hex::encode(Sha256::digest(query.as_bytes()))
}

#[tokio::test]
async fn automatic_persisted_queries_register_then_answer_by_hash() {
    let app = TestApp::spawn().await;
    app.create_goal("pat", "Persist").await;
    let query = "query Goals($id: ID!) { user(authUserId: $id) { goals { title } } }";
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256(query) } });
    let variables = json!({ "id": "pat" });

    let hash_only = json!({ "variables": variables, "extensions": extensions });
    let miss = app
        .request(post().body(json_body(hash_only.clone())).unwrap())
        .await;
    assert_eq!(miss.body["errors"][0]["message"], "PersistedQueryNotFound");
    assert_eq!(miss.error_code(), Some("PERSISTED_QUERY_NOT_FOUND"));

    let register = json!({ "query": query, "variables": variables, "extensions": extensions });
    let registered = app
        .request(post().body(json_body(register.clone())).unwrap())
        .await;
    assert_eq!(registered.ok()["user"]["goals"][0]["title"], "Persist");

    let hit = app
        .request(post().body(json_body(hash_only.clone())).unwrap())
        .await;
    assert_eq!(hit.ok()["user"]["goals"][0]["title"], "Persist");

    // Over GET, by hash only.
    let uri = format!(
        "/graphql?operationName=Goals&variables={}&extensions={}",
        encode(&variables.to_string()),
        encode(&extensions.to_string())
    );
    let get = app
        .request(
            Request::get(uri)
                .header("apollo-require-preflight", "true")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(get.status, StatusCode::OK, "{}", get.body);
    assert_eq!(get.ok()["user"]["goals"][0]["title"], "Persist");

    // A hash that does not match its query is refused.
    let forged = json!({ "query": "{ __typename }", "extensions": extensions });
    let forged = app
        .request(post().body(json_body(forged.clone())).unwrap())
        .await;
    assert!(forged.body["errors"].is_array());
}

#[tokio::test]
async fn a_persisted_mutation_is_refused_over_get() {
    let app = TestApp::spawn().await;
    let token = app.token("pat");
    let mutation =
        "mutation { createGoal(authUserId: \"pat\", input: { title: \"Sneaky\" }) { id } }";
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256(mutation) } });
    let register = json!({ "query": mutation, "extensions": extensions });
    app.request(
        post()
            .header("authorization", format!("Bearer {token}"))
            .body(json_body(register))
            .unwrap(),
    )
    .await
    .ok();
    assert_eq!(
        app.count("SELECT count(*) AS n FROM learning_goals").await,
        1
    );

    let uri = format!("/graphql?extensions={}", encode(&extensions.to_string()));
    let response = app
        .request(
            Request::get(uri)
                .header("apollo-require-preflight", "true")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers["allow"], "POST");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM learning_goals").await,
        1
    );
}
