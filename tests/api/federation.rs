//! Apollo Federation v2: the subgraph SDL, `_service`, `_entities` batched
//! through the `users` loader, and a real Apollo gateway composing this
//! service with a Node `courses` subgraph.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::helpers::TestApp;

const ENTITIES: &str = "query($representations: [_Any!]!) { _entities(representations: $representations) { ... on User { authUserId displayName plan badges { name } goals { title } } } }";

fn representations(ids: &[String]) -> Value {
    json!({
        "representations": ids
            .iter()
            .map(|id| json!({ "__typename": "User", "authUserId": id }))
            .collect::<Vec<_>>()
    })
}

#[tokio::test]
async fn service_sdl_links_federation_v2_and_keys_user_by_auth_user_id() {
    let app = TestApp::spawn().await;
    let response = app.graphql("{ _service { sdl } }", json!({}), None).await;
    let sdl = response.ok()["_service"]["sdl"].as_str().expect("sdl");
    assert!(
        sdl.contains("@link(") && sdl.contains("https://specs.apollo.dev/federation/v2."),
        "{sdl}"
    );
    assert!(
        sdl.contains("type User @key(fields: \"authUserId\")"),
        "{sdl}"
    );
}

#[tokio::test]
async fn entities_resolve_known_unknown_and_malformed_ids() {
    let app = TestApp::spawn().await;
    app.create_goal("ada", "Learn federation").await;
    let response = app
        .graphql(
            ENTITIES,
            json!({ "representations": [
                { "__typename": "User", "authUserId": "ada" },
                { "__typename": "User", "authUserId": "never-seen" },
                { "__typename": "User", "authUserId": "not valid!" },
            ]}),
            None,
        )
        .await;
    // The malformed one is null with a BAD_USER_INPUT error at its index.
    assert_eq!(
        response.error_code(),
        Some("BAD_USER_INPUT"),
        "{}",
        response.body
    );
    assert_eq!(response.body["errors"][0]["path"], json!(["_entities", 2]));
    let entities = response.data()["_entities"].as_array().expect("entities");
    assert_eq!(entities[0]["authUserId"], "ada");
    assert_eq!(entities[0]["goals"][0]["title"], "Learn federation");
    assert_eq!(entities[1]["authUserId"], "never-seen");
    assert_eq!(entities[1]["plan"], "FREE");
    assert_eq!(entities[1]["badges"], json!([]));
    assert_eq!(entities[2], Value::Null);
}

#[tokio::test]
async fn entities_cost_the_same_statements_for_2_and_50_representations() {
    let app = TestApp::spawn().await;
    let ids: Vec<String> = (0..50).map(|n| format!("entity-{n}")).collect();
    for id in ids.iter().take(5) {
        app.create_goal(id, "Goal").await;
        app.create_badge(id, "Badge").await;
    }
    let mut costs = Vec::new();
    for set in [&ids[..1], &ids[..2], &ids[..]] {
        let before = app.statements();
        let response = app.graphql(ENTITIES, representations(set), None).await;
        let entities = response.ok()["_entities"].as_array().expect("entities");
        assert_eq!(entities.len(), set.len());
        costs.push(app.statements() - before);
    }
    assert!(costs[0] > 0);
    assert!(costs[0] <= costs[1], "1 vs 2 representations: {costs:?}");
    assert_eq!(costs[1], costs[2], "2 vs 50 representations: {costs:?}");
}

