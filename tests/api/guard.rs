//! The guard and token verification: own id, someone else's id, admin, no
//! token, and every kind of bad token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::helpers::{TEST_SECRET, TestApp};

const CREATE_GOAL: &str =
    "mutation($id: ID!) { createGoal(authUserId: $id, input: { title: \"Guarded\" }) { id } }";

fn sign(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn exp_in(seconds: i64) -> i64 {
    chrono::Utc::now().timestamp() + seconds
}

#[tokio::test]
async fn a_user_may_write_their_own_data() {
    let app = TestApp::spawn().await;
    let response = app
        .graphql_as("alice", CREATE_GOAL, json!({ "id": "alice" }))
        .await;
    response.ok();
    assert_eq!(
        app.count("SELECT count(*) AS n FROM learning_goals WHERE auth_user_id = 'alice'")
            .await,
        1
    );
}

#[tokio::test]
async fn someone_elses_id_is_forbidden_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let response = app
        .graphql_as("mallory", CREATE_GOAL, json!({ "id": "alice" }))
        .await;
    assert_eq!(
        response.error_code(),
        Some("FORBIDDEN"),
        "{:?}",
        response.body
    );
    assert_eq!(response.data()["createGoal"], Value::Null);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM learning_goals").await,
        0
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM auth_users").await, 0);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM activity_events").await,
        0
    );
}

#[tokio::test]
async fn an_admin_may_write_anyones_data() {
    let app = TestApp::spawn().await;
    let token = app.admin_token();
    let response = app
        .graphql(CREATE_GOAL, json!({ "id": "alice" }), Some(&token))
        .await;
    response.ok();
    assert_eq!(
        app.count("SELECT count(*) AS n FROM learning_goals WHERE auth_user_id = 'alice'")
            .await,
        1
    );
}

#[tokio::test]
async fn no_token_is_unauthenticated_for_mutations_and_me() {
    let app = TestApp::spawn().await;
    let response = app
        .graphql(CREATE_GOAL, json!({ "id": "alice" }), None)
        .await;
    assert_eq!(response.error_code(), Some("UNAUTHENTICATED"));
    let response = app.graphql("{ me { authUserId } }", json!({}), None).await;
    assert_eq!(response.error_code(), Some("UNAUTHENTICATED"));
    assert_eq!(app.count("SELECT count(*) AS n FROM auth_users").await, 0);
}

/// Every bad token is refused, on mutations and on public queries alike.
#[tokio::test]
async fn bad_tokens_are_refused_everywhere() {
    let app = TestApp::spawn().await;
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let none_claims =
        URL_SAFE_NO_PAD.encode(json!({ "sub": "alice", "exp": exp_in(3600) }).to_string());
    let bad_tokens = [
        (
            "expired",
            sign(
                &json!({ "sub": "alice", "exp": exp_in(-3600) }),
                TEST_SECRET,
            ),
        ),
        (
            "wrong signature",
            sign(
                &json!({ "sub": "alice", "exp": exp_in(3600) }),
                "another-secret-another-secret-another",
            ),
        ),
        ("alg none", format!("{none_header}.{none_claims}.")),
        ("garbage", "not-a-jwt".to_owned()),
        ("no exp", sign(&json!({ "sub": "alice" }), TEST_SECRET)),
        (
            "bad subject",
            sign(
                &json!({ "sub": "ali ce", "exp": exp_in(3600) }),
                TEST_SECRET,
            ),
        ),
        (
            "not yet valid",
            sign(
                &json!({ "sub": "alice", "exp": exp_in(7200), "nbf": exp_in(3600) }),
                TEST_SECRET,
            ),
        ),
    ];
    for (what, token) in bad_tokens {
        let response = app
            .graphql(CREATE_GOAL, json!({ "id": "alice" }), Some(&token))
            .await;
        assert_eq!(
            response.error_code(),
            Some("UNAUTHENTICATED"),
            "{what}: {:?}",
            response.body
        );
        let response = app
            .graphql(
                "{ user(authUserId: \"alice\") { authUserId } }",
                json!({}),
                Some(&token),
            )
            .await;
        assert_eq!(
            response.error_code(),
            Some("UNAUTHENTICATED"),
            "{what} on a public query"
        );
        assert_eq!(response.status, http::StatusCode::UNAUTHORIZED, "{what}");
        // The message does not explain the token's fault to the client.
        let message = response.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(!message.contains(TEST_SECRET));
    }
    let response = app
        .request(
            http::Request::post("/graphql")
                .header("content-type", "application/json")
                .header("authorization", "Basic YWxpY2U6c2VjcmV0")
                .body(axum::body::Body::from(
                    json!({ "query": "{ __typename }" }).to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(
        response.error_code(),
        Some("UNAUTHENTICATED"),
        "non-bearer scheme"
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM learning_goals").await,
        0
    );
}

#[tokio::test]
async fn a_numeric_subject_is_read_as_its_decimal_string() {
    let app = TestApp::spawn().await;
    let token = sign(&json!({ "sub": 42, "exp": exp_in(3600) }), TEST_SECRET);
    let response = app
        .graphql("{ me { authUserId } }", json!({}), Some(&token))
        .await;
    assert_eq!(response.ok()["me"]["authUserId"], "42");
}

#[tokio::test]
async fn issuer_and_audience_are_checked_when_configured() {
    let app = TestApp::spawn_with(|config| {
        config.auth.jwt_issuer = Some("https://auth.example.com".to_owned());
        config.auth.jwt_audience = Some("user-service".to_owned());
    })
    .await;
    let good = sign(
        &json!({ "sub": "alice", "exp": exp_in(3600), "iss": "https://auth.example.com", "aud": "user-service" }),
        TEST_SECRET,
    );
    let wrong_issuer = sign(
        &json!({ "sub": "alice", "exp": exp_in(3600), "iss": "https://evil.example.com", "aud": "user-service" }),
        TEST_SECRET,
    );
    let wrong_audience = sign(
        &json!({ "sub": "alice", "exp": exp_in(3600), "iss": "https://auth.example.com", "aud": "billing" }),
        TEST_SECRET,
    );
    let query = "{ me { authUserId } }";
    assert_eq!(
        app.graphql(query, json!({}), Some(&good)).await.ok()["me"]["authUserId"],
        "alice"
    );
    for token in [wrong_issuer, wrong_audience] {
        let response = app.graphql(query, json!({}), Some(&token)).await;
        assert_eq!(response.error_code(), Some("UNAUTHENTICATED"));
    }
}
