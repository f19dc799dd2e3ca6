//! The RabbitMQ consumer against the real broker and database. Every test
//! declares its own exchange and queues (unique names, deleted afterwards;
//! the reconnect test also gets its own vhost) so that parallel tests never
//! take each other's messages.

use std::future::Future;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use lapin::options::{
    BasicGetOptions, ConfirmSelectOptions, ExchangeDeleteOptions, QueueDeclareOptions,
    QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use user_service::config::DatabaseConfig;
use user_service::db::{Database, Pool};
use user_service::events::topology::Topology;
use user_service::events::{ConsumerSettings, DEATH_REASON_HEADER, EventConsumer};

use crate::helpers::TestApp;

/// The broker the tests use (its default vhost).
fn broker_url() -> String {
    std::env::var("TEST_RABBITMQ_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// An instant `minutes` after 2026-11-21T08:00:00Z, two hours before the
/// test clock, so that the events of a test lie in its past (an event more
/// than the allowed skew ahead of the clock is dead-lettered).
fn at(minutes: i64) -> DateTime<Utc> {
    crate::helpers::start_time() - chrono::Duration::hours(2) + chrono::Duration::minutes(minutes)
}

/// Polls `check` until it holds, failing the test after 15 seconds.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(15);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A test's own exchange and queues, and a publishing connection.
struct Broker {
    url: String,
    topology: Topology,
    connection: Connection,
    channel: Channel,
}

impl Broker {
    async fn new() -> Self {
        Self::on(broker_url()).await
    }

    /// Unique broker objects, declared as the consumer will declare them.
    async fn on(url: String) -> Self {
        let queue = unique("user-service.auth-events.test");
        let topology = Topology {
            exchange: unique("auth.events.test"),
            dead_letter_queue: format!("{queue}.dead"),
            queue,
        };
        let (connection, channel) = open(&url).await;
        topology.declare(&channel).await.expect("declare topology");
        Self {
            url,
            topology,
            connection,
            channel,
        }
    }

    /// Opens a new publishing connection (after the old one was dropped).
    async fn reconnect(&mut self) {
        let (connection, channel) = open(&self.url).await;
        self.connection = connection;
        self.channel = channel;
    }

    /// The consumer's settings for these objects.
    fn settings(&self) -> ConsumerSettings {
        ConsumerSettings {
            rabbitmq_url: self.url.clone().into(),
            topology: self.topology.clone(),
            prefetch: 4,
            retry_max: Duration::from_millis(500),
            connection_name: "user-service test consumer".to_owned(),
        }
    }

    /// Publishes raw bytes with `routing_key`, confirmed by the broker.
    async fn publish_raw(&self, routing_key: &str, body: &[u8]) {
        let confirmation = self
            .channel
            .basic_publish(
                &self.topology.exchange,
                routing_key,
                Default::default(),
                body,
                BasicProperties::default()
                    .with_content_type("application/json".into())
                    .with_delivery_mode(2),
            )
            .await
            .expect("publish")
            .await
            .expect("publisher confirm");
        assert!(confirmation.is_ack(), "the broker refused the message");
    }

    /// Publishes an event with the routing key its kind asks for.
    async fn publish(&self, event: &Value) {
        let routing_key = match event["event"].as_str() {
            Some("UserCreated") => "user.created",
            Some("UserDeleted") => "user.deleted",
            _ => "user.updated",
        };
        self.publish_raw(routing_key, event.to_string().as_bytes())
            .await;
    }

    /// Messages ready (not delivered, or delivered and returned) in `queue`.
    async fn ready(&self, queue: &str) -> u32 {
        let passive = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        self.channel
            .queue_declare(queue, passive, FieldTable::default())
            .await
            .expect("passive declare")
            .message_count()
    }

    /// Takes every message of the dead-letter queue.
    async fn take_dead_letters(&self) -> Vec<(Value, FieldTable)> {
        let mut taken = Vec::new();
        while let Some(message) = self
            .channel
            .basic_get(
                &self.topology.dead_letter_queue,
                BasicGetOptions { no_ack: true },
            )
            .await
            .expect("basic.get")
        {
            let body = serde_json::from_slice(&message.delivery.data).unwrap_or_else(|_| {
                Value::String(String::from_utf8_lossy(&message.delivery.data).into_owned())
            });
            let headers = message
                .delivery
                .properties
                .headers()
                .clone()
                .unwrap_or_default();
            taken.push((body, headers));
        }
        taken
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let url = self.url.clone();
        let topology = self.topology.clone();
        // A runtime of its own: Drop may run inside the test's runtime.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let Ok(connection) =
                    Connection::connect(&url, ConnectionProperties::default()).await
                else {
                    return;
                };
                let Ok(channel) = connection.create_channel().await else {
                    return;
                };
                for queue in [&topology.queue, &topology.dead_letter_queue] {
                    let _ = channel
                        .queue_delete(queue, QueueDeleteOptions::default())
                        .await;
                }
                let _ = channel
                    .exchange_delete(&topology.exchange, ExchangeDeleteOptions::default())
                    .await;
                let _ = connection.close(200, "test done").await;
            });
        })
        .join();
    }
}

