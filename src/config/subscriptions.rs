//! GraphQL subscriptions over WebSocket (`/graphql`) and their limits.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `SUBSCRIPTIONS_ENABLED` | [`DEFAULT_SUBSCRIPTIONS_ENABLED`] | accept WebSocket upgrades on `/graphql` |
//! | `SUBSCRIPTION_MAX_CONNECTIONS_PER_USER` | [`DEFAULT_MAX_CONNECTIONS_PER_USER`] | open WebSocket connections per token subject (0: none) |
//! | `SUBSCRIPTION_MAX_CONNECTIONS_PER_IP` | [`DEFAULT_MAX_CONNECTIONS_PER_IP`] | open WebSocket connections per client address (0: none) |
//! | `SUBSCRIPTION_MAX_PER_CONNECTION` | [`DEFAULT_MAX_PER_CONNECTION`] | active subscriptions on one connection |
//! | `SUBSCRIPTION_INIT_TIMEOUT_MS` | [`DEFAULT_INIT_TIMEOUT`] | how long a client may take to send `connection_init` |
//! | `SUBSCRIPTION_IDLE_TIMEOUT_MS` | [`DEFAULT_IDLE_TIMEOUT`] | a connection that sends nothing (not even a pong) for this long is closed |
//! | `SUBSCRIPTION_PING_INTERVAL_MS` | [`DEFAULT_PING_INTERVAL`] | how often the server pings (WebSocket ping frames) |
//! | `SUBSCRIPTION_BUFFER` | [`DEFAULT_BUFFER`] | events one subscriber may fall behind before it is dropped |
//! | `SUBSCRIPTION_SEND_TIMEOUT_MS` | [`DEFAULT_SEND_TIMEOUT`] | how long one message may take to reach a client before it is dropped |

use std::time::Duration;

use clap::Args;

use super::parse_millis;

/// `SUBSCRIPTIONS_ENABLED`.
pub const DEFAULT_SUBSCRIPTIONS_ENABLED: bool = true;
/// `SUBSCRIPTION_MAX_CONNECTIONS_PER_USER`.
pub const DEFAULT_MAX_CONNECTIONS_PER_USER: usize = 5;
/// `SUBSCRIPTION_MAX_CONNECTIONS_PER_IP`.
pub const DEFAULT_MAX_CONNECTIONS_PER_IP: usize = 50;
/// `SUBSCRIPTION_MAX_PER_CONNECTION`.
pub const DEFAULT_MAX_PER_CONNECTION: usize = 10;
/// `SUBSCRIPTION_INIT_TIMEOUT_MS`.
pub const DEFAULT_INIT_TIMEOUT: Duration = Duration::from_millis(10_000);
/// `SUBSCRIPTION_IDLE_TIMEOUT_MS`.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_millis(60_000);
/// `SUBSCRIPTION_PING_INTERVAL_MS`.
pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_millis(15_000);
/// `SUBSCRIPTION_BUFFER`.
pub const DEFAULT_BUFFER: usize = 256;
/// `SUBSCRIPTION_SEND_TIMEOUT_MS`.
pub const DEFAULT_SEND_TIMEOUT: Duration = Duration::from_millis(10_000);

/// Subscriptions and their limits.
#[derive(Debug, Clone, Args)]
pub struct SubscriptionConfig {
    /// Whether `/graphql` accepts WebSocket upgrades.
    #[arg(long, env = "SUBSCRIPTIONS_ENABLED", default_value_t = DEFAULT_SUBSCRIPTIONS_ENABLED, action = clap::ArgAction::Set, global = true)]
    pub subscriptions_enabled: bool,
    /// Open WebSocket connections per token subject.
    #[arg(long, env = "SUBSCRIPTION_MAX_CONNECTIONS_PER_USER", default_value_t = DEFAULT_MAX_CONNECTIONS_PER_USER, global = true)]
    pub subscription_max_connections_per_user: usize,
    /// Open WebSocket connections per client address.
    #[arg(long, env = "SUBSCRIPTION_MAX_CONNECTIONS_PER_IP", default_value_t = DEFAULT_MAX_CONNECTIONS_PER_IP, global = true)]
    pub subscription_max_connections_per_ip: usize,
    /// Active subscriptions on one connection.
    #[arg(long, env = "SUBSCRIPTION_MAX_PER_CONNECTION", default_value_t = DEFAULT_MAX_PER_CONNECTION, global = true)]
    pub subscription_max_per_connection: usize,
    /// How long a client may take to send `connection_init` (milliseconds).
    #[arg(
        long = "subscription-init-timeout-ms",
        env = "SUBSCRIPTION_INIT_TIMEOUT_MS",
        default_value = millis_default!(DEFAULT_INIT_TIMEOUT),
        value_parser = parse_millis,
        global = true
    )]
    pub subscription_init_timeout: Duration,
    /// A connection silent for this long is closed (milliseconds).
    #[arg(
        long = "subscription-idle-timeout-ms",
        env = "SUBSCRIPTION_IDLE_TIMEOUT_MS",
        default_value = millis_default!(DEFAULT_IDLE_TIMEOUT),
        value_parser = parse_millis,
        global = true
    )]
    pub subscription_idle_timeout: Duration,
    /// How often the server sends a WebSocket ping (milliseconds).
    #[arg(
        long = "subscription-ping-interval-ms",
        env = "SUBSCRIPTION_PING_INTERVAL_MS",
        default_value = millis_default!(DEFAULT_PING_INTERVAL),
        value_parser = parse_millis,
        global = true
    )]
    pub subscription_ping_interval: Duration,
    /// Events one subscriber may fall behind before it is dropped.
    #[arg(long, env = "SUBSCRIPTION_BUFFER", default_value_t = DEFAULT_BUFFER, global = true)]
    pub subscription_buffer: usize,
    /// How long one message may take to reach a client (milliseconds).
    #[arg(
        long = "subscription-send-timeout-ms",
        env = "SUBSCRIPTION_SEND_TIMEOUT_MS",
        default_value = millis_default!(DEFAULT_SEND_TIMEOUT),
        value_parser = parse_millis,
        global = true
    )]
    pub subscription_send_timeout: Duration,
}
