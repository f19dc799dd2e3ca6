//! What a platform team runs the service with: HTTP cache hints, trusted
//! documents, GraphiQL's subscription endpoint, the state replicas share (Redis) and
//! OpenTelemetry traces.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `CACHE_MAX_AGE_SECS` | [`DEFAULT_CACHE_MAX_AGE`] | `max-age` of public, viewer-independent query answers (0: every answer is `no-store`) |
//! | `TRUSTED_DOCUMENTS` | [`DEFAULT_TRUSTED_DOCUMENTS`] | `off`, `log` (unknown documents logged and counted) or `enforce` (only manifest documents run) |
//! | `TRUSTED_DOCUMENTS_MANIFEST` | unset | path of the persisted-query manifest (Apollo's JSON format); required by `log` and `enforce` |
//! | `REDIS_URL` | unset | keep rate limits and the APQ cache in Redis, shared by every replica (in this process when unset) |
//! | `REDIS_KEY_PREFIX` | [`DEFAULT_REDIS_KEY_PREFIX`] | prefix of every Redis key the service writes |
//! | `REDIS_TIMEOUT_MS` | [`DEFAULT_REDIS_TIMEOUT`] | how long one Redis call may take before the service goes on without it |
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | unset | OTLP/HTTP collector (`/v1/traces` is appended); unset: no trace is exported |
//! | `OTEL_TRACES_SAMPLER_ARG` | [`DEFAULT_SAMPLE_RATIO`] | share of new traces sampled (parent-based) |
//! | `OTEL_SERVICE_NAME` | [`DEFAULT_SERVICE_NAME`] | `service.name` of the exported spans |
//! | `GRAPHIQL_SUBSCRIPTION_URL` | unset | WebSocket URL GraphiQL sends subscriptions to (default: `ws(s)://` the page's host `/graphql`) |

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use secrecy::SecretString;

use super::{parse_millis, parse_secs};

/// `CACHE_MAX_AGE_SECS`.
pub const DEFAULT_CACHE_MAX_AGE: Duration = Duration::from_secs(60);
/// `TRUSTED_DOCUMENTS`.
pub const DEFAULT_TRUSTED_DOCUMENTS: &str = "off";
/// `OTEL_TRACES_SAMPLER_ARG`.
pub const DEFAULT_SAMPLE_RATIO: f64 = 1.0;
/// `OTEL_SERVICE_NAME`.
pub const DEFAULT_SERVICE_NAME: &str = "user-service";
/// `REDIS_KEY_PREFIX`.
pub const DEFAULT_REDIS_KEY_PREFIX: &str = "user-service";
/// `REDIS_TIMEOUT_MS`.
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_millis(250);

/// How the trusted-document manifest is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TrustedDocumentsMode {
    /// Any document runs; no manifest is read.
    Off,
    /// Any document runs; those not in the manifest are logged and counted.
    Log,
    /// Only documents of the manifest run (by id or by identical body),
    /// unless the request bypasses the list (router secret, admin token).
    Enforce,
}

/// Cache hints, trusted documents, GraphiQL and shared state.
#[derive(Debug, Clone, Args)]
pub struct PlatformConfig {
    /// `max-age` of public, viewer-independent query answers (the variable
    /// is in seconds; 0 sends `no-store` on every answer).
    #[arg(
        long = "cache-max-age-secs",
        env = "CACHE_MAX_AGE_SECS",
        default_value = secs_default!(DEFAULT_CACHE_MAX_AGE),
        value_parser = parse_secs,
        global = true
    )]
    pub cache_max_age: Duration,
    /// Whether and how the trusted-document manifest is applied.
    #[arg(
        long,
        env = "TRUSTED_DOCUMENTS",
        value_enum,
        default_value = DEFAULT_TRUSTED_DOCUMENTS,
        global = true
    )]
    pub trusted_documents: TrustedDocumentsMode,
    /// The persisted-query manifest (Apollo's JSON format), read at start.
    #[arg(long, env = "TRUSTED_DOCUMENTS_MANIFEST", global = true)]
    pub trusted_documents_manifest: Option<PathBuf>,
    /// Where GraphiQL opens its WebSocket for subscriptions.
    #[arg(long, env = "GRAPHIQL_SUBSCRIPTION_URL", global = true)]
    pub graphiql_subscription_url: Option<String>,
    /// The OTLP/HTTP collector traces are exported to (unset: none).
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT", global = true)]
    pub otel_exporter_otlp_endpoint: Option<String>,
    /// The share of new traces sampled, 0.0 to 1.0 (a trace the caller
    /// sampled is always continued).
    #[arg(long, env = "OTEL_TRACES_SAMPLER_ARG", default_value_t = DEFAULT_SAMPLE_RATIO, global = true)]
    pub otel_traces_sampler_arg: f64,
    /// `service.name` of the exported spans.
    #[arg(long, env = "OTEL_SERVICE_NAME", default_value = DEFAULT_SERVICE_NAME, global = true)]
    pub otel_service_name: String,
    /// Redis for the state replicas share (rate limits, APQ).
    #[arg(long, env = "REDIS_URL", global = true, hide_env_values = true)]
    pub redis_url: Option<SecretString>,
    /// Prefix of every Redis key the service writes.
    #[arg(long, env = "REDIS_KEY_PREFIX", default_value = DEFAULT_REDIS_KEY_PREFIX, global = true)]
    pub redis_key_prefix: String,
    /// How long one Redis call may take before a rate limit lets the
    /// request through or an APQ lookup is a miss (the variable is in
    /// milliseconds).
    #[arg(
        long = "redis-timeout-ms",
        env = "REDIS_TIMEOUT_MS",
        default_value = millis_default!(DEFAULT_REDIS_TIMEOUT),
        value_parser = parse_millis,
        global = true
    )]
    pub redis_timeout: Duration,
}
