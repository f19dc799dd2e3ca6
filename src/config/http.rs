//! The HTTP surface and the GraphQL limits.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `ALLOWED_ORIGINS` | [`DEFAULT_ALLOWED_ORIGINS`] | CORS origins (exact match, comma separated) |
//! | `ENABLE_GRAPHIQL` / `ENABLE_INTROSPECTION` | on, off in production | |
//! | `MAX_BODY_BYTES` | [`DEFAULT_MAX_BODY_BYTES`] | request body limit (413 above it) |
//! | `GRAPHQL_MAX_DEPTH` / `GRAPHQL_MAX_COMPLEXITY` | [`DEFAULT_MAX_DEPTH`] / [`DEFAULT_MAX_COMPLEXITY`] | document limits (complexity: the cost model of `graphql::cost`, list sizes included, per request) |
//! | `GRAPHQL_MAX_TOKENS` / `GRAPHQL_MAX_NESTING` | [`DEFAULT_MAX_TOKENS`] / [`DEFAULT_MAX_NESTING`] | lexical bounds checked before parsing (nesting also bounds `variables`) |
//! | `GRAPHQL_MAX_RESPONSE_BYTES` | [`DEFAULT_MAX_RESPONSE_BYTES`] | the most bytes the answers of one request may take |
//! | `GRAPHQL_LOADER_DELAY_MS` | [`DEFAULT_LOADER_DELAY`] | how long a dataloader gathers keys before a batch |
//! | `GRAPHQL_MAX_ALIASES` | [`DEFAULT_MAX_ALIASES`] | aliases per document |
//! | `GRAPHQL_MAX_DIRECTIVES` | [`DEFAULT_MAX_DIRECTIVES`] | directives per field |
//! | `GRAPHQL_MAX_BATCH` | [`DEFAULT_MAX_BATCH`] | operations per batched POST |
//! | `REQUEST_TIMEOUT_MS` | [`DEFAULT_REQUEST_TIMEOUT`] | how long one GraphQL request may run (503 after) |
//! | `RATE_LIMIT_PER_IP` / `RATE_LIMIT_PER_USER` | [`DEFAULT_RATE_LIMIT_PER_IP`] / [`DEFAULT_RATE_LIMIT_PER_USER`] | requests a minute to `/graphql` per client address / per token subject (0: off) |
//! | `TRUST_X_FORWARDED_FOR` | [`DEFAULT_TRUST_X_FORWARDED_FOR`] | take the client address from the last `X-Forwarded-For` entry |
//! | `ROUTER_SECRET` | unset | router-only mode: `/graphql` needs it in `Router-Authorization` |
//! | `CSRF_PREVENTION` | [`DEFAULT_CSRF_PREVENTION`] | refuse simple requests without a preflight-forcing header |
//! | `APQ_CACHE_SIZE` | [`DEFAULT_APQ_CACHE_SIZE`] | automatic persisted queries kept (0: APQ off) |
//! | `ENABLE_METRICS` | [`DEFAULT_ENABLE_METRICS`] | serve `/metrics` |
//! | `READINESS_TIMEOUT_MS` | [`DEFAULT_READINESS_TIMEOUT`] | how long `/ready` and `/db/status` wait for a dependency |
//! | `READINESS_CACHE_MS` | [`DEFAULT_READINESS_CACHE`] | how long one `/ready` probe answers for (at most one probe per period) |
//! | `HEADER_READ_TIMEOUT_MS` | [`DEFAULT_HEADER_READ_TIMEOUT`] | how long a client may take to send a request's headers (the connection is closed after) |
//! | `BODY_READ_TIMEOUT_MS` | [`DEFAULT_BODY_READ_TIMEOUT`] | how long a client may take to send a request's body (408 after) |
//! | `SHUTDOWN_TIMEOUT_MS` | [`DEFAULT_SHUTDOWN_TIMEOUT`] | how long in-flight connections may run after the shutdown signal |

use std::time::Duration;

use clap::Args;
use secrecy::SecretString;

use super::parse_millis;