#[tokio::test]
async fn service_sdl_answers_with_introspection_off_while_schema_introspection_is_refused() {
    let app = TestApp::spawn_with(|config| {
        config.app_env = user_service::config::AppEnv::Production;
        config.http.enable_introspection = None;
    })
    .await;
    let sdl = app.graphql("{ _service { sdl } }", json!({}), None).await;
    assert!(sdl.ok()["_service"]["sdl"].as_str().is_some());
    let introspection = app
        .graphql("{ __schema { types { name } } }", json!({}), None)
        .await;
    assert_eq!(
        introspection.error_code(),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{}",
        introspection.body
    );
    let hidden = app
        .graphql(
            "query { ...F } fragment F on Query { __type(name: \"User\") { name } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(hidden.error_code(), Some("GRAPHQL_VALIDATION_FAILED"));
}

// ---------------------------------------------------------------------
// The real gateway.

fn federation_dir() -> PathBuf {
    crate::helpers::node::test_dir("federation")
}

/// `npm ci` in `tests/federation` when needed (see [`crate::helpers::node`]).
pub(crate) fn ensure_node_modules() {
    crate::helpers::node::ensure_node_modules(&federation_dir());
}

/// The Node process running the courses subgraph and the gateway; killed
/// when dropped, also when the test panics.
pub(crate) struct NodeGateway {
    child: tokio::process::Child,
    pub(crate) url: String,
}

impl Drop for NodeGateway {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

async fn start_gateway(users_url: &str, router_secret: &str) -> NodeGateway {
    start_gateway_with(users_url, router_secret, &[]).await
}

/// The gateway over `users_url` (replicas: several, comma separated),
/// with more environment for `gateway.mjs`.
pub(crate) async fn start_gateway_with(
    users_url: &str,
    router_secret: &str,
    env: &[(&str, &str)],
) -> NodeGateway {
    let mut child = tokio::process::Command::new("node")
        .arg("gateway.mjs")
        .current_dir(federation_dir())
        .env("USERS_URL", users_url)
        .env("ROUTER_SECRET", router_secret)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start node");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    // Wait for the ready line; pass anything else the process prints on.
    let wait = async {
        while let Some(line) = lines.next_line().await.expect("read the gateway's stdout") {
            match serde_json::from_str::<Value>(&line) {
                Ok(ready) if ready["gateway"].is_string() => return Some(ready),
                _ => eprintln!("[gateway] {line}"),
            }
        }
        None
    };
    let ready = tokio::time::timeout(Duration::from_secs(60), wait)
        .await
        .expect("the gateway did not start within 60 s")
        .expect("the gateway exited before it was ready (see its output above)");
    let url = ready["gateway"].as_str().expect("gateway url").to_owned();
    // Keep draining stdout so the process never blocks on a full pipe.
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            eprintln!("[gateway] {line}");
        }
    });
    NodeGateway { child, url }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apollo_gateway_composes_users_with_courses_and_batches_the_entity_fetch() {
    tokio::task::spawn_blocking(ensure_node_modules)
        .await
        .expect("npm ci");
    let secret = "router-secret-for-the-gateway-test";
    let app = TestApp::spawn_with(|config| {
        config.http.router_secret = Some(secret.to_owned().into());
        // The gateway composes with `_service`, which must not need
        // introspection.
        config.http.enable_introspection = Some(false);
    })
    .await;
    // Set-up through the router too: only the gateway's secret gets in.
    let as_gateway = |sub: &str, query: &str, variables: Value| {
        let body = json!({ "query": query, "variables": variables }).to_string();
        http::Request::post("/graphql")
            .header("content-type", "application/json")
            .header("router-authorization", secret)
            .header("authorization", format!("Bearer {}", app.token(sub)))
            .body(axum::body::Body::from(body))
            .unwrap()
    };
    for (id, name) in [("ada", "Ada"), ("grace", "Grace"), ("linus", "Linus")] {
        app.request(as_gateway(
            id,
            "mutation($id: ID!, $name: String!) { updateProfile(authUserId: $id, input: { displayName: $name }) { authUserId } }",
            json!({ "id": id, "name": name }),
        ))
        .await
        .ok();
        app.request(as_gateway(
            id,
            "mutation($id: ID!, $name: String!) { createBadge(authUserId: $id, input: { name: $name }) { id } }",
            json!({ "id": id, "name": format!("{name}'s badge") }),
        ))
        .await
        .ok();
    }

    // Count the requests that reach this subgraph.
    let entity_calls = Arc::new(AtomicUsize::new(0));
    let counter = entity_calls.clone();
    let router = app.router.clone().layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                next.run(request).await
            }
        },
    ));
    let server = crate::helpers::ServedApp::start(router).await;
    let gateway = start_gateway(&format!("{}/graphql", server.url()), secret).await;

    let client = crate::helpers::http_client();
    let query = "{ courses { id title author { authUserId displayName plan badges { name } } } }";
    let before_calls = entity_calls.load(Ordering::SeqCst);
    let before_statements = app.statements();
    let response: Value = client
        .post(&gateway.url)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("gateway answers")
        .json()
        .await
        .expect("gateway JSON");
    let calls = entity_calls.load(Ordering::SeqCst) - before_calls;
    let statements = app.statements() - before_statements;

    assert!(response.get("errors").is_none(), "{response}");
    let courses = response["data"]["courses"].as_array().expect("courses");
    assert_eq!(courses.len(), 4, "{response}");
    let by_id = |id: &str| {
        courses
            .iter()
            .find(|course| course["id"] == id)
            .unwrap_or_else(|| panic!("course {id} in {response}"))
    };
    assert_eq!(by_id("c1")["title"], "Rust for GraphQL");
    assert_eq!(by_id("c1")["author"]["displayName"], "Ada");
    assert_eq!(by_id("c1")["author"]["badges"][0]["name"], "Ada's badge");
    assert_eq!(by_id("c2")["author"]["displayName"], "Grace");
    assert_eq!(by_id("c3")["author"]["displayName"], "Linus");
    assert_eq!(by_id("c3")["author"]["plan"], "FREE");
    assert_eq!(by_id("c4")["author"]["authUserId"], "ada");
    assert_eq!(
        calls, 1,
        "one `_entities` fetch for every author of the query"
    );
    // The same statements as two entities asked for directly: one batch
    // for the users, one for their badges (one entity alone would be one
    // statement, its badges read with it).
    let before = app.statements();
    let mut direct = as_gateway(
        "ada",
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { authUserId displayName plan badges { name } } } }",
        json!({ "r": [
            { "__typename": "User", "authUserId": "ada" },
            { "__typename": "User", "authUserId": "grace" },
        ] }),
    );
    direct.headers_mut().remove("authorization");
    app.request(direct).await.ok();
    let direct = app.statements() - before;
    assert_eq!(
        statements, direct,
        "three authors through the gateway vs two direct"
    );

    // Both subgraphs define `PageInfo` (shareable): the supergraph composes
    // and one query pages through both.
    let paged: Value = client
        .post(&gateway.url)
        .json(&json!({ "query": "{ coursesConnection(first: 2) {
            totalCount pageInfo { hasNextPage endCursor }
            edges { node { title author { authUserId
                badgesConnection(first: 1) { totalCount pageInfo { hasNextPage endCursor } edges { node { name } } }
            } } }
        } }" }))
        .send()
        .await
        .expect("gateway answers")
        .json()
        .await
        .expect("gateway JSON");
    assert!(paged.get("errors").is_none(), "{paged}");
    let connection = &paged["data"]["coursesConnection"];
    assert_eq!(connection["totalCount"], 4, "{paged}");
    assert_eq!(connection["pageInfo"]["hasNextPage"], true, "{paged}");
    let first = &connection["edges"][0]["node"];
    assert_eq!(first["title"], "Rust for GraphQL", "{paged}");
    let badges = &first["author"]["badgesConnection"];
    assert_eq!(badges["totalCount"], 1, "{paged}");
    assert_eq!(badges["edges"][0]["node"]["name"], "Ada's badge", "{paged}");
    assert_eq!(badges["pageInfo"]["hasNextPage"], false, "{paged}");
    assert!(badges["pageInfo"]["endCursor"].is_string(), "{paged}");

    // Around the gateway, the subgraph refuses.
    let direct = client
        .post(format!("{}/graphql", server.url()))
        .json(&json!({ "query": "{ _service { sdl } }" }))
        .send()
        .await
        .expect("direct call");
    assert_eq!(direct.status(), reqwest::StatusCode::FORBIDDEN);
}
