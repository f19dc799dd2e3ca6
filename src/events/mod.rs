//! The RabbitMQ consumer of the auth-service's user events (contract §6).
//!
//! - [`topology`]: the exchange, queue, bindings and dead-letter queue,
//!   declared on every connection;
//! - [`message`]: parsing and validating one message;
//! - [`handler`]: applying an event to the database, one transaction each;
//! - this module: the connection loop ([`EventConsumer::run`]) that
//!   reconnects with jittered exponential backoff (`backon`), and the fate
//!   of each delivery: acknowledged after its change commits, dead-lettered
//!   (with an `x-death-reason` header) when malformed, dated more than
//!   [`handler::MAX_FUTURE_SKEW`] ahead of the clock, or refused by the
//!   database for its content; left unacknowledged while the database is
//!   down.
//!
//! Deliveries are handled one at a time, in the order the broker sends
//! them; at most `RABBITMQ_PREFETCH` are held unacknowledged. On shutdown
//! the consumer stops taking messages, finishes the one in hand, cancels
//! its subscription and closes; the broker requeues whatever was prefetched.

pub mod handler;
pub mod message;
pub mod topology;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use futures::StreamExt;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions,
    BasicPublishOptions, BasicQosOptions, BasicRejectOptions, ConfirmSelectOptions,
};
use lapin::publisher_confirm::Confirmation;
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{Channel, Connection, ConnectionProperties};
use secrecy::{ExposeSecret, SecretString};
use tokio_util::sync::CancellationToken;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::db::Pool;
use crate::db::auth_users::EventEffect;
use crate::events::handler::{EventHandler, HandleOutcome};
use crate::events::topology::Topology;

/// The header naming why a message was dead-lettered.
pub const DEATH_REASON_HEADER: &str = "x-death-reason";

/// How long establishing a broker connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The first pause before reconnecting (before jitter, which adds up to as
/// much again).
const FIRST_RECONNECT_DELAY: Duration = Duration::from_millis(100);

/// What the consumer needs to know about the broker.
#[derive(Clone)]
pub struct ConsumerSettings {
    pub rabbitmq_url: SecretString,
    pub topology: Topology,
    pub prefetch: u16,
    /// Longest pause between two reconnect or database attempts.
    pub retry_max: Duration,
    /// The connection name shown in the broker's management tools.
    pub connection_name: String,
}