async fn open(url: &str) -> (Connection, Channel) {
    let connection = Connection::connect(url, ConnectionProperties::default())
        .await
        .expect("connect to RabbitMQ");
    let channel = connection.create_channel().await.expect("channel");
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .expect("confirm mode");
    (connection, channel)
}

/// A consumer running in the background.
struct RunningConsumer {
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

impl RunningConsumer {
    fn start(settings: ConsumerSettings, pool: Pool, app: &TestApp) -> Self {
        let consumer = EventConsumer::new(settings, pool, app.clock.clone());
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        let task = tokio::spawn(async move { consumer.run(token).await });
        Self { shutdown, task }
    }

    /// Stops the consumer and waits until it has closed.
    async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(15), self.task)
            .await
            .expect("the consumer stops on shutdown")
            .expect("the consumer does not panic");
    }
}

/// The app's consumer for `broker`.
fn consume(app: &TestApp, broker: &Broker) -> RunningConsumer {
    RunningConsumer::start(broker.settings(), app.state.db.pool.clone(), app)
}

fn created(id: &str, username: &str, minutes: i64) -> Value {
    json!({
        "event": "UserCreated", "auth_user_id": id, "username": username,
        "email": format!("{username}@example.com"), "occurred_at": at(minutes).to_rfc3339(),
    })
}

fn updated(id: &str, username: &str, minutes: i64) -> Value {
    json!({
        "event": "UserUpdated", "auth_user_id": id, "username": username,
        "email": format!("{username}@example.com"), "occurred_at": at(minutes).to_rfc3339(),
    })
}

fn deleted(id: &str, minutes: i64) -> Value {
    json!({ "event": "UserDeleted", "auth_user_id": id, "occurred_at": at(minutes).to_rfc3339() })
}

#[derive(diesel::QueryableByName, Debug, PartialEq)]
struct StoredUser {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    username: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    email: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>)]
    source_event_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    updated_at: DateTime<Utc>,
}

async fn stored_user(app: &TestApp, id: &str) -> Option<StoredUser> {
    use diesel_async::RunQueryDsl;
    let mut conn = app.conn().await;
    diesel::sql_query(
        "SELECT username, email, source_event_at, updated_at FROM auth_users WHERE auth_user_id = $1",
    )
    .bind::<diesel::sql_types::Text, _>(id)
    .get_results::<StoredUser>(&mut conn)
    .await
    .expect("query auth_users")
    .pop()
}

async fn username_of(app: &TestApp, id: &str) -> Option<String> {
    stored_user(app, id).await.and_then(|user| user.username)
}

/// Publishes a marker event and waits until it is handled: the consumer
/// handles deliveries in order, so everything published before is done.
async fn settle(app: &TestApp, broker: &Broker) {
    let marker = unique("marker");
    broker.publish(&created(&marker, "marker", 0)).await;
    eventually("the marker event is handled", || async {
        stored_user(app, &marker).await.is_some()
    })
    .await;
}

#[tokio::test]
async fn user_created_stores_the_user_and_the_api_serves_it_without_the_auth_service() {
    let app = TestApp::spawn().await;
    let broker = Broker::new().await;
    let consumer = consume(&app, &broker);

    broker.publish(&created("ev-created", "ada", 0)).await;
    eventually("the user is stored", || async {
        username_of(&app, "ev-created").await.as_deref() == Some("ada")
    })
    .await;
    let user = stored_user(&app, "ev-created").await.unwrap();
    assert_eq!(user.email.as_deref(), Some("ada@example.com"));
    assert_eq!(user.source_event_at, Some(at(0)));
    assert_eq!(
        app.count("SELECT count(*) AS n FROM profiles WHERE auth_user_id = 'ev-created'")
            .await,
        1
    );

    let response = app
        .graphql_as(
            "ev-created",
            "{ me { authUserId username email } }",
            json!({}),
        )
        .await;
    assert_eq!(
        response.ok()["me"],
        json!({ "authUserId": "ev-created", "username": "ada", "email": "ada@example.com" })
    );
    assert!(
        app.auth_service
            .received_requests()
            .await
            .unwrap()
            .is_empty(),
        "a user learned from events is not looked up"
    );
    assert_eq!(
        broker.ready(&broker.topology.queue).await,
        0,
        "acknowledged"
    );
    consumer.stop().await;
}

