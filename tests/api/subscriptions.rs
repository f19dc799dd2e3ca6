//! Subscriptions over WebSocket on `/graphql`: subscribe, mutate, receive
//! (both protocols); the token in `connection_init` checked like the HTTP
//! header (an invalid one is refused, never anonymous); the connection
//! closed when its token expires; privacy on `userUpdated`; the limits
//! (connections per user and per address, subscriptions per connection,
//! init and idle timeouts) and a slow client dropped with memory bounded.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use user_service::config::Config;

use crate::helpers::{
    LEGACY_WS, Received, ServedApp, TEST_SECRET, TRANSPORT_WS, TestApp, WsClient,
};

const SECOND: Duration = Duration::from_secs(1);
const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

async fn serve(configure: impl FnOnce(&mut Config)) -> (TestApp, ServedApp) {
    let app = TestApp::spawn_with(configure).await;
    let server = ServedApp::start(app.router.clone()).await;
    (app, server)
}

/// Waits until this process's hub has `n` subscribers (a subscription is
/// live once its resolver ran, which the protocol does not acknowledge).
async fn wait_for_subscribers(app: &TestApp, n: usize) {
    for _ in 0..200 {
        if app.state.live.subscribers() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{} subscribers, expected {n}", app.state.live.subscribers());
}

/// The `extensions.code` of an error message, in either protocol's shape.
fn error_code(message: &Value) -> Option<&str> {
    let payload = &message["payload"];
    let errors = if payload.is_array() {
        payload
    } else {
        &payload["errors"]
    };
    errors[0]["extensions"]["code"].as_str()
}

async fn check_in(app: &TestApp, sub: &str, goal: &str) {
    app.graphql_as(
        sub,
        "mutation($u: ID!, $g: ID!) { checkInGoal(authUserId: $u, goalId: $g) { streakCount } }",
        json!({ "u": sub, "g": goal }),
    )
    .await
    .ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_receive_committed_changes_over_both_protocols() {
    for protocol in [TRANSPORT_WS, LEGACY_WS] {
        let (app, server) = serve(|_| {}).await;
        let goal = app.create_goal("ada", "Rust").await;
        let mut ws = WsClient::connect(server.addr, protocol)
            .await
            .expect("upgrade");
        ws.init_with_token(&app.token("ada")).await;
        ws.subscribe(
            "mine",
            "subscription { myActivity { kind summary goalId } }",
            json!({}),
        )
        .await;
        ws.subscribe(
            "goal",
            "subscription($g: ID!) { goalUpdated(goalId: $g) { id streakCount lastCheckInOn status } }",
            json!({ "g": goal }),
        )
        .await;
        wait_for_subscribers(&app, 2).await;

        // Someone else's change reaches neither subscription.
        app.create_goal("bob", "Not Ada's").await;
        check_in(&app, "ada", &goal).await;

        let mut seen = Vec::new();
        for _ in 0..2 {
            let message = ws.next_data(5 * SECOND).await;
            seen.push((message["id"].as_str().unwrap().to_owned(), message));
        }
        seen.sort_by(|a, b| a.0.cmp(&b.0));
        let goal_event = &seen[0].1["payload"]["data"]["goalUpdated"];
        assert_eq!(goal_event["id"], goal.as_str(), "{protocol}: {seen:?}");
        assert_eq!(goal_event["streakCount"], 1);
        assert_eq!(goal_event["lastCheckInOn"], "2026-11-21");
        assert_eq!(goal_event["status"], "IN_PROGRESS");
        let activity = &seen[1].1["payload"]["data"]["myActivity"];
        assert_eq!(activity["kind"], "GOAL_CHECKED_IN", "{protocol}: {seen:?}");
        assert_eq!(activity["goalId"], goal.as_str());
        ws.expect_silence(SECOND / 2).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn goal_updated_is_not_found_for_someone_elses_goal_and_my_activity_needs_a_token() {
    let (app, server) = serve(|_| {}).await;
    let bobs = app.create_goal("bob", "Bob's").await;
    let mut ws = WsClient::connect(server.addr, TRANSPORT_WS)
        .await
        .expect("upgrade");
    ws.init_with_token(&app.token("ada")).await;
    ws.subscribe(
        "1",
        "subscription($g: ID!) { goalUpdated(goalId: $g) { id } }",
        json!({ "g": bobs }),
    )
    .await;
    let Received::Json(refusal) = ws.next(5 * SECOND).await else {
        panic!("an error")
    };
    assert_eq!(error_code(&refusal), Some("NOT_FOUND"), "{refusal}");

    // No token: anonymous, and myActivity is refused (userUpdated is public).
    let mut anonymous = WsClient::connect(server.addr, TRANSPORT_WS)
        .await
        .expect("upgrade");
    let Received::Json(ack) = anonymous.init(json!({})).await else {
        panic!("ack")
    };
    assert_eq!(ack["type"], "connection_ack");
    anonymous
        .subscribe("1", "subscription { myActivity { kind } }", json!({}))
        .await;
    let Received::Json(refusal) = anonymous.next(5 * SECOND).await else {
        panic!("an error")
    };
    assert_eq!(error_code(&refusal), Some("UNAUTHENTICATED"), "{refusal}");
}

fn sign(claims: Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_token_in_connection_init_is_refused_never_anonymous() {
    let (app, server) = serve(|_| {}).await;
    let now = chrono::Utc::now().timestamp();
    let expired = sign(json!({ "sub": "ada", "exp": now - 3600 }), TEST_SECRET);
    let foreign = sign(
        json!({ "sub": "ada", "exp": now + 3600 }),
        "another-secret-another-secret-1234",
    );
    let none_alg = format!(
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.",
        base64_url(&json!({ "sub": "ada", "exp": now + 3600 }).to_string())
    );
    let payloads = [
        json!({ "Authorization": "Bearer garbage" }),
        json!({ "Authorization": format!("Bearer {expired}") }),
        json!({ "Authorization": format!("Bearer {foreign}") }),
        json!({ "authorization": format!("Bearer {none_alg}") }),
        json!({ "headers": { "Authorization": "Basic YWRhOnB3" } }),
        json!({ "Authorization": 42 }),
        json!({ "Authorization": "" }),
    ];
    for payload in payloads {
        let mut ws = WsClient::connect(server.addr, TRANSPORT_WS)
            .await
            .expect("upgrade");
        match ws.init(payload.clone()).await {
            Received::Closed(Some(4403)) => {}
            other => panic!("{payload}: expected close 4403, got {other:?}"),
        }
        // The legacy protocol answers connection_error, then closes.
        let mut legacy = WsClient::connect(server.addr, LEGACY_WS)
            .await
            .expect("upgrade");
        match legacy.init(payload.clone()).await {
            Received::Json(message) if message["type"] == "connection_error" => {}
            other => panic!("{payload}: expected connection_error, got {other:?}"),
        }
        match legacy.next(5 * SECOND).await {
            Received::Closed(Some(4403)) => {}
            other => panic!("{payload}: expected close 4403, got {other:?}"),
        }
    }
    assert_eq!(app.state.live.subscribers(), 0);
}

fn base64_url(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_closes_when_its_token_expires() {
    let (app, server) = serve(|_| {}).await;
    let now = chrono::Utc::now().timestamp();
    let short = sign(json!({ "sub": "ada", "exp": now + 2 }), TEST_SECRET);
    let mut ws = WsClient::connect(server.addr, TRANSPORT_WS)
        .await
        .expect("upgrade");
    ws.init_with_token(&short).await;
    ws.subscribe("1", "subscription { myActivity { kind } }", json!({}))
        .await;
    wait_for_subscribers(&app, 1).await;
    let started = std::time::Instant::now();
    match ws.next(6 * SECOND).await {
        Received::Closed(Some(4401)) => {}
        other => panic!("expected close 4401, got {other:?}"),
    }
    assert!(started.elapsed() <= Duration::from_secs(4));
    // The subscription went with the connection.
    for _ in 0..40 {
        if app.state.live.subscribers() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.state.live.subscribers(), 0);
}

const PRIVATE_FIELDS: &str = "subscription($u: ID!) { userUpdated(authUserId: $u) {
    authUserId displayName bio goals { title } stats { goalCount } email
} }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_updated_obeys_privacy_like_user() {
    let (app, server) = serve(|_| {}).await;
    app.graphql_as(
        "priv",
        "mutation { updateProfile(authUserId: \"priv\", input: { displayName: \"P\", bio: \"secret bio\" }) { bio } }",
        json!({}),
    )
    .await
    .ok();
    app.graphql_as(
        "priv",
        "mutation { updatePreferences(authUserId: \"priv\", input: { profileVisibility: PRIVATE }) { profileVisibility } }",
        json!({}),
    )
    .await
    .ok();

    let mut stranger = WsClient::connect(server.addr, TRANSPORT_WS)
        .await
        .expect("upgrade");
    stranger.init_with_token(&app.token("stranger")).await;
    stranger
        .subscribe("1", PRIVATE_FIELDS, json!({ "u": "priv" }))
        .await;
    let mut owner = WsClient::connect(server.addr, LEGACY_WS)
        .await
        .expect("upgrade");
    owner.init_with_token(&app.token("priv")).await;
    owner
        .subscribe("1", PRIVATE_FIELDS, json!({ "u": "priv" }))
        .await;
    wait_for_subscribers(&app, 2).await;

    // A new goal: the owner hears of it; the stranger hears nothing, not
    // even that something happened.
    app.create_goal("priv", "Hidden goal").await;
    let event = owner.next_data(5 * SECOND).await;
    let user = &event["payload"]["data"]["userUpdated"];
    assert_eq!(user["goals"][0]["title"], "Hidden goal", "{event}");
    assert_eq!(user["stats"]["goalCount"], 1);
    assert_eq!(user["bio"], "secret bio");
    stranger.expect_silence(SECOND).await;

    // A change to the public card: the stranger sees the card only.
    app.graphql_as(
        "priv",
        "mutation { updateProfile(authUserId: \"priv\", input: { displayName: \"Private Person\" }) { displayName } }",
        json!({}),
    )
    .await
    .ok();
    let event = stranger.next_data(5 * SECOND).await;
    let user = &event["payload"]["data"]["userUpdated"];
    assert_eq!(user["displayName"], "Private Person", "{event}");
    assert_eq!(user["bio"], Value::Null, "{event}");
    assert_eq!(user["email"], Value::Null, "{event}");
    assert_eq!(user["goals"], json!([]), "{event}");
    assert_eq!(user["stats"]["goalCount"], 0, "{event}");
    let event = owner.next_data(5 * SECOND).await;
    assert_eq!(
        event["payload"]["data"]["userUpdated"]["bio"], "secret bio",
        "{event}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_per_user_and_subscriptions_per_connection_are_capped() {
    let (app, server) = serve(|config| {
        config.subscriptions.subscription_max_connections_per_user = 1;
        config.subscriptions.subscription_max_per_connection = 1;
    })
    .await;
    let mut first = WsClient::connect(server.addr, TRANSPORT_WS)
        .await
        .expect("upgrade");
    first.init_with_token(&app.token("ada")).await;
    let mut second = WsClient::connect(server.addr, TRANSPORT_WS)
        .await
        .expect("upgrade");
    match second
        .init(json!({ "Authorization": format!("Bearer {}", app.token("ada")) }))
        .await
    {
        Received::Closed(Some(4429)) => {}
        other => panic!("expected close 4429, got {other:?}"),
    }
    assert_eq!(app.state.live.connections().of_user("ada"), 1);

    first
        .subscribe("1", "subscription { myActivity { kind } }", json!({}))
        .await;
    wait_for_subscribers(&app, 1).await;
    first
        .subscribe("2", "subscription { myActivity { kind } }", json!({}))
        .await;
    let Received::Json(refusal) = first.next(5 * SECOND).await else {
        panic!("an error")
    };
    assert_eq!(refusal["id"], "2", "{refusal}");
    assert_eq!(error_code(&refusal), Some("BAD_USER_INPUT"), "{refusal}");
    match first.next(5 * SECOND).await {
        Received::Json(complete) if complete["type"] == "complete" && complete["id"] == "2" => {}
        other => panic!("expected the refused subscription to complete, got {other:?}"),
    }
    // The first one still works.
    app.create_goal("ada", "Still live").await;
    let event = first.next_data(5 * SECOND).await;
    assert_eq!(event["id"], "1");

    // Once the first connection is gone, ada may connect again.
    drop(first);
    for _ in 0..40 {
        if app.state.live.connections().of_user("ada") == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut again = WsClient::connect(server.addr, TRANSPORT_WS)
        .await
        .expect("upgrade");
    again.init_with_token(&app.token("ada")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_per_address_are_capped_before_the_upgrade() {
    let (_app, server) = serve(|config| {
        config.subscriptions.subscription_max_connections_per_ip = 2;
    })
    .await;
    let _a = WsClient::connect(server.addr, TRANSPORT_WS)
        .await
        .expect("upgrade");
    let _b = WsClient::connect(server.addr, LEGACY_WS)
        .await
        .expect("upgrade");
    match WsClient::connect(server.addr, TRANSPORT_WS).await {
        Err(refused) => assert_eq!(refused.0, 429),
        Ok(_) => panic!("a third connection from one address"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_clients_and_clients_that_never_init_are_closed() {
    let (_app, server) = serve(|config| {
        config.subscriptions.subscription_init_timeout = Duration::from_millis(300);
        config.subscriptions.subscription_ping_interval = Duration::from_millis(100);
        config.subscriptions.subscription_idle_timeout = Duration::from_millis(600);
    })
    .await;
    let mut never_init = WsClient::connect(server.addr, TRANSPORT_WS)
        .await
        .expect("upgrade");
    match never_init.next(5 * SECOND).await {
        Received::Closed(Some(4408)) => {}
        other => panic!("expected close 4408, got {other:?}"),
    }

    // A client that reads answers the server's pings and stays.
    let mut alive = WsClient::connect(server.addr, TRANSPORT_WS)
        .await
        .expect("upgrade");
    let Received::Json(_) = alive.init(json!({})).await else {
        panic!("ack")
    };
    alive.expect_silence(2 * SECOND).await;

    // A client that stops reading (no pongs, nothing) is closed.
    let mut silent = WsClient::connect(server.addr, TRANSPORT_WS)
        .await
        .expect("upgrade");
    let Received::Json(_) = silent.init(json!({})).await else {
        panic!("ack")
    };
    tokio::time::sleep(2 * SECOND).await;
    // Closed (with 4408, unless the server's close raced our late pongs
    // into a reset).
    match silent.next(5 * SECOND).await {
        Received::Closed(Some(4408) | None) => {}
        other => panic!("expected the connection closed, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_read_is_dropped_and_its_memory_released() {
    let (app, server) = serve(|config| {
        config.subscriptions.subscription_buffer = 4;
        config.subscriptions.subscription_send_timeout = Duration::from_millis(300);
        config.subscriptions.subscription_idle_timeout = Duration::from_secs(60);
    })
    .await;
    let bio = "b".repeat(2000);
    app.graphql_as(
        "ada",
        "mutation($bio: String!) { updateProfile(authUserId: \"ada\", input: { bio: $bio }) { bio } }",
        json!({ "bio": bio }),
    )
    .await
    .ok();

    // A tiny receive window, and ~600 KB per change (10 subscriptions of
    // ~60 KB each).
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(server.addr).await.unwrap();
    let mut slow = WsClient::connect_on(stream, server.addr, TRANSPORT_WS)
        .await
        .expect("upgrade");
    slow.init_with_token(&app.token("ada")).await;
    let aliases: String = (0..30).map(|n| format!("b{n}: bio ")).collect();
    for id in 0..10 {
        slow.subscribe(
            &id.to_string(),
            &format!("subscription {{ userUpdated(authUserId: \"ada\") {{ {aliases} }} }}"),
            json!({}),
        )
        .await;
    }
    wait_for_subscribers(&app, 10).await;
    assert_eq!(app.state.live.connections().from_address(LOOPBACK), 1);

    // The client never reads; changes keep coming.
    for n in 0..40 {
        app.graphql_as(
            "ada",
            "mutation($name: String!) { updateProfile(authUserId: \"ada\", input: { displayName: $name }) { displayName } }",
            json!({ "name": format!("Ada {n}") }),
        )
        .await
        .ok();
    }
    let mut dropped = false;
    for _ in 0..100 {
        if app.state.live.connections().from_address(LOOPBACK) == 0
            && app.state.live.subscribers() == 0
        {
            dropped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        dropped,
        "the slow client is still connected ({} connections, {} subscribers)",
        app.state.live.connections().from_address(LOOPBACK),
        app.state.live.subscribers()
    );
    drop(slow);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_messages_count_against_the_request_rate_limits() {
    let (app, server) = serve(|config| {
        config.http.rate_limit_per_ip = 1000;
        config.http.rate_limit_per_user = 3;
    })
    .await;
    let mut ws = WsClient::connect(server.addr, TRANSPORT_WS)
        .await
        .expect("upgrade");
    ws.init_with_token(&app.token("ada")).await;
    // Subscribe and complete over and over: each start is one request.
    for id in 0..3 {
        ws.subscribe(
            &id.to_string(),
            "subscription { myActivity { kind } }",
            json!({}),
        )
        .await;
        ws.send_json(json!({ "id": id.to_string(), "type": "complete" }))
            .await;
    }
    ws.subscribe("3", "subscription { myActivity { kind } }", json!({}))
        .await;
    loop {
        match ws.next(5 * SECOND).await {
            Received::Closed(Some(4429)) => break,
            Received::Json(_) => continue,
            other => panic!("expected close 4429, got {other:?}"),
        }
    }
}

/// A subscription's document passes the same defences as one sent over
/// HTTP (the WebSocket transport runs through the same executor): the
/// lexical pass, the alias cap and the introspection switch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_documents_get_the_same_defences_as_http() {
    let (app, server) = serve(|config| {
        config.http.graphql_max_aliases = 2;
        config.http.enable_introspection = Some(false);
    })
    .await;
    let mut ws = WsClient::connect(server.addr, TRANSPORT_WS)
        .await
        .expect("upgrade");
    ws.init_with_token(&app.token("ada")).await;
    let deep = format!(
        "subscription {{ myActivity {{ kind }} }} query Q($x: Int = {}1{}) {{ __typename }}",
        "[".repeat(5_000),
        "]".repeat(5_000)
    );
    let aliases =
        "subscription { a: myActivity { kind } b: myActivity { kind } c: myActivity { kind } }";
    let introspection = "subscription { myActivity { kind __type(name: \"User\") { name } } }";
    for (id, query, code) in [
        ("deep", deep.as_str(), "GRAPHQL_PARSE_FAILED"),
        ("aliases", aliases, "GRAPHQL_VALIDATION_FAILED"),
        ("introspection", introspection, "GRAPHQL_VALIDATION_FAILED"),
    ] {
        ws.subscribe(id, query, json!({})).await;
        let mut seen = Vec::new();
        loop {
            match ws.next(5 * SECOND).await {
                Received::Json(message) if message["type"] == "complete" => break,
                Received::Json(message) => seen.push(message),
                other => panic!("{id}: {other:?} after {seen:?}"),
            }
        }
        let refusal = seen
            .first()
            .unwrap_or_else(|| panic!("{id}: no error before complete"));
        assert_eq!(refusal["id"], id, "{refusal}");
        assert_eq!(error_code(refusal), Some(code), "{id}: {refusal}");
    }
    // Nothing was subscribed.
    assert_eq!(app.state.live.subscribers(), 0);
}

/// A message larger than the body limit of a POST is refused as it
/// arrives: the connection closes, and the server answers the next client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_the_body_limit_closes_the_connection() {
    let (app, server) = serve(|config| config.http.max_body_bytes = 4096).await;
    let mut ws = WsClient::connect(server.addr, TRANSPORT_WS)
        .await
        .expect("upgrade");
    ws.init_with_token(&app.token("ada")).await;
    let padding = " ".repeat(64 * 1024);
    ws.subscribe(
        "big",
        &format!("subscription {{ myActivity {{ kind }} {padding}}}"),
        json!({}),
    )
    .await;
    match ws.next(5 * SECOND).await {
        Received::Closed(_) => {}
        other => panic!("expected the connection closed, got {other:?}"),
    }
    assert_eq!(app.state.live.subscribers(), 0);
    let mut next = WsClient::connect(server.addr, TRANSPORT_WS)
        .await
        .expect("upgrade");
    next.init_with_token(&app.token("ada")).await;
}