/// `ALLOWED_ORIGINS` (comma separated).
pub const DEFAULT_ALLOWED_ORIGINS: &str = "http://localhost:3000,http://localhost:5173";
/// `MAX_BODY_BYTES`.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// `GRAPHQL_MAX_DEPTH`.
pub const DEFAULT_MAX_DEPTH: usize = 15;
/// `GRAPHQL_MAX_COMPLEXITY`.
pub const DEFAULT_MAX_COMPLEXITY: usize = 250_000;
/// `GRAPHQL_MAX_TOKENS`.
pub const DEFAULT_MAX_TOKENS: usize = 10_000;
/// `GRAPHQL_MAX_NESTING`.
pub const DEFAULT_MAX_NESTING: usize = 64;
/// `GRAPHQL_MAX_RESPONSE_BYTES`.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;
/// `GRAPHQL_LOADER_DELAY_MS`.
pub const DEFAULT_LOADER_DELAY: Duration = Duration::from_millis(1);
/// `GRAPHQL_MAX_ALIASES`.
pub const DEFAULT_MAX_ALIASES: usize = 30;
/// `GRAPHQL_MAX_DIRECTIVES`.
pub const DEFAULT_MAX_DIRECTIVES: usize = 10;
/// `GRAPHQL_MAX_BATCH`.
pub const DEFAULT_MAX_BATCH: usize = 10;
/// `REQUEST_TIMEOUT_MS`.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_millis(10_000);
/// `RATE_LIMIT_PER_IP`.
pub const DEFAULT_RATE_LIMIT_PER_IP: u32 = 1200;
/// `RATE_LIMIT_PER_USER`.
pub const DEFAULT_RATE_LIMIT_PER_USER: u32 = 600;
/// `TRUST_X_FORWARDED_FOR`.
pub const DEFAULT_TRUST_X_FORWARDED_FOR: bool = false;
/// `CSRF_PREVENTION`.
pub const DEFAULT_CSRF_PREVENTION: bool = true;
/// `APQ_CACHE_SIZE`.
pub const DEFAULT_APQ_CACHE_SIZE: usize = 1000;
/// `ENABLE_METRICS`.
pub const DEFAULT_ENABLE_METRICS: bool = true;
/// `READINESS_TIMEOUT_MS`.
pub const DEFAULT_READINESS_TIMEOUT: Duration = Duration::from_millis(2000);

/// `READINESS_CACHE_MS`.
pub const DEFAULT_READINESS_CACHE: Duration = Duration::from_millis(1000);
/// `HEADER_READ_TIMEOUT_MS`.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_millis(10_000);
/// `BODY_READ_TIMEOUT_MS`.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_millis(10_000);
/// `SHUTDOWN_TIMEOUT_MS`.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_millis(10_000);

