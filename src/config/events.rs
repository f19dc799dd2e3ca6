//! The broker and the consumer of the auth-service's events.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `RABBITMQ_URL` | [`DEFAULT_RABBITMQ_URL`] | the broker (the field lives on [`super::Config`]) |
//! | `RABBITMQ_EXCHANGE` | [`DEFAULT_EXCHANGE`] | the auth-service's topic exchange |
//! | `RABBITMQ_QUEUE` | [`DEFAULT_QUEUE`] | the queue this service consumes |
//! | `RABBITMQ_DEAD_LETTER_QUEUE` | `RABBITMQ_QUEUE` + `.dead` | where malformed messages go |
//! | `RABBITMQ_PREFETCH` | [`DEFAULT_PREFETCH`] | unacknowledged messages the broker may hand the consumer at once |
//! | `CONSUMER_ENABLED` | [`DEFAULT_CONSUMER_ENABLED`] | whether `serve` runs the event consumer beside the HTTP server |
//! | `CONSUMER_RETRY_MAX_MS` | [`DEFAULT_CONSUMER_RETRY_MAX`] | longest pause between reconnect / database retry attempts |

use std::time::Duration;

use clap::Args;

use super::parse_millis;

/// `RABBITMQ_URL`.
pub const DEFAULT_RABBITMQ_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
/// `RABBITMQ_EXCHANGE`.
pub const DEFAULT_EXCHANGE: &str = "auth.events";
/// `RABBITMQ_QUEUE`.
pub const DEFAULT_QUEUE: &str = "user-service.auth-events";
/// `RABBITMQ_PREFETCH`.
pub const DEFAULT_PREFETCH: u16 = 16;
/// `CONSUMER_ENABLED`.
pub const DEFAULT_CONSUMER_ENABLED: bool = true;
/// `CONSUMER_RETRY_MAX_MS`.
pub const DEFAULT_CONSUMER_RETRY_MAX: Duration = Duration::from_millis(30_000);

/// The RabbitMQ consumer of the auth-service's events.
#[derive(Debug, Clone, Args)]
pub struct EventsConfig {
    #[arg(long, env = "RABBITMQ_EXCHANGE", default_value = DEFAULT_EXCHANGE, global = true)]
    pub rabbitmq_exchange: String,
    #[arg(long, env = "RABBITMQ_QUEUE", default_value = DEFAULT_QUEUE, global = true)]
    pub rabbitmq_queue: String,
    /// Default: the queue's name followed by `.dead`.
    #[arg(long, env = "RABBITMQ_DEAD_LETTER_QUEUE", global = true)]
    pub rabbitmq_dead_letter_queue: Option<String>,
    #[arg(long, env = "RABBITMQ_PREFETCH", default_value_t = DEFAULT_PREFETCH, global = true)]
    pub rabbitmq_prefetch: u16,
    /// Whether `serve` also runs the consumer.
    #[arg(long, env = "CONSUMER_ENABLED", default_value_t = DEFAULT_CONSUMER_ENABLED, action = clap::ArgAction::Set, global = true)]
    pub consumer_enabled: bool,
    /// Longest pause between two reconnect or database retry attempts (the
    /// variable is in milliseconds).
    #[arg(
        long = "consumer-retry-max-ms",
        env = "CONSUMER_RETRY_MAX_MS",
        default_value = millis_default!(DEFAULT_CONSUMER_RETRY_MAX),
        value_parser = parse_millis,
        global = true
    )]
    pub consumer_retry_max: Duration,
}

impl EventsConfig {
    /// The dead-letter queue's name.
    pub fn dead_letter_queue(&self) -> String {
        self.rabbitmq_dead_letter_queue
            .clone()
            .unwrap_or_else(|| format!("{}.dead", self.rabbitmq_queue))
    }
}
