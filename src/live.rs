//! Live updates: committed changes, heard from PostgreSQL and fanned out
//! to this process's subscribers.
//!
//! Every data-changing mutation records exactly one activity event in its
//! transaction (see [`crate::service`]); a trigger on `activity_events`
//! issues `NOTIFY user_service_activity` with the event as JSON in that same
//! transaction. PostgreSQL delivers a notification only once its
//! transaction commits, and to every session listening: so each replica's
//! [`LiveHub`] hears every committed change, whichever replica made it,
//! and never one that was rolled back.
//!
//! A hub owns one dedicated connection (outside the pool) that `LISTEN`s,
//! opened when the first subscriber arrives and reopened with backoff when
//! it drops (changes committed while it is down are not replayed). Events
//! go to subscribers through a bounded broadcast ring of
//! `SUBSCRIPTION_BUFFER` events: memory does not grow with slow
//! subscribers; one that falls further behind than the ring is told it
//! lagged ([`LiveEvents::next`]) and is dropped by its connection.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures::StreamExt;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::db::activity::ActivityRow;
use crate::domain::{ActivityKind, AuthUserId};

/// The channel the `activity_events` trigger notifies.
pub const CHANNEL: &str = "user_service_activity";

/// How long a subscriber waits for the listening connection.
const LISTEN_WAIT: Duration = Duration::from_secs(5);

/// Longest pause between two attempts to reopen the listening connection.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The subscriptions' source of committed changes in this process.
#[derive(Clone)]
pub struct LiveHub {
    inner: Arc<HubInner>,
}

struct HubInner {
    url: SecretString,
    sender: broadcast::Sender<Arc<ActivityRow>>,
    listening: watch::Receiver<bool>,
    listening_tx: watch::Sender<bool>,
    started: OnceLock<()>,
    stop: CancellationToken,
    connections: Arc<ConnectionCounts>,
}

impl Drop for HubInner {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Why a subscriber cannot be served.
#[derive(Debug, thiserror::Error)]
#[error("live updates are not available: the database does not answer")]
pub struct NotListening;

impl LiveHub {
    /// A hub listening on the database at `url` once subscribed to, whose
    /// subscribers may fall `buffer` events behind.
    pub fn new(url: SecretString, buffer: usize) -> Self {
        let (sender, _) = broadcast::channel(buffer.max(1));
        let (listening_tx, listening) = watch::channel(false);
        Self {
            inner: Arc::new(HubInner {
                url,
                sender,
                listening,
                listening_tx,
                started: OnceLock::new(),
                stop: CancellationToken::new(),
                connections: Arc::default(),
            }),
        }
    }

    /// The events committed from now on. Opens the listening connection
    /// the first time, and waits (a few seconds at most) until it listens.
    pub async fn subscribe(&self) -> Result<LiveEvents, NotListening> {
        let receiver = self.inner.sender.subscribe();
        self.start();
        let mut listening = self.inner.listening.clone();
        match tokio::time::timeout(LISTEN_WAIT, listening.wait_for(|listening| *listening)).await {
            Ok(Ok(_)) => Ok(LiveEvents { receiver }),
            _ => Err(NotListening),
        }
    }

    /// Subscribers in this process now.
    pub fn subscribers(&self) -> usize {
        self.inner.sender.receiver_count()
    }

    /// The open subscription connections of this process.
    pub fn connections(&self) -> &Arc<ConnectionCounts> {
        &self.inner.connections
    }

    /// Whether the listening connection is up.
    pub fn is_listening(&self) -> bool {
        *self.inner.listening.borrow()
    }