#[tokio::test]
async fn a_numeric_auth_user_id_is_taken_as_its_decimal_string() {
    let app = TestApp::spawn().await;
    let broker = Broker::new().await;
    let consumer = consume(&app, &broker);

    broker
        .publish(&json!({
            "event": "UserCreated", "auth_user_id": 4242, "username": "num",
            "email": null, "occurred_at": at(0).to_rfc3339(),
        }))
        .await;
    eventually("user 4242 is stored", || async {
        username_of(&app, "4242").await.as_deref() == Some("num")
    })
    .await;
    consumer.stop().await;
}

#[tokio::test]
async fn updates_apply_in_occurred_at_order_whatever_the_arrival_order() {
    let app = TestApp::spawn().await;
    let broker = Broker::new().await;
    let consumer = consume(&app, &broker);

    broker.publish(&created("ev-upd", "ada", 0)).await;
    broker.publish(&updated("ev-upd", "ada-newest", 20)).await;
    // Arrives last, happened before the previous update: ignored.
    broker.publish(&updated("ev-upd", "ada-stale", 10)).await;
    settle(&app, &broker).await;

    let user = stored_user(&app, "ev-upd").await.expect("stored");
    assert_eq!(user.username.as_deref(), Some("ada-newest"));
    assert_eq!(user.email.as_deref(), Some("ada-newest@example.com"));
    assert_eq!(user.source_event_at, Some(at(20)));

    // An update for a user the service never met creates them.
    broker.publish(&updated("ev-upd-new", "grace", 5)).await;
    eventually("the updated user is stored", || async {
        username_of(&app, "ev-upd-new").await.as_deref() == Some("grace")
    })
    .await;
    consumer.stop().await;
}

#[tokio::test]
async fn a_redelivered_message_changes_nothing() {
    let app = TestApp::spawn().await;
    let broker = Broker::new().await;
    let consumer = consume(&app, &broker);

    let event = created("ev-redeliver", "ada", 0);
    broker.publish(&event).await;
    eventually("the user is stored", || async {
        stored_user(&app, "ev-redeliver").await.is_some()
    })
    .await;
    let first = stored_user(&app, "ev-redeliver").await.unwrap();

    // The same message again, later: nothing may move, not even updated_at.
    app.clock.advance(chrono::Duration::hours(1));
    broker.publish(&event).await;
    settle(&app, &broker).await;
    assert_eq!(stored_user(&app, "ev-redeliver").await.unwrap(), first);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM profiles WHERE auth_user_id = 'ev-redeliver'")
            .await,
        1
    );

    // A delete, the user re-created later, then the delete redelivered:
    // the user stays.
    broker.publish(&deleted("ev-redeliver", 10)).await;
    broker
        .publish(&created("ev-redeliver", "ada-again", 20))
        .await;
    broker.publish(&deleted("ev-redeliver", 10)).await;
    settle(&app, &broker).await;
    assert_eq!(
        username_of(&app, "ev-redeliver").await.as_deref(),
        Some("ada-again")
    );
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM auth_user_tombstones WHERE auth_user_id = 'ev-redeliver'"
        )
        .await,
        0
    );
    consumer.stop().await;
}