impl ConsumerSettings {
    /// The settings of `config`.
    pub fn from_config(config: &Config) -> Self {
        Self {
            rabbitmq_url: config.rabbitmq_url.clone(),
            topology: Topology {
                exchange: config.events.rabbitmq_exchange.clone(),
                queue: config.events.rabbitmq_queue.clone(),
                dead_letter_queue: config.events.dead_letter_queue(),
            },
            prefetch: config.events.rabbitmq_prefetch.max(1),
            retry_max: config
                .events
                .consumer_retry_max
                .max(Duration::from_millis(10)),
            connection_name: format!("user-service {}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// Whether the consumer currently holds a subscription (for readiness).
#[derive(Debug, Clone, Default)]
pub struct ConsumerStatus(Arc<AtomicBool>);

impl ConsumerStatus {
    /// True while connected and subscribed to the queue.
    pub fn is_connected(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn set(&self, connected: bool) {
        self.0.store(connected, Ordering::Relaxed);
    }
}

/// Why a broker session ended other than by shutdown.
#[derive(Debug, thiserror::Error)]
enum SessionError {
    #[error("broker: {0}")]
    Broker(#[from] lapin::Error),
    #[error("timed out connecting to the broker")]
    ConnectTimeout,
    #[error("the broker ended the subscription")]
    StreamEnded,
}

/// The event consumer.
pub struct EventConsumer {
    settings: ConsumerSettings,
    handler: EventHandler,
    status: ConsumerStatus,
}

impl EventConsumer {
    pub fn new(settings: ConsumerSettings, pool: Pool, clock: SharedClock) -> Self {
        let handler = EventHandler::new(pool, clock, settings.retry_max);
        Self {
            settings,
            handler,
            status: ConsumerStatus::default(),
        }
    }

    /// Reports the connection through `status` (the application state's
    /// handle, so `/ready` can tell).
    pub fn with_status(mut self, status: ConsumerStatus) -> Self {
        self.status = status;
        self
    }

    /// Consumes until `shutdown` fires, reconnecting with backoff whenever
    /// the broker connection fails or drops.
    #[tracing::instrument(skip_all, fields(queue = %self.settings.topology.queue))]
    pub async fn run(&self, shutdown: CancellationToken) {
        let url = redact_url(self.settings.rabbitmq_url.expose_secret());
        let retry_max = self.settings.retry_max;
        // Pauses from 100 ms doubling, jittered up to twice as long, never
        // longer than `retry_max`.
        let builder = ExponentialBuilder::new()
            .with_min_delay(FIRST_RECONNECT_DELAY.min(retry_max / 2))
            .with_max_delay(retry_max / 2)
            .without_max_times()
            .with_jitter();
        let mut backoff = builder.build();
        loop {
            let mut subscribed = false;
            let result = self.session(&shutdown, &mut subscribed).await;
            self.status.set(false);
            if subscribed {
                // A session that got going starts the backoff afresh.
                backoff = builder.build();
            }
            match result {
                Ok(()) => break,
                Err(error) => {
                    let pause = backoff.next().unwrap_or(retry_max);
                    tracing::warn!(%error, broker = %url, retry_in_ms = pause.as_millis() as u64, "event consumer disconnected; reconnecting");
                    tokio::select! {
                        () = tokio::time::sleep(pause) => {}
                        () = shutdown.cancelled() => break,
                    }
                }
            }
        }
        tracing::info!("event consumer stopped");
    }

    /// One connection: declare, subscribe, handle deliveries until shutdown
    /// (`Ok`) or a broker failure (`Err`).
    async fn session(
        &self,
        shutdown: &CancellationToken,
        subscribed: &mut bool,
    ) -> Result<(), SessionError> {
        let settings = &self.settings;
        let properties = ConnectionProperties::default()
            .with_connection_name(settings.connection_name.as_str().into());
        let connection = tokio::select! {
            connected = tokio::time::timeout(
                CONNECT_TIMEOUT,
                Connection::connect(settings.rabbitmq_url.expose_secret(), properties),
            ) => connected.map_err(|_| SessionError::ConnectTimeout)??,
            () = shutdown.cancelled() => return Ok(()),
        };
        let result = self.consume_on(&connection, shutdown, subscribed).await;
        // On shutdown, and after a failure that left the connection up (a
        // refused declaration closes only the channel): close it, so no
        // connection leaks across reconnects. The broker requeues whatever
        // was delivered and not acknowledged.
        if connection.status().connected()
            && let Err(error) = connection.close(200, "user-service consumer closing").await
        {
            tracing::debug!(%error, "closing the broker connection failed");
        }
        result
    }

    /// Declares the topology, subscribes and handles deliveries on
    /// `connection` until shutdown (`Ok`) or a broker failure (`Err`).
    async fn consume_on(
        &self,
        connection: &Connection,
        shutdown: &CancellationToken,
        subscribed: &mut bool,
    ) -> Result<(), SessionError> {
        let settings = &self.settings;
        let channel = connection.create_channel().await?;
        settings.topology.declare(&channel).await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        channel
            .basic_qos(settings.prefetch, BasicQosOptions::default())
            .await?;
        let mut consumer = channel
            .basic_consume(
                &settings.topology.queue,
                "",
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        *subscribed = true;
        self.status.set(true);
        tracing::info!(prefetch = settings.prefetch, "event consumer subscribed");

        loop {
            let next = tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                next = consumer.next() => next,
            };
            match next {
                Some(Ok(delivery)) => self.process(&channel, delivery, shutdown).await,
                Some(Err(error)) => return Err(SessionError::Broker(error)),
                None => return Err(SessionError::StreamEnded),
            }
        }
        // Shutdown: stop deliveries first; the message in hand is done.
        if let Err(error) = channel
            .basic_cancel(consumer.tag().as_str(), BasicCancelOptions::default())
            .await
        {
            tracing::debug!(%error, "cancelling the subscription failed");
        }
        Ok(())
    }

    /// Decides the fate of one delivery.
    #[tracing::instrument(skip_all, fields(delivery_tag = delivery.delivery_tag, routing_key = %delivery.routing_key, redelivered = delivery.redelivered))]
    async fn process(&self, channel: &Channel, delivery: Delivery, shutdown: &CancellationToken) {
        // The publisher's trace goes on here (W3C `traceparent` header).
        crate::telemetry::set_parent_from_amqp(
            &tracing::Span::current(),
            delivery.properties.headers().as_ref(),
        );
        let event = match message::parse(&delivery.data) {
            Ok(event) => event,
            Err(malformed) => {
                dead_letter(channel, &self.settings.topology, &delivery, &malformed).await;
                return;
            }
        };
        match self.handler.handle(&event, shutdown).await {
            HandleOutcome::Done(effect) => {
                if let Err(error) = delivery.acker.ack(BasicAckOptions::default()).await {
                    // Committed but not acknowledged: the redelivery will
                    // be found stale.
                    tracing::warn!(%error, "acknowledgement failed");
                    return;
                }
                let outcome = match effect {
                    EventEffect::Applied => "applied",
                    EventEffect::Stale => "stale",
                };
                metrics::counter!("events_consumed_total", "event" => event.kind(), "outcome" => outcome)
                    .increment(1);
                tracing::info!(event = event.kind(), auth_user_id = %event.auth_user_id(), outcome, "event handled");
            }
            HandleOutcome::Rejected(refused) => {
                dead_letter(channel, &self.settings.topology, &delivery, &refused).await;
            }
            HandleOutcome::Interrupted => {
                let requeue = BasicNackOptions {
                    requeue: true,
                    ..BasicNackOptions::default()
                };
                if let Err(error) = delivery.acker.nack(requeue).await {
                    tracing::debug!(%error, "requeue failed; the broker requeues on close");
                }
            }
        }
    }
}

/// Moves `delivery` to the dead-letter queue with the reason in the
/// `x-death-reason` header: republished (confirmed by the broker) and then
/// acknowledged. Should the republish fail, the message is rejected
/// instead, and the queue's own dead-lettering moves it (without the
/// header).
async fn dead_letter(
    channel: &Channel,
    topology: &Topology,
    delivery: &Delivery,
    malformed: &message::Malformed,
) {
    tracing::warn!(reason = malformed.reason, detail = %malformed.detail, "dead-lettering a message");
    metrics::counter!("events_dead_lettered_total", "reason" => malformed.reason).increment(1);
    let mut headers = delivery.properties.headers().clone().unwrap_or_default();
    crate::telemetry::inject_amqp(&mut headers);
    headers.insert(
        DEATH_REASON_HEADER.into(),
        AMQPValue::LongString(LongString::from(malformed.reason)),
    );
    headers.insert(
        "x-death-detail".into(),
        AMQPValue::LongString(LongString::from(malformed.detail.as_str())),
    );
    headers.insert(
        "x-original-routing-key".into(),
        AMQPValue::LongString(LongString::from(delivery.routing_key.as_str())),
    );
    let properties = delivery
        .properties
        .clone()
        .with_headers(headers)
        .with_delivery_mode(2);
    let published: lapin::Result<Confirmation> = async {
        channel
            .basic_publish(
                "",
                &topology.dead_letter_queue,
                BasicPublishOptions::default(),
                &delivery.data,
                properties,
            )
            .await?
            .await
    }
    .await;
    match published {
        Ok(confirmation) if confirmation.is_ack() => {
            if let Err(error) = delivery.acker.ack(BasicAckOptions::default()).await {
                tracing::warn!(%error, "acknowledging a dead-lettered message failed");
            }
        }
        other => {
            tracing::warn!(result = ?other.map(|c| c.is_ack()), "republishing to the dead-letter queue failed; rejecting");
            if let Err(error) = delivery
                .acker
                .reject(BasicRejectOptions { requeue: false })
                .await
            {
                tracing::warn!(%error, "rejecting a malformed message failed");
            }
        }
    }
}

/// A URL with its password replaced, for logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "<unparseable url>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_never_reaches_the_log() {
        let redacted = redact_url("amqp://guest:s3cret@rabbit:5672/%2f");
        assert!(!redacted.contains("s3cret"));
        assert!(redacted.contains("guest"));
    }
}
