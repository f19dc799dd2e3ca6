//! The broker objects the consumer needs, declared idempotently on every
//! (re)connection: the auth-service's durable topic exchange, this
//! service's durable queue bound to the three user routing keys, and the
//! durable dead-letter queue the main queue dead-letters into.
//!
//! A queue's arguments cannot change once it exists: declaring
//! `user-service.auth-events` with other dead-letter arguments than an
//! existing queue has makes the broker refuse the declaration
//! (`PRECONDITION_FAILED`), which the consumer logs and retries.

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{Channel, ExchangeKind};

/// The routing keys the queue is bound to.
pub const ROUTING_KEYS: [&str; 3] = ["user.created", "user.updated", "user.deleted"];

/// The names of the consumer's broker objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    pub exchange: String,
    pub queue: String,
    pub dead_letter_queue: String,
}

impl Topology {
    /// Declares the exchange, both queues and the bindings. Safe to repeat.
    #[tracing::instrument(skip_all, fields(exchange = %self.exchange, queue = %self.queue))]
    pub async fn declare(&self, channel: &Channel) -> lapin::Result<()> {
        let durable_exchange = ExchangeDeclareOptions {
            durable: true,
            ..ExchangeDeclareOptions::default()
        };
        channel
            .exchange_declare(
                &self.exchange,
                ExchangeKind::Topic,
                durable_exchange,
                FieldTable::default(),
            )
            .await?;
        let durable_queue = QueueDeclareOptions {
            durable: true,
            ..QueueDeclareOptions::default()
        };
        channel
            .queue_declare(
                &self.dead_letter_queue,
                durable_queue,
                FieldTable::default(),
            )
            .await?;
        channel
            .queue_declare(&self.queue, durable_queue, self.queue_arguments())
            .await?;
        for key in ROUTING_KEYS {
            channel
                .queue_bind(
                    &self.queue,
                    &self.exchange,
                    key,
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
        }
        Ok(())
    }

    /// The main queue dead-letters (rejected without requeue) through the
    /// default exchange straight into the dead-letter queue.
    fn queue_arguments(&self) -> FieldTable {
        let mut arguments = FieldTable::default();
        arguments.insert(
            "x-dead-letter-exchange".into(),
            AMQPValue::LongString(LongString::from("")),
        );
        arguments.insert(
            "x-dead-letter-routing-key".into(),
            AMQPValue::LongString(LongString::from(self.dead_letter_queue.as_str())),
        );
        arguments
    }
}
