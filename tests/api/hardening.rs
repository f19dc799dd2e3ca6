//! HTTP hardening (issue 9, item 7): header and body read timeouts, the
//! shutdown deadline, bounded operation-name labels, the cached `/ready`
//! probe and database faults answered as `SERVICE_UNAVAILABLE`.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use diesel_async::RunQueryDsl;
use http::{Request, StatusCode};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use user_service::server::ServerTimeouts;

use crate::helpers::{ServedApp, TestApp};

/// Reads from `stream` until it closes or `limit` passes; the bytes read,
/// and whether it closed.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (Vec<u8>, bool) {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (received, true),
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
            Err(_) => return (received, false),
        }
    }
}

#[tokio::test]
async fn a_client_that_stalls_its_headers_is_disconnected() {
    let app = TestApp::spawn().await;
    let served = ServedApp::start_with(
        app.router.clone(),
        ServerTimeouts {
            header_read: Duration::from_millis(300),
            shutdown: Duration::from_secs(5),
        },
    )
    .await;
    let mut slow = TcpStream::connect(served.addr).await.unwrap();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .await
        .unwrap();
    let started = Instant::now();
    let (_, closed) = read_until_closed(&mut slow, Duration::from_secs(5)).await;
    assert!(closed, "a slowloris connection was held for 5 s");
    assert!(started.elapsed() < Duration::from_secs(4));

    // A client that sends its request whole is answered.
    let mut prompt = TcpStream::connect(served.addr).await.unwrap();
    prompt
        .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (answer, _) = read_until_closed(&mut prompt, Duration::from_secs(5)).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

#[tokio::test]
async fn a_client_that_stalls_its_body_is_cut_off() {
    let app = TestApp::spawn_with(|config| {
        config.http.body_read_timeout = Duration::from_millis(300);
    })
    .await;
    let served = ServedApp::start(app.router.clone()).await;
    let mut slow = TcpStream::connect(served.addr).await.unwrap();
    slow.write_all(
        b"POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"query\":",
    )
    .await
    .unwrap();
    let started = Instant::now();
    let (answer, _) = read_until_closed(&mut slow, Duration::from_secs(5)).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.starts_with("HTTP/1.1 408"),
        "no 408 within 5 s: {text:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn a_stalled_connection_does_not_hold_shutdown_past_its_deadline() {
    let app = TestApp::spawn().await;
    let mut served = ServedApp::start_with(
        app.router.clone(),
        ServerTimeouts {
            header_read: Duration::from_secs(60),
            shutdown: Duration::from_millis(500),
        },
    )
    .await;
    // A request in flight that will not finish: its body never comes (the
    // body timeout is the default 10 s, far past the deadline).
    let mut stalled = TcpStream::connect(served.addr).await.unwrap();
    stalled
        .write_all(
            b"POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    served.begin_shutdown();
    let task = served.task.take().expect("server task");
    let result = tokio::time::timeout(Duration::from_secs(5), task).await;
    assert!(
        result.is_ok(),
        "serve did not return within 5 s of the signal"
    );
    result.unwrap().expect("server task").expect("serve");
    assert!(started.elapsed() < Duration::from_secs(4));
    // The stalled connection was closed.
    let (_, closed) = read_until_closed(&mut stalled, Duration::from_secs(2)).await;
    assert!(closed);
}

const LABELS_CHILD: &str = "USER_SERVICE_TEST_LABELS_CHILD";

/// The 500 names run in a child process: the label set and the Prometheus
/// recorder are per process, and the other tests of this binary want their
/// own operation names labelled.
#[tokio::test]
async fn operation_labels_are_bounded_with_an_other_bucket() {
    if std::env::var_os(LABELS_CHILD).is_none() {
        let output = tokio::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "hardening::operation_labels_are_bounded_with_an_other_bucket",
                "--exact",
                "--nocapture",
            ])
            .env(LABELS_CHILD, "1")
            .output()
            .await
            .expect("run the child test");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("1 passed"),
            "child test failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        return;
    }
    let app = TestApp::spawn().await;
    for index in 0..500 {
        app.graphql(
            &format!("query Op{index} {{ __typename }}"),
            json!({}),
            None,
        )
        .await
        .ok();
    }
    let metrics = app
        .request(Request::get("/metrics").body(Body::empty()).unwrap())
        .await;
    let text = metrics.body.as_str().expect("Prometheus text").to_owned();
    let labels: BTreeSet<&str> = text
        .split("operation=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    let max = user_service::http::observability::MAX_OPERATION_LABELS;
    assert!(
        labels.len() <= max + 5,
        "{} operation labels: {labels:?}",
        labels.len()
    );
    assert!(labels.contains("other"), "{labels:?}");
    assert!(labels.contains("Op0"), "{labels:?}");
    assert!(!labels.contains("Op499"), "{labels:?}");
}

#[tokio::test]
async fn many_ready_calls_share_one_probe() {
    // A stub auth-service that counts the connections it accepts.
    let stub = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let stub_url = format!("http://{}", stub.local_addr().unwrap());
    let accepts = Arc::new(AtomicUsize::new(0));
    let counted = accepts.clone();
    let stub_task = tokio::spawn(async move {
        while let Ok((stream, _)) = stub.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    let app = TestApp::spawn_with(|config| {
        config.auth.auth_service_url = stub_url;
        config.http.readiness_cache = Duration::from_secs(30);
    })
    .await;
    let before = app.statements();
    let calls = (0..200).map(|_| app.request(Request::get("/ready").body(Body::empty()).unwrap()));
    let answers = futures::future::join_all(calls).await;
    for answer in &answers {
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(answer.body["checks"]["auth_service"]["status"], "up");
    }
    let probes = AtomicUsize::load(&accepts, Ordering::SeqCst);
    assert!((1..=2).contains(&probes), "{probes} auth-service connects");
    let statements = app.statements() - before;
    assert!(
        statements <= 4,
        "{statements} SQL statements for 200 /ready calls"
    );
    stub_task.abort();
}

/// Terminates every backend of the test database but the caller's.
async fn terminate_service_backends(app: &TestApp) {
    let mut conn = app.conn().await;
    diesel::sql_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .execute(&mut conn)
    .await
    .expect("terminate backends");
}

const UPDATE: &str = "mutation($id: ID!, $name: String) { updateProfile(authUserId: $id, input: { displayName: $name }) { displayName } }";

#[tokio::test]
async fn a_terminated_database_connection_answers_service_unavailable() {
    let app = TestApp::spawn().await;
    app.graphql_as("db-1", UPDATE, json!({ "id": "db-1", "name": "A" }))
        .await
        .ok();

    // Mid-request: the mutation waits on a lock the test holds, then its
    // connection is terminated under it.
    let mut locker = app.conn().await;
    diesel::sql_query("BEGIN")
        .execute(&mut locker)
        .await
        .unwrap();
    diesel::sql_query("LOCK TABLE profiles IN ACCESS EXCLUSIVE MODE")
        .execute(&mut locker)
        .await
        .unwrap();
    let request = app.graphql_as("db-1", UPDATE, json!({ "id": "db-1", "name": "B" }));
    let killer = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        terminate_service_backends(&app).await;
    };
    let (answer, ()) = tokio::join!(request, killer);
    let _ = diesel::sql_query("ROLLBACK").execute(&mut locker).await;
    let codes: Vec<&str> = answer.body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|error| error["extensions"]["code"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert!(!codes.is_empty(), "the mutation succeeded: {}", answer.body);
    assert!(
        codes.iter().all(|code| *code == "SERVICE_UNAVAILABLE"),
        "{}",
        answer.body
    );

    // The next request gets a fresh connection and succeeds.
    let next = app
        .graphql_as("db-1", UPDATE, json!({ "id": "db-1", "name": "C" }))
        .await;
    assert_eq!(next.ok()["updateProfile"]["displayName"], "C");
}
