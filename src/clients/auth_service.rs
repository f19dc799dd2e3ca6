//! The auth-service's HTTP API (contract §7): `GET /users/{id}`, asked only
//! for users the service has not learned about from events. Every failure
//! degrades to "unknown": callers carry on with local data.
//!
//! A lookup retries transient failures (connection refused, timeout, 5xx,
//! 429) a bounded number of times with jittered exponential backoff
//! (`backon`), never past its total budget. A [`CircuitBreaker`] counts
//! failed lookups: once open, a lookup returns [`Lookup::Unavailable`] at
//! once, without any request, until the cool-down lets one trial through.
//!
//! Redirects are never followed (a 3xx is a failed lookup), and the answer
//! is read into a buffer of at most [`MAX_USER_BODY_BYTES`]: a larger one
//! is a failed lookup too, logged without its body, and nothing of it is
//! stored.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use serde::Deserialize;

use crate::clients::circuit_breaker::{BreakerState, CircuitBreaker};
use crate::clients::{BodyError, read_bounded};
use crate::config::AuthConfig;
use crate::db::auth_users::AuthUserDetails;
use crate::domain::AuthUserId;

/// What the auth-service said about a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found(AuthUserDetails),
    /// The auth-service does not know the user (404).
    NotFound,
    /// No usable answer (timeout, connection refused, 5xx, bad body, or
    /// the circuit breaker is open).
    Unavailable,
}

#[derive(Debug, Deserialize)]
struct UserBody {
    username: Option<String>,
    email: Option<String>,
}

/// How the client behaves.
#[derive(Debug, Clone)]
pub struct AuthServiceSettings {
    pub base_url: String,
    /// Connect and total timeout of one request.
    pub timeout: Duration,
    /// Extra attempts after a transient failure.
    pub retries: u32,
    /// The most one lookup may take, retries included.
    pub budget: Duration,
    /// Consecutive failed lookups that open the breaker.
    pub breaker_threshold: u32,
    /// How long the breaker stays open.
    pub breaker_cooldown: Duration,
}

impl AuthServiceSettings {
    /// The settings of `config`.
    pub fn from_config(config: &AuthConfig) -> Self {
        Self {
            base_url: config.auth_service_url.clone(),
            timeout: config.auth_service_timeout.max(Duration::from_millis(1)),
            retries: config.auth_service_retries,
            budget: config.auth_service_budget.max(Duration::from_millis(1)),
            breaker_threshold: config.auth_service_breaker_threshold,
            breaker_cooldown: config.auth_service_breaker_cooldown,
        }
    }
}