/// HTTP and GraphQL limits.
#[derive(Debug, Clone, Args)]
pub struct HttpConfig {
    #[arg(
        long,
        env = "ALLOWED_ORIGINS",
        value_delimiter = ',',
        default_value = DEFAULT_ALLOWED_ORIGINS,
        global = true
    )]
    pub allowed_origins: Vec<String>,
    #[arg(long, env = "ENABLE_GRAPHIQL", action = clap::ArgAction::Set, global = true)]
    pub enable_graphiql: Option<bool>,
    #[arg(long, env = "ENABLE_INTROSPECTION", action = clap::ArgAction::Set, global = true)]
    pub enable_introspection: Option<bool>,
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES, global = true)]
    pub max_body_bytes: usize,
    #[arg(long, env = "GRAPHQL_MAX_DEPTH", default_value_t = DEFAULT_MAX_DEPTH, global = true)]
    pub graphql_max_depth: usize,
    #[arg(long, env = "GRAPHQL_MAX_COMPLEXITY", default_value_t = DEFAULT_MAX_COMPLEXITY, global = true)]
    pub graphql_max_complexity: usize,
    /// Most tokens in one document (checked before parsing); also the most
    /// selections a document may expand to through its fragments.
    #[arg(long, env = "GRAPHQL_MAX_TOKENS", default_value_t = DEFAULT_MAX_TOKENS, global = true)]
    pub graphql_max_tokens: usize,
    /// Deepest nesting of `(`, `[` and `{` in a document (checked before
    /// parsing), and of lists and objects in its variables.
    #[arg(long, env = "GRAPHQL_MAX_NESTING", default_value_t = DEFAULT_MAX_NESTING, global = true)]
    pub graphql_max_nesting: usize,
    /// The most bytes the answers of one request (a batch together) may take.
    #[arg(long, env = "GRAPHQL_MAX_RESPONSE_BYTES", default_value_t = DEFAULT_MAX_RESPONSE_BYTES, global = true)]
    pub graphql_max_response_bytes: usize,
    /// How long a dataloader waits for more keys before loading a batch
    /// (the variable is in milliseconds).
    #[arg(
        long = "graphql-loader-delay-ms",
        env = "GRAPHQL_LOADER_DELAY_MS",
        default_value = millis_default!(DEFAULT_LOADER_DELAY),
        value_parser = parse_millis,
        global = true
    )]
    pub graphql_loader_delay: Duration,
    /// Most aliases a document may use (counted over all its operations and
    /// fragments).
    #[arg(long, env = "GRAPHQL_MAX_ALIASES", default_value_t = DEFAULT_MAX_ALIASES, global = true)]
    pub graphql_max_aliases: usize,
    /// Most directives on one field.
    #[arg(long, env = "GRAPHQL_MAX_DIRECTIVES", default_value_t = DEFAULT_MAX_DIRECTIVES, global = true)]
    pub graphql_max_directives: usize,
    /// Most operations in one batched POST.
    #[arg(long, env = "GRAPHQL_MAX_BATCH", default_value_t = DEFAULT_MAX_BATCH, global = true)]
    pub graphql_max_batch: usize,
    /// How long one GraphQL request may run (the variable is in
    /// milliseconds).
    #[arg(
        long = "request-timeout-ms",
        env = "REQUEST_TIMEOUT_MS",
        default_value = millis_default!(DEFAULT_REQUEST_TIMEOUT),
        value_parser = parse_millis,
        global = true
    )]
    pub request_timeout: Duration,
    /// Requests a minute one client address may send to `/graphql` (0: off).
    #[arg(long, env = "RATE_LIMIT_PER_IP", default_value_t = DEFAULT_RATE_LIMIT_PER_IP, global = true)]
    pub rate_limit_per_ip: u32,
    /// Requests a minute one authenticated user may send (0: off).
    #[arg(long, env = "RATE_LIMIT_PER_USER", default_value_t = DEFAULT_RATE_LIMIT_PER_USER, global = true)]
    pub rate_limit_per_user: u32,
    /// Take the client address from the last `X-Forwarded-For` entry (the one
    /// the trusted proxy in front of the service appended).
    #[arg(long, env = "TRUST_X_FORWARDED_FOR", default_value_t = DEFAULT_TRUST_X_FORWARDED_FOR, action = clap::ArgAction::Set, global = true)]
    pub trust_x_forwarded_for: bool,
    /// When set, `/graphql` answers only requests carrying it in
    /// `Router-Authorization` (router-only mode).
    #[arg(long, env = "ROUTER_SECRET", global = true, hide_env_values = true)]
    pub router_secret: Option<SecretString>,
    /// Refuse simple (CSRF-prone) requests, as Apollo's `csrfPrevention`.
    #[arg(long, env = "CSRF_PREVENTION", default_value_t = DEFAULT_CSRF_PREVENTION, action = clap::ArgAction::Set, global = true)]
    pub csrf_prevention: bool,
    /// Automatic persisted queries kept in memory (0: APQ off).
    #[arg(long, env = "APQ_CACHE_SIZE", default_value_t = DEFAULT_APQ_CACHE_SIZE, global = true)]
    pub apq_cache_size: usize,
    /// Serve `/metrics`.
    #[arg(long, env = "ENABLE_METRICS", default_value_t = DEFAULT_ENABLE_METRICS, action = clap::ArgAction::Set, global = true)]
    pub enable_metrics: bool,
    /// How long `/ready` and `/db/status` wait for each dependency (the
    /// variable is in milliseconds).
    #[arg(
        long = "readiness-timeout-ms",
        env = "READINESS_TIMEOUT_MS",
        default_value = millis_default!(DEFAULT_READINESS_TIMEOUT),
        value_parser = parse_millis,
        global = true
    )]
    pub readiness_timeout: Duration,
    /// How long one `/ready` probe answers for: calls within that period
    /// share it, so at most one probe runs per period (the variable is in
    /// milliseconds).
    #[arg(
        long = "readiness-cache-ms",
        env = "READINESS_CACHE_MS",
        default_value = millis_default!(DEFAULT_READINESS_CACHE),
        value_parser = parse_millis,
        global = true
    )]
    pub readiness_cache: Duration,
    /// How long a client may take to send the headers of a request before
    /// its connection is closed (the variable is in milliseconds).
    #[arg(
        long = "header-read-timeout-ms",
        env = "HEADER_READ_TIMEOUT_MS",
        default_value = millis_default!(DEFAULT_HEADER_READ_TIMEOUT),
        value_parser = parse_millis,
        global = true
    )]
    pub header_read_timeout: Duration,
    /// How long a client may take to send the whole body of a request
    /// (408 after; the variable is in milliseconds).
    #[arg(
        long = "body-read-timeout-ms",
        env = "BODY_READ_TIMEOUT_MS",
        default_value = millis_default!(DEFAULT_BODY_READ_TIMEOUT),
        value_parser = parse_millis,
        global = true
    )]
    pub body_read_timeout: Duration,
    /// How long in-flight connections may run after the shutdown signal
    /// before the server stops anyway (the variable is in milliseconds).
    #[arg(
        long = "shutdown-timeout-ms",
        env = "SHUTDOWN_TIMEOUT_MS",
        default_value = millis_default!(DEFAULT_SHUTDOWN_TIMEOUT),
        value_parser = parse_millis,
        global = true
    )]
    pub shutdown_timeout: Duration,
}
