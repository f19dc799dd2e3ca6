//! The HTTP surface of the core: GET queries, GET mutations refused, the
//! service info, health and GraphiQL.

use axum::body::Body;
use http::{Request, StatusCode};

use crate::helpers::TestApp;

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

/// A GET to `/graphql` as a non-browser client sends it (CSRF prevention
/// wants a header a browser cannot add cross-site without a preflight).
fn graphql_get(uri: &str) -> Request<Body> {
    Request::get(uri)
        .header("apollo-require-preflight", "true")
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn get_serves_queries() {
    let app = TestApp::spawn().await;
    app.create_goal("gina", "Learn GET").await;
    let response = app
        .request(graphql_get(
            "/graphql?query=%7Buser(authUserId%3A%22gina%22)%7Bgoals%7Btitle%7D%7D%7D",
        ))
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.ok()["user"]["goals"][0]["title"], "Learn GET");
}

#[tokio::test]
async fn get_refuses_mutations_with_405_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let token = app.token("gina");
    let query =
        "mutation%7BcreateGoal(authUserId%3A%22gina%22%2Cinput%3A%7Btitle%3A%22x%22%7D)%7Bid%7D%7D";
    let response = app
        .request(
            Request::get(format!("/graphql?query={query}"))
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
        0
    );
}

#[tokio::test]
async fn info_health_and_graphiql_answer() {
    let app = TestApp::spawn().await;
    let info = app.request(get("/")).await;
    assert_eq!(info.status, StatusCode::OK);
    assert_eq!(info.body["name"], "user-service");
    assert_eq!(info.body["links"]["graphql"], "/graphql");
    let health = app.request(get("/health")).await;
    assert_eq!(health.status, StatusCode::OK);
    let graphiql = app.request(get("/graphiql")).await;
    assert_eq!(graphiql.status, StatusCode::OK);
    assert!(
        graphiql
            .body
            .as_str()
            .unwrap_or_default()
            .contains("/graphql")
    );
}

#[tokio::test]
async fn graphiql_can_be_switched_off() {
    let app = TestApp::spawn_with(|config| config.http.enable_graphiql = Some(false)).await;
    assert_eq!(
        app.request(get("/graphiql")).await.status,
        StatusCode::NOT_FOUND
    );
}