#[tokio::test]
async fn user_deleted_erases_everything_and_a_tombstone_keeps_older_events_out() {
    let app = TestApp::spawn().await;
    let broker = Broker::new().await;
    let consumer = consume(&app, &broker);
    let id = "ev-deleted";

    broker.publish(&created(id, "ada", 0)).await;
    eventually("the user is stored", || async {
        stored_user(&app, id).await.is_some()
    })
    .await;
    app.create_badge(id, "First steps").await;
    app.create_goal(id, "Learn Rust").await;
    let owned =
        |table: &str| format!("SELECT count(*) AS n FROM {table} WHERE auth_user_id = '{id}'");
    assert_eq!(app.count(&owned("badges")).await, 1);
    assert_eq!(app.count(&owned("learning_goals")).await, 1);
    assert!(app.count(&owned("activity_events")).await >= 2);

    broker.publish(&deleted(id, 30)).await;
    eventually("the user is erased", || async {
        stored_user(&app, id).await.is_none()
    })
    .await;
    for table in ["profiles", "badges", "learning_goals", "activity_events"] {
        assert_eq!(
            app.count(&owned(table)).await,
            0,
            "{table} still holds rows"
        );
    }
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM auth_user_tombstones WHERE auth_user_id = '{id}' \
             AND deleted_at = '{}'",
            at(30).to_rfc3339()
        ))
        .await,
        1
    );
    let response = app
        .graphql(
            "query($id: ID!) { user(authUserId: $id) { authUserId } }",
            json!({ "id": id }),
            None,
        )
        .await;
    assert_eq!(response.ok()["user"], Value::Null);

    // Late events from before the deletion do not bring the user back; an
    // older delete does not move the tombstone back.
    broker.publish(&created(id, "ada-late", 5)).await;
    broker.publish(&updated(id, "ada-late", 29)).await;
    broker.publish(&deleted(id, 15)).await;
    settle(&app, &broker).await;
    assert!(stored_user(&app, id).await.is_none());
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM auth_user_tombstones WHERE auth_user_id = '{id}' \
             AND deleted_at = '{}'",
            at(30).to_rfc3339()
        ))
        .await,
        1
    );

    // A newer UserCreated does, and clears the tombstone.
    broker.publish(&created(id, "ada-reborn", 40)).await;
    eventually("the user is back", || async {
        username_of(&app, id).await.as_deref() == Some("ada-reborn")
    })
    .await;
    assert_eq!(app.count(&owned("auth_user_tombstones")).await, 0);
    assert_eq!(
        app.count(&owned("badges")).await,
        0,
        "the old badges stay gone"
    );
    consumer.stop().await;
}

#[tokio::test]
async fn malformed_messages_are_dead_lettered_with_their_reason_and_the_next_is_handled() {
    let app = TestApp::spawn().await;
    let broker = Broker::new().await;
    let consumer = consume(&app, &broker);

    let occurred = at(0).to_rfc3339();
    let bad: Vec<(&str, String, &str)> = vec![
        (
            "user.created",
            "{this is not json".to_owned(),
            "invalid_json",
        ),
        (
            "user.updated",
            json!({ "event": "UserRenamed", "auth_user_id": "x1", "occurred_at": occurred })
                .to_string(),
            "unknown_event",
        ),
        (
            "user.created",
            json!({ "event": "UserCreated", "auth_user_id": "not valid!", "username": "a",
                    "email": null, "occurred_at": occurred })
            .to_string(),
            "invalid_auth_user_id",
        ),
        (
            "user.deleted",
            json!({ "event": "UserDeleted", "auth_user_id": "x2" }).to_string(),
            "missing_field",
        ),
    ];
    for (routing_key, body, _) in &bad {
        broker.publish_raw(routing_key, body.as_bytes()).await;
    }
    broker.publish(&created("ev-after-bad", "ada", 0)).await;
    eventually("the good message after the bad ones is handled", || async {
        stored_user(&app, "ev-after-bad").await.is_some()
    })
    .await;

    let mut dead = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    while dead.len() < 4 {
        assert!(
            Instant::now() < deadline,
            "only {} dead letters",
            dead.len()
        );
        dead.extend(broker.take_dead_letters().await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(dead.len(), 4);
    for ((_, body, reason), (dead_body, headers)) in bad.iter().zip(&dead) {
        let expected: Value =
            serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.clone()));
        assert_eq!(&expected, dead_body, "the message is kept as sent");
        let header = headers.inner().get(DEATH_REASON_HEADER);
        assert!(
            matches!(header, Some(AMQPValue::LongString(value)) if value.to_string() == *reason),
            "expected reason {reason}, got {header:?}"
        );
    }
    assert_eq!(
        broker.ready(&broker.topology.queue).await,
        0,
        "nothing left to loop on"
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM auth_users WHERE auth_user_id IN ('x1', 'x2')")
            .await,
        0
    );
    consumer.stop().await;
}