    fn start(&self) {
        self.inner.started.get_or_init(|| {
            tokio::spawn(listen(
                self.inner.url.clone(),
                self.inner.sender.clone(),
                self.inner.listening_tx.clone(),
                self.inner.stop.clone(),
            ));
        });
    }
}

/// What one subscriber receives.
pub struct LiveEvents {
    receiver: broadcast::Receiver<Arc<ActivityRow>>,
}

/// A subscriber that fell further behind than the buffer.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the subscriber fell {0} events behind and was dropped")]
pub struct Lagged(pub u64);

impl LiveEvents {
    /// The next committed event; `Err` once the subscriber lagged (it
    /// should then be dropped), `Ok(None)` when the hub is gone.
    pub async fn next(&mut self) -> Result<Option<Arc<ActivityRow>>, Lagged> {
        match self.receiver.recv().await {
            Ok(event) => Ok(Some(event)),
            Err(broadcast::error::RecvError::Closed) => Ok(None),
            Err(broadcast::error::RecvError::Lagged(missed)) => Err(Lagged(missed)),
        }
    }
}

/// Open subscription connections, per token subject and per client
/// address, for their caps.
#[derive(Debug, Default)]
pub struct ConnectionCounts {
    counts: Mutex<HashMap<ConnectionKey, usize>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ConnectionKey {
    User(String),
    Address(IpAddr),
}

/// One open connection counted against a cap; uncounted when dropped.
#[derive(Debug)]
pub struct ConnectionSlot {
    counts: Arc<ConnectionCounts>,
    key: ConnectionKey,
}

impl ConnectionCounts {
    /// Open connections from `address`.
    pub fn from_address(&self, address: IpAddr) -> usize {
        self.count(&ConnectionKey::Address(address))
    }

    /// Open connections of `user`.
    pub fn of_user(&self, user: &str) -> usize {
        self.count(&ConnectionKey::User(user.to_owned()))
    }

    /// Counts one more connection from `address`, unless it holds `max`.
    pub fn hold_address(self: &Arc<Self>, address: IpAddr, max: usize) -> Option<ConnectionSlot> {
        self.hold(ConnectionKey::Address(address), max)
    }

    /// Counts one more connection of `user`, unless they hold `max`.
    pub fn hold_user(self: &Arc<Self>, user: &str, max: usize) -> Option<ConnectionSlot> {
        self.hold(ConnectionKey::User(user.to_owned()), max)
    }

