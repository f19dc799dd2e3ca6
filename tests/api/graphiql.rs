//! GraphiQL without a CDN (issue 12): the embedded assets, the page's CSP,
//! and a real browser (Debian's Chromium, network closed) running the
//! pre-filled operation and a signed-in one from the page.

use axum::body::Body;
use http::{Request, StatusCode};
use serde_json::{Value, json};

use crate::helpers::browser::run_browser_script;
use crate::helpers::{ServedApp, TestApp};

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

/// The `src` and `href` of the page that point at this origin.
fn asset_paths(html: &str) -> Vec<String> {
    html.split(['"', '\''])
        .filter(|part| part.starts_with("/graphiql/assets/"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_page_has_a_strict_csp_and_every_asset_comes_from_the_binary() {
    let app = TestApp::spawn().await;
    let page = app.request(get("/graphiql")).await;
    assert_eq!(page.status, StatusCode::OK);
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'none'",
        "script-src 'self';",
        "style-src 'self';",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    let html = page.body.as_str().expect("HTML");
    assert!(
        !html.contains("cdn") && !html.contains("https://"),
        "{html}"
    );
    assert!(
        html.contains("query Profile"),
        "the example operation: {html}"
    );
    assert!(
        html.contains("Authorization"),
        "the header template: {html}"
    );
    let assets = asset_paths(html);
    assert_eq!(assets.len(), 6, "{assets:?}");
    for path in &assets {
        let asset = app.request(get(path)).await;
        assert_eq!(asset.status, StatusCode::OK, "{path}");
        assert!(
            asset.headers["cache-control"]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
        let body = asset.body.as_str().map_or(0, str::len);
        assert!(body > 100, "{path} is {body} bytes");
    }
    let graphiql = assets
        .iter()
        .find(|path| path.ends_with("/graphiql.min.js"))
        .expect("graphiql.min.js");
    let stale = graphiql.replace("/assets/", "/assets/0-");
    assert_eq!(app.request(get(&stale)).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_browser_runs_the_prefilled_operation_and_a_signed_in_one_offline() {
    let app = TestApp::spawn().await;
    app.graphql_as(
        "42",
        "mutation { updateProfile(authUserId: \"42\", input: { displayName: \"Ada from GraphiQL\" }) { displayName } }",
        json!({}),
    )
    .await
    .ok();
    let server = ServedApp::start(app.router.clone()).await;
    let result = run_browser_script(
        "graphiql.mjs",
        &[
            ("PAGE_URL", format!("{}/graphiql", server.url())),
            ("TOKEN", app.token("42")),
        ],
    )
    .await;
    assert!(result.get("error").is_none(), "{result:#}");
    let editors: Vec<&str> = result["editors"]
        .as_array()
        .expect("editors")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        editors.iter().any(|text| text.contains("query Profile")),
        "{editors:?}"
    );
    assert!(
        editors
            .iter()
            .any(|text| text.contains("\"Authorization\": \"Bearer <")),
        "{editors:?}"
    );
    let anonymous: Value =
        serde_json::from_str(result["anonymous"].as_str().expect("answer")).expect("JSON answer");
    assert_eq!(
        anonymous["data"]["user"]["displayName"], "Ada from GraphiQL",
        "{anonymous}"
    );
    let signed_in: Value =
        serde_json::from_str(result["signedIn"].as_str().expect("answer")).expect("JSON answer");
    assert_eq!(signed_in["data"]["me"]["authUserId"], "42", "{signed_in}");
    assert_eq!(result["external"], json!([]), "no request left the origin");
    assert_eq!(
        result["consoleErrors"],
        json!([]),
        "no CSP violation or script error"
    );
}

/// Issue 11: GraphiQL reaches the subscriptions. A real browser (the
/// network closed) runs `myActivity` from the page with the token in the
/// Headers tab, over the WebSocket on `/graphql`; a change made from the
/// page arrives in the response pane.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_browser_runs_a_subscription_from_graphiql_and_sees_the_event() {
    let app = TestApp::spawn().await;
    let server = ServedApp::start(app.router.clone()).await;
    let result = run_browser_script(
        "graphiql_subscription.mjs",
        &[
            ("PAGE_URL", format!("{}/graphiql", server.url())),
            ("TOKEN", app.token("ada")),
            ("USER_ID", "ada".to_owned()),
        ],
    )
    .await;
    assert!(result.get("error").is_none(), "{result:#}");
    assert_eq!(result["mutation"], 200, "{result:#}");
    let event: Value =
        serde_json::from_str(result["event"].as_str().expect("event")).expect("JSON event");
    assert_eq!(
        event["data"]["myActivity"]["kind"], "GOAL_CREATED",
        "{event}"
    );
    let frames: Vec<&str> = result["frames"]
        .as_array()
        .expect("frames")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for expected in [
        "sent connection_init",
        "received connection_ack",
        "sent subscribe",
        "received next",
    ] {
        assert!(frames.contains(&expected), "{expected} in {frames:?}");
    }
    assert_eq!(result["external"], json!([]), "{result:#}");
    assert_eq!(result["consoleErrors"], json!([]), "{result:#}");
}
