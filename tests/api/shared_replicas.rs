//! State shared by replicas (issue 12): three service processes with one
//! `REDIS_URL` share their rate limits and their APQ cache, and three
//! consumers on one queue handle each event once, in order per user.
//!
//! Each replica is this test binary run again for [`serve_replica`] alone,
//! which serves the library's router from the environment exactly as
//! `user-service serve` does (without the consumer). Not the
//! `user-service` binary itself: `CARGO_BIN_EXE_user-service` lives in the
//! target directory, which a concurrent build of another checkout sharing
//! it may replace while these tests run, whereas this binary's path is
//! unique to its build.

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{TEST_SECRET, TestApp, http_client};

const REDIS_URL: &str = "redis://127.0.0.1:6379";

/// One replica process, killed when dropped.
struct Replica {
    _child: tokio::process::Child,
    url: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

async fn start_replica(app: &TestApp, prefix: &str, env: &[(&str, &str)]) -> Replica {
    let port = free_port();
    let mut command =
        tokio::process::Command::new(std::env::current_exe().expect("the test binary"));
    command
        .args([
            "--ignored",
            "--exact",
            "shared_replicas::serve_replica",
            "--nocapture",
        ])
        .env("REPLICA", "1")
        // No `.env` of the repository's is read from here.
        .current_dir(std::env::temp_dir())
        .env("APP_ENV", "test")
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("DATABASE_URL", &app.db.url)
        .env("DATABASE_CREATE", "false")
        .env("DATABASE_POOL_SIZE", "0")
        .env("DATABASE_MAX_OVERFLOW", "4")
        .env("CONSUMER_ENABLED", "false")
        .env("JWT_SECRET", TEST_SECRET)
        .env("AUTH_SERVICE_URL", app.auth_service.uri())
        .env("REDIS_URL", REDIS_URL)
        .env("REDIS_KEY_PREFIX", prefix)
        .env("RUST_LOG", "warn")
        // A loaded test machine (the whole suite on two cores) must not
        // turn slow Redis answers into fail-open passes.
        .env("REDIS_TIMEOUT_MS", "10000")
        .stdin(Stdio::null())
        .stdout(if std::env::var_os("TEST_LOG").is_some() {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    for (name, value) in env {
        command.env(name, value);
    }
    let child = command.spawn().expect("start a replica");
    let url = format!("http://127.0.0.1:{port}");
    let client = http_client();
    for _ in 0..300 {
        if client
            .get(format!("{url}/health"))
            .send()
            .await
            .is_ok_and(|response| response.status().is_success())
        {
            return Replica { _child: child, url };
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("replica on port {port} did not answer /health within 60 s");
}

async fn replicas(app: &TestApp, prefix: &str, env: &[(&str, &str)]) -> Vec<Replica> {
    futures::future::join_all((0..3).map(|_| start_replica(app, prefix, env))).await
}

/// Deletes the keys a test wrote.
async fn clean(prefix: &str) {
    let Ok(client) = redis::Client::open(REDIS_URL) else {
        return;
    };
    let Ok(mut connection) = client.get_multiplexed_async_connection().await else {
        return;
    };
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query_async(&mut connection)
        .await
        .unwrap_or_default();
    if !keys.is_empty() {
        let _: Result<(), _> = redis::cmd("DEL")
            .arg(keys)
            .query_async(&mut connection)
            .await;
    }
}

async fn post(url: &str, body: &Value) -> (u16, Value) {
    let response = http_client()
        .post(format!("{url}/graphql"))
        .json(body)
        .send()
        .await
        .expect("replica answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A replica: run by [`start_replica`] in a process of its own (with
/// `REPLICA` set), it serves until killed; otherwise it does nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a replica process of the tests below, started by them"]
async fn serve_replica() {
    if std::env::var_os("REPLICA").is_none() {
        return;
    }
    let config = user_service::config::Config::defaults();
    let database = user_service::db::Database::pool(&config.database)
        .await
        .expect("the replica's pool");
    let state = user_service::build_state(config.clone(), database, user_service::system_clock())
        .expect("the replica's state");
    if let Some(shared) = &state.shared {
        shared.ping().await.expect("Redis answers the replica");
    }
    // The event consumer too, when asked (as `serve` starts it).
    let _consumer = config.events.consumer_enabled.then(|| {
        let consumer = user_service::events::EventConsumer::new(
            user_service::events::ConsumerSettings::from_config(&config),
            state.db.pool.clone(),
            user_service::system_clock(),
        );
        tokio::spawn(async move {
            consumer
                .run(tokio_util::sync::CancellationToken::new())
                .await;
        })
    });
    user_service::server::serve(&config, user_service::router::router(state))
        .await
        .expect("the replica serves");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_holds_across_three_replicas() {
    let app = TestApp::spawn().await;
    let prefix = format!("user-service-test-{}", uuid::Uuid::new_v4());
    let replicas = replicas(&app, &prefix, &[("RATE_LIMIT_PER_IP", "5")]).await;
    let query = json!({ "query": "{ __typename }" });
    let mut statuses = Vec::new();
    for round in 0..3 {
        for replica in &replicas {
            let (status, body) = post(&replica.url, &query).await;
            if status == 200 {
                assert_eq!(body["data"]["__typename"], "Query", "round {round}: {body}");
            }
            statuses.push(status);
        }
    }
    clean(&prefix).await;
    let admitted = statuses.iter().filter(|status| **status == 200).count();
    let limited = statuses.iter().filter(|status| **status == 429).count();
    // 5 a minute for the address, whichever replica it reaches (one more
    // may have refilled meanwhile: one every 12 s); per process it would be
    // all 9.
    assert!(
        (5..=6).contains(&admitted) && admitted + limited == 9,
        "{statuses:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_persisted_on_one_replica_is_found_on_the_others() {
    let app = TestApp::spawn().await;
    app.create_goal("ada", "Shared").await;
    let prefix = format!("user-service-test-{}", uuid::Uuid::new_v4());
    let replicas = replicas(&app, &prefix, &[]).await;
    let query = "query Goals($id: ID!) { user(authUserId: $id) { goals { title } } }";
    let hash = hex::encode(Sha256::digest(query.as_bytes()));
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let hash_only = json!({ "variables": { "id": "ada" }, "extensions": extensions });

    let (_, miss) = post(&replicas[1].url, &hash_only).await;
    assert_eq!(
        miss["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND",
        "{miss}"
    );
    let register =
        json!({ "query": query, "variables": { "id": "ada" }, "extensions": extensions });
    let (status, registered) = post(&replicas[0].url, &register).await;
    assert_eq!(status, 200, "{registered}");
    assert_eq!(registered["data"]["user"]["goals"][0]["title"], "Shared");
    for replica in &replicas[1..] {
        let (_, hit) = post(&replica.url, &hash_only).await;
        assert_eq!(
            hit["data"]["user"]["goals"][0]["title"], "Shared",
            "{}: {hit}",
            replica.url
        );
    }
    clean(&prefix).await;
}

/// The sum of a counter over every label set, from a replica's `/metrics`.
async fn counter_total(url: &str, name: &str) -> f64 {
    let text = http_client()
        .get(format!("{url}/metrics"))
        .send()
        .await
        .expect("metrics answer")
        .text()
        .await
        .unwrap_or_default();
    text.lines()
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_handled_once_in_total_and_in_order_per_user_by_three_replicas() {
    use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
    use lapin::{BasicProperties, Connection, ConnectionProperties};
    use user_service::events::topology::Topology;

    let app = TestApp::spawn().await;
    let prefix = format!("user-service-test-{}", uuid::Uuid::new_v4());
    let broker = std::env::var("TEST_RABBITMQ_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned());
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let topology = Topology {
        exchange: format!("auth.events.replicas-{tag}"),
        queue: format!("user-service.replicas-{tag}"),
        dead_letter_queue: format!("user-service.replicas-{tag}.dead"),
    };
    let connection = Connection::connect(&broker, ConnectionProperties::default())
        .await
        .expect("connect to RabbitMQ");
    let channel = connection.create_channel().await.expect("channel");
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .expect("confirm mode");
    topology.declare(&channel).await.expect("declare topology");
    let replicas = replicas(
        &app,
        &prefix,
        &[
            ("CONSUMER_ENABLED", "true"),
            ("RABBITMQ_URL", broker.as_str()),
            ("RABBITMQ_EXCHANGE", topology.exchange.as_str()),
            ("RABBITMQ_QUEUE", topology.queue.as_str()),
            (
                "RABBITMQ_DEAD_LETTER_QUEUE",
                topology.dead_letter_queue.as_str(),
            ),
        ],
    )
    .await;

    // 12 users, each created then renamed five times; the users'
    // events interleaved, each user's in the order they happened.
    let users: Vec<String> = (0..12).map(|n| format!("replica-{tag}-{n}")).collect();
    let base = chrono::Utc::now() - chrono::Duration::hours(1);
    let mut published = 0;
    for step in 0..6 {
        for user in &users {
            let event = json!({
                "event": if step == 0 { "UserCreated" } else { "UserUpdated" },
                "auth_user_id": user,
                "username": format!("{user}-v{step}"),
                "email": format!("{user}-v{step}@example.com"),
                "occurred_at": (base + chrono::Duration::seconds(step)).to_rfc3339(),
            });
            let routing_key = if step == 0 {
                "user.created"
            } else {
                "user.updated"
            };
            let confirmation = channel
                .basic_publish(
                    &topology.exchange,
                    routing_key,
                    BasicPublishOptions::default(),
                    event.to_string().as_bytes(),
                    BasicProperties::default()
                        .with_content_type("application/json".into())
                        .with_delivery_mode(2),
                )
                .await
                .expect("publish")
                .await
                .expect("publisher confirm");
            assert!(confirmation.is_ack());
            published += 1;
        }
    }

    // Every event is handled once in total, whichever replica took it.
    let mut handled = 0.0;
    for _ in 0..300 {
        handled = 0.0;
        for replica in &replicas {
            handled += counter_total(&replica.url, "events_consumed_total").await;
        }
        if handled >= f64::from(published) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(handled, f64::from(published), "events handled in total");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut again = 0.0;
    for replica in &replicas {
        again += counter_total(&replica.url, "events_consumed_total").await;
    }
    assert_eq!(again, f64::from(published), "no event is handled twice");

    // In order per user: each ends with its last name, however the
    // replicas interleaved their events.
    for user in &users {
        let response = app
            .graphql(
                "query($id: ID!) { user(authUserId: $id) { username } }",
                json!({ "id": user }),
                None,
            )
            .await;
        assert_eq!(
            response.ok()["user"]["username"],
            format!("{user}-v5"),
            "{user}"
        );
    }
    let dead = channel
        .queue_declare(
            &topology.dead_letter_queue,
            lapin::options::QueueDeclareOptions {
                passive: true,
                ..Default::default()
            },
            lapin::types::FieldTable::default(),
        )
        .await
        .expect("the dead-letter queue")
        .message_count();
    assert_eq!(dead, 0, "nothing dead-lettered");
    drop(replicas);
    clean(&prefix).await;
}

/// A query through the gateway, with `token`: whether it answered without
/// errors.
async fn through(gateway: &str, query: &str, token: Option<&str>) -> bool {
    let mut request = http_client()
        .post(gateway)
        .header("apollo-require-preflight", "true")
        .json(&json!({ "query": query }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let body: Value = request
        .send()
        .await
        .expect("the gateway answers")
        .json()
        .await
        .expect("JSON");
    body.get("errors").is_none() && !body["data"].is_null()
}

/// The three replicas behind the real Apollo gateway, which takes them in
/// turn: the per-user limit holds across them, and a query the gateway
/// persisted (APQ) on one replica is found by hash on the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_the_gateway_three_replicas_share_limits_and_persisted_queries() {
    tokio::task::spawn_blocking(crate::federation::ensure_node_modules)
        .await
        .expect("npm ci");
    let app = TestApp::spawn().await;
    let prefix = format!("user-service-test-{}", uuid::Uuid::new_v4());
    let replicas = replicas(&app, &prefix, &[("RATE_LIMIT_PER_USER", "5")]).await;
    let urls = replicas
        .iter()
        .map(|replica| format!("{}/graphql", replica.url))
        .collect::<Vec<_>>()
        .join(",");

    // The limit: 9 queries with one token, three on each replica; the
    // user's 5 a minute hold in total.
    let gateway = crate::federation::start_gateway_with(&urls, "", &[]).await;
    let token = app.token("ada");
    let query = "{ user(authUserId: \"ada\") { authUserId } }";
    let mut passed = 0;
    for _ in 0..9 {
        if through(&gateway.url, query, Some(&token)).await {
            passed += 1;
        }
    }
    assert_eq!(
        passed, 5,
        "5 of 9 pass a limit of 5 shared by three replicas"
    );
    drop(gateway);

    // Persisted queries: the gateway sends the hash first and the query
    // only when the replica does not know it.
    let misses = async || {
        let mut total = 0.0;
        for replica in &replicas {
            let text = http_client()
                .get(format!("{}/metrics", replica.url))
                .send()
                .await
                .expect("metrics")
                .text()
                .await
                .unwrap_or_default();
            total += text
                .lines()
                .filter(|line| {
                    line.starts_with("graphql_errors_total")
                        && line.contains("PERSISTED_QUERY_NOT_FOUND")
                })
                .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
                .sum::<f64>();
        }
        total
    };
    let gateway = crate::federation::start_gateway_with(&urls, "", &[("USERS_APQ", "1")]).await;
    // (Composing, the gateway sent `_service` the same way: not counted.)
    let before = misses().await;
    let persisted = "{ user(authUserId: \"grace\") { authUserId displayName } }";
    for _ in 0..6 {
        assert!(through(&gateway.url, persisted, None).await);
    }
    assert_eq!(
        misses().await - before,
        1.0,
        "registered once, found by hash on every replica afterwards"
    );
    drop(gateway);
    drop(replicas);
    clean(&prefix).await;
}
