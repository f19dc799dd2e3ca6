//! Token verification (HS256 secret or the auth-service's JWKS) and the
//! auth-service HTTP client (timeouts, retries, circuit breaker).
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `JWT_SECRET` (alias `SECRET_KEY`) | a development secret ([`super::DEVELOPMENT_SECRET`]) | HS256 key |
//! | `AUTH_JWKS_URL` | unset | the auth-service's JWKS, for RS256/ES256 |
//! | `JWT_ALGORITHM` | `HS256` (`RS256` with JWKS) | the one accepted algorithm |
//! | `JWT_ISSUER` / `JWT_AUDIENCE` | unset | when set, required in every token and checked |
//! | `JWT_USER_CLAIM` | [`DEFAULT_USER_CLAIM`] | the claim holding the user id |
//! | `AUTH_JWKS_TIMEOUT_MS` | [`DEFAULT_JWKS_TIMEOUT`] | timeout of one JWKS download |
//! | `AUTH_JWKS_MIN_REFRESH_MS` | [`DEFAULT_JWKS_MIN_REFRESH`] | at most one JWKS download per this interval when tokens name unknown `kid`s |
//! | `AUTH_JWKS_TTL_SECS` | [`DEFAULT_JWKS_TTL`] | **seconds** after which the cached key set is downloaded again |
//! | `AUTH_SERVICE_URL` | [`DEFAULT_SERVICE_URL`] | the auth-service's HTTP API |
//! | `AUTH_SERVICE_TIMEOUT_MS` | [`DEFAULT_SERVICE_TIMEOUT`] | connect and total timeout of one auth-service request |
//! | `AUTH_SERVICE_RETRIES` | [`DEFAULT_SERVICE_RETRIES`] | extra attempts after a transient failure (timeout, refused, 5xx, 429) |
//! | `AUTH_SERVICE_BUDGET_MS` | [`DEFAULT_SERVICE_BUDGET`] | the most one lookup may take, retries included |
//! | `AUTH_SERVICE_BREAKER_THRESHOLD` | [`DEFAULT_BREAKER_THRESHOLD`] | consecutive failed lookups that open the circuit breaker |
//! | `AUTH_SERVICE_BREAKER_COOLDOWN_MS` | [`DEFAULT_BREAKER_COOLDOWN`] | how long the breaker stays open before one trial lookup |

use std::time::Duration;

use clap::Args;
use jsonwebtoken::Algorithm;
use secrecy::SecretString;

use super::{parse_millis, parse_secs};

/// `JWT_USER_CLAIM`.
pub const DEFAULT_USER_CLAIM: &str = "sub";
/// `AUTH_JWKS_TIMEOUT_MS`.
pub const DEFAULT_JWKS_TIMEOUT: Duration = Duration::from_millis(2000);
/// `AUTH_JWKS_MIN_REFRESH_MS`.
pub const DEFAULT_JWKS_MIN_REFRESH: Duration = Duration::from_millis(30_000);
/// `AUTH_JWKS_TTL_SECS` (read in seconds).
pub const DEFAULT_JWKS_TTL: Duration = Duration::from_secs(3600);
/// `AUTH_SERVICE_URL`.
pub const DEFAULT_SERVICE_URL: &str = "http://127.0.0.1:8000";
/// `AUTH_SERVICE_TIMEOUT_MS`.
pub const DEFAULT_SERVICE_TIMEOUT: Duration = Duration::from_millis(800);
/// `AUTH_SERVICE_RETRIES`.
pub const DEFAULT_SERVICE_RETRIES: u32 = 2;
/// `AUTH_SERVICE_BUDGET_MS`.
pub const DEFAULT_SERVICE_BUDGET: Duration = Duration::from_millis(2000);
/// `AUTH_SERVICE_BREAKER_THRESHOLD`.
pub const DEFAULT_BREAKER_THRESHOLD: u32 = 5;
/// `AUTH_SERVICE_BREAKER_COOLDOWN_MS`.
pub const DEFAULT_BREAKER_COOLDOWN: Duration = Duration::from_millis(30_000);