    fn count(&self, key: &ConnectionKey) -> usize {
        self.counts
            .lock()
            .map(|counts| counts.get(key).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    fn hold(self: &Arc<Self>, key: ConnectionKey, max: usize) -> Option<ConnectionSlot> {
        let mut counts = self.counts.lock().ok()?;
        let held = counts.entry(key.clone()).or_insert(0);
        if *held >= max {
            if *held == 0 {
                counts.remove(&key);
            }
            return None;
        }
        *held += 1;
        Some(ConnectionSlot {
            counts: self.clone(),
            key,
        })
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        if let Ok(mut counts) = self.counts.counts.lock()
            && let Some(held) = counts.get_mut(&self.key)
        {
            *held = held.saturating_sub(1);
            if *held == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

/// The notification's JSON, as the trigger builds it.
#[derive(Debug, Deserialize)]
struct Notified {
    id: Uuid,
    auth_user_id: String,
    kind: String,
    occurred_at: DateTime<Utc>,
    goal_id: Option<Uuid>,
    badge_id: Option<Uuid>,
    summary: String,
}

/// The activity row a notification carries, if it is well-formed.
pub fn parse_notification(payload: &str) -> Option<ActivityRow> {
    let notified: Notified = serde_json::from_str(payload).ok()?;
    Some(ActivityRow {
        id: notified.id,
        auth_user_id: AuthUserId::parse(&notified.auth_user_id).ok()?,
        kind: ActivityKind::from_db(&notified.kind)?,
        occurred_at: notified.occurred_at,
        goal_id: notified.goal_id,
        badge_id: notified.badge_id,
        summary: notified.summary,
    })
}

/// Keeps a connection listening until `stop`, reopening it with backoff.
async fn listen(
    url: SecretString,
    sender: broadcast::Sender<Arc<ActivityRow>>,
    listening: watch::Sender<bool>,
    stop: CancellationToken,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let outcome = tokio::select! {
            () = stop.cancelled() => return,
            outcome = listen_once(&url, &sender, &listening) => outcome,
        };
        listening.send_replace(false);
        match outcome {
            Ok(()) => backoff = Duration::from_millis(100),
            Err(error) => tracing::warn!(%error, "the live-updates listener lost its connection"),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

async fn listen_once(
    url: &SecretString,
    sender: &broadcast::Sender<Arc<ActivityRow>>,
    listening: &watch::Sender<bool>,
) -> Result<(), diesel::result::Error> {
    let mut conn = AsyncPgConnection::establish(url.expose_secret())
        .await
        .map_err(|error| {
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::ClosedConnection,
                Box::new(error.to_string()),
            )
        })?;
    diesel::sql_query(format!("LISTEN {CHANNEL}"))
        .execute(&mut conn)
        .await?;
    listening.send_replace(true);
    tracing::info!(channel = CHANNEL, "listening for committed changes");
    let mut notifications = std::pin::pin!(conn.notifications_stream());
    while let Some(notification) = notifications.next().await {
        let notification = notification?;
        match parse_notification(&notification.payload) {
            Some(row) => {
                metrics::counter!("live_events_total").increment(1);
                // No receiver is fine: nobody is subscribed right now.
                let _ = sender.send(Arc::new(row));
            }
            None => tracing::warn!(
                payload = %notification.payload,
                "an unreadable live-update notification was skipped"
            ),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_parse_as_the_trigger_writes_them() {
        let payload = r#"{"id":"0193a1c2-0000-7000-8000-000000000001","auth_user_id":"ada","kind":"GOAL_CREATED","occurred_at":"2026-11-21T10:00:00.123456+00:00","goal_id":"0193a1c2-0000-7000-8000-000000000002","badge_id":null,"summary":"Created the goal \"Rust\""}"#;
        let row = parse_notification(payload).expect("parses");
        assert_eq!(row.auth_user_id.as_str(), "ada");
        assert_eq!(row.kind, ActivityKind::GoalCreated);
        assert_eq!(row.occurred_at.timestamp_subsec_micros(), 123_456);
        assert!(row.goal_id.is_some() && row.badge_id.is_none());
        for bad in ["", "{}", r#"{"id":"x"}"#] {
            assert!(parse_notification(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn connections_are_counted_against_their_cap_and_released() {
        let counts = Arc::new(ConnectionCounts::default());
        let address: IpAddr = "10.0.0.1".parse().unwrap();
        let first = counts.hold_address(address, 2).unwrap();
        let second = counts.hold_address(address, 2).unwrap();
        assert!(counts.hold_address(address, 2).is_none());
        assert!(
            counts.hold_user("ada", 0).is_none(),
            "a cap of 0 refuses all"
        );
        assert_eq!(counts.from_address(address), 2);
        drop(first);
        let third = counts.hold_address(address, 2).unwrap();
        drop((second, third));
        assert_eq!(counts.from_address(address), 0);
        let _ada = counts.hold_user("ada", 1).unwrap();
        assert_eq!(counts.of_user("ada"), 1);
        assert!(counts.hold_user("ada", 1).is_none());
    }

    #[tokio::test]
    async fn a_subscriber_that_falls_behind_the_buffer_is_told_it_lagged() {
        let hub = LiveHub::new(SecretString::from("postgres://unused".to_owned()), 4);
        // Subscribe without the listener: the receiver alone.
        let mut slow = LiveEvents {
            receiver: hub.inner.sender.subscribe(),
        };
        let row = parse_notification(r#"{"id":"0193a1c2-0000-7000-8000-000000000001","auth_user_id":"ada","kind":"PLAN_CHANGED","occurred_at":"2026-11-21T10:00:00Z","goal_id":null,"badge_id":null,"summary":"s"}"#).unwrap();
        for _ in 0..10 {
            hub.inner.sender.send(Arc::new(row.clone())).unwrap();
        }
        // The ring holds 4: the 6 oldest are gone, and the subscriber
        // learns it rather than the ring growing.
        assert!(matches!(slow.next().await, Err(Lagged(6))));
    }
}
