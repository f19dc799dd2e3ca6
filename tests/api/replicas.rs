//! Live updates across replicas: two service processes on one database.
//! A change made through one is delivered to a subscriber of the other;
//! a change whose transaction rolls back is delivered to nobody.
//!
//! The second process is this test binary run again (with `--ignored
//! --exact replicas::replica_process`): it builds the state, router and
//! server exactly as `user-service serve` does (`build_state`,
//! `router::router`, `server::serve_on`) from environment variables. (Not
//! the `user-service` binary itself: with a target directory shared by
//! several checkouts, `CARGO_BIN_EXE_user-service` may be another
//! checkout's build, while this binary is always this one.)

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use diesel_async::{AsyncConnection, RunQueryDsl};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

use crate::helpers::{
    Received, ServedApp, TEST_SECRET, TRANSPORT_WS, TestApp, WsClient, http_client,
};

const SECOND: Duration = Duration::from_secs(1);

/// Set in the second process: the database it serves.
const REPLICA_DATABASE: &str = "USER_SERVICE_TEST_REPLICA";

/// The second service process, serving on a loopback port until its stdin
/// closes (it is killed on drop).
struct Replica {
    _child: tokio::process::Child,
    addr: SocketAddr,
}

async fn start_replica(app: &TestApp) -> Replica {
    let mut child = tokio::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--ignored",
            "--exact",
            "replicas::replica_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(REPLICA_DATABASE, "1")
        .env("APP_ENV", "test")
        .env("DATABASE_URL", &app.db.url)
        .env("DATABASE_POOL_SIZE", "0")
        .env("DATABASE_MAX_OVERFLOW", "4")
        .env("JWT_SECRET", TEST_SECRET)
        .env("AUTH_SERVICE_URL", app.auth_service.uri())
        .env("CONSUMER_ENABLED", "false")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start the second process");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let addr = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("read the replica's output") {
            // libtest prints `test replicas::replica_process ... ` first.
            if let Some((_, addr)) = line.split_once("REPLICA_ADDR=") {
                return addr.trim().parse::<SocketAddr>().expect("an address");
            }
        }
        panic!("the replica exited before serving");
    })
    .await
    .expect("the replica serves within a minute");
    // Keep draining its output so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Replica {
        _child: child,
        addr,
    }
}

/// The second process (see the module doc): does nothing unless started
/// by [`start_replica`].
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the second process of the cross-replica test; started by it"]
async fn replica_process() {
    if std::env::var_os(REPLICA_DATABASE).is_none() {
        return;
    }
    // Read from the environment, as `user-service serve` reads it.
    let config = user_service::config::Config::defaults();
    let database = user_service::db::Database::pool(&config.database)
        .await
        .expect("pool");
    let state =
        user_service::build_state(config, database, user_service::system_clock()).expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    println!("REPLICA_ADDR={}", listener.local_addr().expect("address"));
    let stop = async {
        // Until the parent closes our stdin (or dies).
        let mut sink = Vec::new();
        let _ = tokio::io::stdin().read_to_end(&mut sink).await;
    };
    user_service::server::serve_on(listener, user_service::router::router(state), stop)
        .await
        .expect("serve");
}

async fn create_goal_at(addr: SocketAddr, token: &str, title: &str) {
    let response: Value = http_client()
        .post(format!("http://{addr}/graphql"))
        .bearer_auth(token)
        .json(&json!({
            "query": "mutation($t: String!) { createGoal(authUserId: \"ada\", input: { title: $t }) { id } }",
            "variables": { "t": title },
        }))
        .send()
        .await
        .expect("the replica answers")
        .json()
        .await
        .expect("JSON");
    assert!(response.get("errors").is_none(), "{response}");
}