/// Token verification and the auth-service client.
#[derive(Debug, Clone, Args)]
pub struct AuthConfig {
    #[arg(long, env = "JWT_SECRET", global = true, hide_env_values = true)]
    pub jwt_secret: Option<SecretString>,
    /// Alias of `JWT_SECRET`.
    #[arg(long, env = "SECRET_KEY", global = true, hide_env_values = true)]
    pub secret_key: Option<SecretString>,
    #[arg(long, env = "AUTH_JWKS_URL", global = true)]
    pub auth_jwks_url: Option<String>,
    #[arg(long, env = "JWT_ALGORITHM", global = true, value_parser = parse_algorithm)]
    pub jwt_algorithm: Option<Algorithm>,
    #[arg(long, env = "JWT_ISSUER", global = true)]
    pub jwt_issuer: Option<String>,
    #[arg(long, env = "JWT_AUDIENCE", global = true)]
    pub jwt_audience: Option<String>,
    #[arg(long, env = "JWT_USER_CLAIM", default_value = DEFAULT_USER_CLAIM, global = true)]
    pub jwt_user_claim: String,
    #[arg(long, env = "AUTH_SERVICE_URL", default_value = DEFAULT_SERVICE_URL, global = true)]
    pub auth_service_url: String,
    /// Connect and total timeout of one auth-service call (the variable is
    /// in milliseconds).
    #[arg(
        long = "auth-service-timeout-ms",
        env = "AUTH_SERVICE_TIMEOUT_MS",
        default_value = millis_default!(DEFAULT_SERVICE_TIMEOUT),
        value_parser = parse_millis,
        global = true
    )]
    pub auth_service_timeout: Duration,
    /// Extra attempts after a transient auth-service failure.
    #[arg(long, env = "AUTH_SERVICE_RETRIES", default_value_t = DEFAULT_SERVICE_RETRIES, global = true)]
    pub auth_service_retries: u32,
    /// The most one lookup may take, retries included (the variable is in
    /// milliseconds).
    #[arg(
        long = "auth-service-budget-ms",
        env = "AUTH_SERVICE_BUDGET_MS",
        default_value = millis_default!(DEFAULT_SERVICE_BUDGET),
        value_parser = parse_millis,
        global = true
    )]
    pub auth_service_budget: Duration,
    /// Consecutive failed lookups that open the circuit breaker.
    #[arg(
        long,
        env = "AUTH_SERVICE_BREAKER_THRESHOLD",
        default_value_t = DEFAULT_BREAKER_THRESHOLD,
        global = true
    )]
    pub auth_service_breaker_threshold: u32,
    /// How long the open breaker refuses lookups (the variable is in
    /// milliseconds).
    #[arg(
        long = "auth-service-breaker-cooldown-ms",
        env = "AUTH_SERVICE_BREAKER_COOLDOWN_MS",
        default_value = millis_default!(DEFAULT_BREAKER_COOLDOWN),
        value_parser = parse_millis,
        global = true
    )]
    pub auth_service_breaker_cooldown: Duration,
    /// Timeout of one JWKS download (the variable is in milliseconds).
    #[arg(
        long = "auth-jwks-timeout-ms",
        env = "AUTH_JWKS_TIMEOUT_MS",
        default_value = millis_default!(DEFAULT_JWKS_TIMEOUT),
        value_parser = parse_millis,
        global = true
    )]
    pub auth_jwks_timeout: Duration,
    /// At most one JWKS download per this interval for unknown `kid`s (the
    /// variable is in milliseconds).
    #[arg(
        long = "auth-jwks-min-refresh-ms",
        env = "AUTH_JWKS_MIN_REFRESH_MS",
        default_value = millis_default!(DEFAULT_JWKS_MIN_REFRESH),
        value_parser = parse_millis,
        global = true
    )]
    pub auth_jwks_min_refresh: Duration,
    /// Age after which the cached key set is downloaded again (the variable
    /// is in seconds).
    #[arg(
        long = "auth-jwks-ttl-secs",
        env = "AUTH_JWKS_TTL_SECS",
        default_value = secs_default!(DEFAULT_JWKS_TTL),
        value_parser = parse_secs,
        global = true
    )]
    pub auth_jwks_ttl: Duration,
}

impl AuthConfig {
    /// The HS256 secret: `JWT_SECRET`, else `SECRET_KEY`.
    pub fn secret(&self) -> Option<&SecretString> {
        self.jwt_secret.as_ref().or(self.secret_key.as_ref())
    }

    /// The pinned algorithm: configured, else RS256 with JWKS, else HS256.
    pub fn algorithm(&self) -> Algorithm {
        self.jwt_algorithm
            .unwrap_or(if self.auth_jwks_url.is_some() {
                Algorithm::RS256
            } else {
                Algorithm::HS256
            })
    }
}

fn parse_algorithm(value: &str) -> Result<Algorithm, String> {
    match value.to_ascii_uppercase().as_str() {
        "HS256" => Ok(Algorithm::HS256),
        "HS384" => Ok(Algorithm::HS384),
        "HS512" => Ok(Algorithm::HS512),
        "RS256" => Ok(Algorithm::RS256),
        "RS384" => Ok(Algorithm::RS384),
        "RS512" => Ok(Algorithm::RS512),
        "ES256" => Ok(Algorithm::ES256),
        "ES384" => Ok(Algorithm::ES384),
        "EDDSA" => Ok(Algorithm::EdDSA),
        other => Err(format!("unsupported JWT algorithm {other:?}")),
    }
}