#[tokio::test]
async fn nothing_is_acknowledged_while_the_database_is_unreachable() {
    let app = TestApp::spawn().await;
    let broker = Broker::new().await;
    // Consumer A: a database on a closed port, and a prefetch of 2.
    let unreachable = Database::pool(&DatabaseConfig {
        database_pool_size: 0,
        database_max_overflow: 2,
        database_pool_timeout: Duration::from_secs(1),
        ..DatabaseConfig::for_url("postgres://postgres@127.0.0.1:1/nowhere")
    })
    .await
    .expect("pool");
    let settings = ConsumerSettings {
        prefetch: 2,
        ..broker.settings()
    };
    let consumer_a = RunningConsumer::start(settings, unreachable.pool, &app);

    let ids: Vec<String> = (1..=5).map(|n| format!("ev-db-down-{n}")).collect();
    for id in &ids {
        broker.publish(&created(id, "ada", 0)).await;
    }
    let queue = broker.topology.queue.clone();
    eventually("consumer A holds exactly its prefetch", || async {
        broker.ready(&queue).await == 3
    })
    .await;
    // Let A fail against the database a few times (pool timeout 1 s); the
    // prefetch bound holds meanwhile.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        broker.ready(&queue).await,
        3,
        "no more than the prefetch is taken"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM auth_users").await, 0);

    // A stops without having acknowledged: every message is back.
    consumer_a.stop().await;
    eventually("the messages are back in the queue", || async {
        broker.ready(&queue).await == 5
    })
    .await;

    // Consumer B, with the real database, handles them all.
    let consumer_b = consume(&app, &broker);
    for id in &ids {
        eventually("each message is handled", || async {
            username_of(&app, id).await.as_deref() == Some("ada")
        })
        .await;
    }
    eventually("and acknowledged", || async {
        broker.ready(&queue).await == 0
    })
    .await;
    consumer_b.stop().await;
}

/// A vhost of one test, deleted with it.
struct Vhost(String);

impl Vhost {
    async fn create() -> Self {
        let name = unique("user-service-test");
        rabbitmqctl(&["add_vhost", &name]).await;
        rabbitmqctl(&["set_permissions", "-p", &name, "guest", ".*", ".*", ".*"]).await;
        Self(name)
    }

    fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:5672/{}", self.0)
    }
}

impl Drop for Vhost {
    fn drop(&mut self) {
        let _ = std::process::Command::new("rabbitmqctl")
            .args(["delete_vhost", &self.0])
            .output();
    }
}