/// Why one attempt failed.
#[derive(Debug, thiserror::Error)]
enum AttemptError {
    #[error("request failed: {0}")]
    Transport(#[source] reqwest::Error),
    #[error("answered {0}")]
    Status(reqwest::StatusCode),
    #[error("unreadable body: {0}")]
    Body(#[source] BodyError),
    #[error("the body is not a user: {0}")]
    Json(#[source] serde_json::Error),
}

impl AttemptError {
    /// Whether another attempt may succeed.
    fn is_transient(&self) -> bool {
        match self {
            Self::Transport(_) => true,
            Self::Status(status) => {
                status.is_server_error() || *status == reqwest::StatusCode::TOO_MANY_REQUESTS
            }
            Self::Body(error) => error.is_timeout(),
            Self::Json(_) => false,
        }
    }
}

/// The first pause between two attempts (before jitter, which adds up to
/// as much again; each further pause doubles).
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(25);

/// The largest `GET /users/{id}` answer read. A user is three short
/// strings; anything near this size is not one.
pub const MAX_USER_BODY_BYTES: usize = 64 * 1024;

/// The client, cheap to clone (clones share the breaker).
#[derive(Debug, Clone)]
pub struct AuthServiceClient {
    http: reqwest::Client,
    settings: Arc<AuthServiceSettings>,
    breaker: Arc<CircuitBreaker>,
}

impl AuthServiceClient {
    pub fn new(settings: AuthServiceSettings) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(settings.timeout)
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("user-service/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let breaker = CircuitBreaker::new(settings.breaker_threshold, settings.breaker_cooldown);
        let settings = AuthServiceSettings {
            base_url: settings.base_url.trim_end_matches('/').to_owned(),
            ..settings
        };
        Ok(Self {
            http,
            settings: Arc::new(settings),
            breaker: Arc::new(breaker),
        })
    }

    /// The circuit breaker's state, for readiness reports.
    pub fn breaker_state(&self) -> BreakerState {
        self.breaker.state()
    }

    /// Whether the breaker is refusing lookups right now.
    pub fn is_open(&self) -> bool {
        self.breaker.is_open()
    }

    /// Looks a user up: retries transient failures within the budget, and
    /// answers `Unavailable` at once while the breaker is open.
    #[tracing::instrument(skip(self), fields(auth_user_id = %id))]
    pub async fn fetch_user(&self, id: &AuthUserId) -> Lookup {
        if !self.breaker.try_acquire() {
            tracing::debug!("auth-service circuit breaker open; not asking");
            metrics::counter!("auth_service_requests_total", "outcome" => "short_circuited")
                .increment(1);
            return Lookup::Unavailable;
        }
        let deadline = Instant::now() + self.settings.budget;
        let attempts = AtomicU32::new(0);
        let backoff = ExponentialBuilder::new()
            .with_min_delay(FIRST_RETRY_DELAY)
            .with_max_times(self.settings.retries as usize)
            .with_jitter();
        let result = (|| async {
            attempts.fetch_add(1, Ordering::Relaxed);
            let remaining = deadline.saturating_duration_since(Instant::now());
            self.attempt(id, remaining.min(self.settings.timeout)).await
        })
        .retry(backoff)
        .sleep(tokio::time::sleep)
        .when(AttemptError::is_transient)
        // Never sleep past the budget: give up instead.
        .adjust(|_, pause| pause.filter(|pause| Instant::now() + *pause < deadline))
        .notify(|error, pause| {
            tracing::debug!(%error, retry_in_ms = pause.as_millis() as u64, "auth-service attempt failed; retrying");
        })
        .await;
        match result {
            Ok(lookup) => {
                self.breaker.record_success();
                let outcome = match lookup {
                    Lookup::Found(_) => "found",
                    _ => "not_found",
                };
                metrics::counter!("auth_service_requests_total", "outcome" => outcome).increment(1);
                if lookup == Lookup::NotFound {
                    tracing::warn!("auth-service does not know a user holding a valid token");
                }
                lookup
            }
            Err(error) => {
                tracing::warn!(%error, attempts = attempts.load(Ordering::Relaxed), "auth-service lookup failed");
                metrics::counter!("auth_service_requests_total", "outcome" => "failed")
                    .increment(1);
                self.breaker.record_failure();
                Lookup::Unavailable
            }
        }
    }

    /// One request, within `timeout`.
    async fn attempt(&self, id: &AuthUserId, timeout: Duration) -> Result<Lookup, AttemptError> {
        let url = format!("{}/users/{}", self.settings.base_url, id);
        let response = self
            .http
            .get(&url)
            .headers(crate::telemetry::current_context_headers())
            .timeout(timeout)
            .send()
            .await
            .map_err(AttemptError::Transport)?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(Lookup::NotFound);
        }
        if !status.is_success() {
            return Err(AttemptError::Status(status));
        }
        let body = read_bounded(response, MAX_USER_BODY_BYTES)
            .await
            .map_err(AttemptError::Body)?;
        let body: UserBody = serde_json::from_slice(&body).map_err(AttemptError::Json)?;
        Ok(Lookup::Found(AuthUserDetails {
            username: body.username,
            email: body.email,
        }))
    }
}