fn summary(message: &Value) -> String {
    message["payload"]["data"]["myActivity"]["summary"]
        .as_str()
        .unwrap_or_else(|| panic!("an activity event: {message}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_made_through_one_replica_is_delivered_by_the_other() {
    let app = TestApp::spawn().await;
    let here = ServedApp::start(app.router.clone()).await;
    let there = start_replica(&app).await;
    let token = app.token("ada");

    // A subscriber of the other process; a change made here.
    let mut remote = WsClient::connect(there.addr, TRANSPORT_WS)
        .await
        .expect("upgrade");
    remote.init_with_token(&token).await;
    remote
        .subscribe(
            "1",
            "subscription { myActivity { kind summary } }",
            json!({}),
        )
        .await;
    // The other process does not say when its subscription is live:
    // probe until one change gets through.
    let mut live = false;
    for n in 0..20 {
        app.create_goal("ada", &format!("probe {n}")).await;
        if let Received::Json(message) = remote.next(SECOND).await {
            assert!(summary(&message).contains("probe"), "{message}");
            live = true;
            break;
        }
    }
    assert!(live, "the other replica never delivered a change");
    app.create_goal("ada", "made here").await;
    let message = remote.next_data(5 * SECOND).await;
    assert_eq!(summary(&message), "Created the goal \"made here\"");

    // And the other way round: a subscriber here, a change made there.
    let mut local = WsClient::connect(here.addr, TRANSPORT_WS)
        .await
        .expect("upgrade");
    local.init_with_token(&token).await;
    local
        .subscribe(
            "1",
            "subscription { myActivity { kind summary } }",
            json!({}),
        )
        .await;
    for _ in 0..200 {
        if app.state.live.subscribers() >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    create_goal_at(there.addr, &token, "made there").await;
    let message = local.next_data(5 * SECOND).await;
    assert_eq!(summary(&message), "Created the goal \"made there\"");
    let message = remote.next_data(5 * SECOND).await;
    assert_eq!(summary(&message), "Created the goal \"made there\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolled_back_change_is_never_announced() {
    let app = TestApp::spawn().await;
    let here = ServedApp::start(app.router.clone()).await;
    app.create_goal("ada", "exists").await;
    let mut ws = WsClient::connect(here.addr, TRANSPORT_WS)
        .await
        .expect("upgrade");
    ws.init_with_token(&app.token("ada")).await;
    ws.subscribe("1", "subscription { myActivity { summary } }", json!({}))
        .await;
    for _ in 0..200 {
        if app.state.live.subscribers() >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }

    let insert = |summary: &str| {
        format!(
            "INSERT INTO activity_events (id, auth_user_id, kind, occurred_at, summary)
             VALUES (gen_random_uuid(), 'ada', 'PROFILE_UPDATED', now(), '{summary}')"
        )
    };
    let mut conn = diesel_async::AsyncPgConnection::establish(&app.db.url)
        .await
        .expect("connect");
    // The trigger notifies inside the transaction; the rollback discards it.
    diesel::sql_query("BEGIN").execute(&mut conn).await.unwrap();
    diesel::sql_query(insert("rolled back"))
        .execute(&mut conn)
        .await
        .unwrap();
    // Not before the commit either.
    ws.expect_silence(SECOND / 2).await;
    diesel::sql_query("ROLLBACK")
        .execute(&mut conn)
        .await
        .unwrap();
    ws.expect_silence(SECOND).await;

    // A refused mutation writes nothing and announces nothing.
    let refused = app
        .graphql_as(
            "ada",
            "mutation { createGoal(authUserId: \"ada\", input: { title: \"\" }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(refused.error_code(), Some("BAD_USER_INPUT"));
    ws.expect_silence(SECOND / 2).await;

    // The same insert committed is announced, once committed.
    diesel::sql_query("BEGIN").execute(&mut conn).await.unwrap();
    diesel::sql_query(insert("committed"))
        .execute(&mut conn)
        .await
        .unwrap();
    ws.expect_silence(SECOND / 2).await;
    diesel::sql_query("COMMIT")
        .execute(&mut conn)
        .await
        .unwrap();
    let message = ws.next_data(5 * SECOND).await;
    assert_eq!(
        message["payload"]["data"]["myActivity"]["summary"],
        "committed"
    );
}