async fn rabbitmqctl(args: &[&str]) {
    let output = tokio::process::Command::new("rabbitmqctl")
        .args(args)
        .output()
        .await
        .expect("run rabbitmqctl");
    assert!(
        output.status.success(),
        "rabbitmqctl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn the_consumer_reconnects_after_the_broker_drops_its_connection() {
    let app = TestApp::spawn().await;
    let vhost = Vhost::create().await;
    let mut broker = Broker::on(vhost.url()).await;
    let consumer = consume(&app, &broker);

    broker.publish(&created("ev-before-drop", "ada", 0)).await;
    eventually("the first message is handled", || async {
        stored_user(&app, "ev-before-drop").await.is_some()
    })
    .await;

    rabbitmqctl(&[
        "close_all_connections",
        "--vhost",
        &vhost.0,
        "test: dropping connections",
    ])
    .await;
    eventually("the publisher sees its connection dropped", || async {
        !broker.connection.status().connected()
    })
    .await;
    broker.reconnect().await;

    // Published while the consumer may still be reconnecting: kept by the
    // durable queue, handled once it is back.
    broker.publish(&created("ev-after-drop", "grace", 0)).await;
    eventually(
        "the message published after the drop is handled",
        || async { username_of(&app, "ev-after-drop").await.as_deref() == Some("grace") },
    )
    .await;
    consumer.stop().await;
    drop(broker);
    drop(vhost);
}

#[tokio::test]
async fn the_consumer_stops_on_shutdown_and_leaves_unhandled_messages_queued() {
    let app = TestApp::spawn().await;
    let broker = Broker::new().await;
    let consumer = consume(&app, &broker);
    broker.publish(&created("ev-stop-1", "ada", 0)).await;
    eventually("the message is handled", || async {
        stored_user(&app, "ev-stop-1").await.is_some()
    })
    .await;
    consumer.stop().await;

    broker.publish(&created("ev-stop-2", "grace", 0)).await;
    let queue = broker.topology.queue.clone();
    eventually("the message waits in the queue", || async {
        broker.ready(&queue).await == 1
    })
    .await;
    // Check the subscription is really gone: no consumer on the queue.
    let passive = QueueDeclareOptions {
        passive: true,
        ..QueueDeclareOptions::default()
    };
    let declared = broker
        .channel
        .queue_declare(&queue, passive, FieldTable::default())
        .await
        .expect("passive declare");
    assert_eq!(declared.consumer_count(), 0);
    assert!(stored_user(&app, "ev-stop-2").await.is_none());
}

/// Waits until `n` dead letters have arrived and returns them.
async fn dead_letters(broker: &Broker, n: usize) -> Vec<(Value, FieldTable)> {
    let mut dead = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while dead.len() < n {
        assert!(
            Instant::now() < deadline,
            "only {} dead letters",
            dead.len()
        );
        dead.extend(broker.take_dead_letters().await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    dead
}

fn reason_of(headers: &FieldTable) -> Option<String> {
    match headers.inner().get(DEATH_REASON_HEADER) {
        Some(AMQPValue::LongString(value)) => Some(value.to_string()),
        _ => None,
    }
}

#[tokio::test]
async fn a_message_the_database_refuses_for_its_content_is_dead_lettered_and_the_queue_moves_on() {
    let app = TestApp::spawn().await;
    let broker = Broker::new().await;
    let consumer = consume(&app, &broker);

    // PostgreSQL refuses a NUL character in text ("invalid byte sequence"),
    // an error that is about the data, not about reaching the database.
    let nul = created("ev-nul", "ada\u{0}lovelace", 0);
    broker.publish(&nul).await;
    let behind: Vec<String> = (1..=3).map(|n| format!("ev-behind-nul-{n}")).collect();
    for id in &behind {
        broker.publish(&created(id, "grace", 1)).await;
    }
    for id in &behind {
        eventually("the messages queued behind it are handled", || async {
            username_of(&app, id).await.as_deref() == Some("grace")
        })
        .await;
    }
    let dead = dead_letters(&broker, 1).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].0, nul, "the message is kept as sent");
    assert_eq!(reason_of(&dead[0].1).as_deref(), Some("processing_failed"));
    assert!(stored_user(&app, "ev-nul").await.is_none());
    eventually("nothing is left to loop on", || async {
        broker.ready(&broker.topology.queue).await == 0
    })
    .await;
    consumer.stop().await;
}

#[tokio::test]
async fn an_event_dated_far_in_the_future_is_dead_lettered_and_later_events_still_apply() {
    let app = TestApp::spawn().await;
    let broker = Broker::new().await;
    let consumer = consume(&app, &broker);
    let id = "ev-future";

    broker.publish(&created(id, "ada", 0)).await;
    // Years ahead: stored, it would make every later event look older.
    let future = json!({
        "event": "UserUpdated", "auth_user_id": id, "username": "from-the-future",
        "email": null, "occurred_at": "2031-01-01T00:00:00Z",
    });
    broker.publish(&future).await;
    let deleted_ahead = json!({
        "event": "UserDeleted", "auth_user_id": id, "occurred_at": "2030-06-01T00:00:00Z",
    });
    broker.publish(&deleted_ahead).await;
    // Within the skew (a minute ahead of the clock) is fine.
    let slightly_ahead = (crate::helpers::start_time() + chrono::Duration::minutes(1)).to_rfc3339();
    broker
        .publish(&json!({
            "event": "UserUpdated", "auth_user_id": id, "username": "ada-skewed",
            "email": null, "occurred_at": slightly_ahead,
        }))
        .await;
    eventually("the slightly-ahead update applies", || async {
        username_of(&app, id).await.as_deref() == Some("ada-skewed")
    })
    .await;

    let dead = dead_letters(&broker, 2).await;
    assert_eq!(dead.len(), 2);
    assert_eq!(dead[0].0, future);
    assert_eq!(dead[1].0, deleted_ahead);
    for (_, headers) in &dead {
        assert_eq!(reason_of(headers).as_deref(), Some("occurred_in_future"));
    }
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM auth_user_tombstones WHERE auth_user_id = '{id}'"
        ))
        .await,
        0,
        "the future deletion left no tombstone"
    );

    // Once the clock has moved on, later events keep applying.
    app.clock.advance(chrono::Duration::hours(1));
    let later = (crate::helpers::start_time() + chrono::Duration::minutes(30)).to_rfc3339();
    broker
        .publish(&json!({
            "event": "UserUpdated", "auth_user_id": id, "username": "ada-later",
            "email": "ada@example.com", "occurred_at": later,
        }))
        .await;
    eventually("a later event applies", || async {
        username_of(&app, id).await.as_deref() == Some("ada-later")
    })
    .await;
    consumer.stop().await;
}
