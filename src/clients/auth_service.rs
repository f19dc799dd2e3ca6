//! The auth-service's HTTP API (contract §7): `GET /users/{id}`, asked only
//! for users the service has not learned about from events. Every failure
//! degrades to "unknown": callers carry on with local data.
//!
//! A lookup retries transient failures (connection refused, timeout, 5xx,
//! 429) a bounded number of times with jittered backoff, never past its
//! total budget. A [`CircuitBreaker`] counts failed lookups: once open, a
//! lookup returns [`Lookup::Unavailable`] at once, without any request,
//! until the cool-down lets one trial through.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use serde::Deserialize;

use crate::clients::circuit_breaker::{BreakerState, CircuitBreaker};
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
    Body(#[source] reqwest::Error),
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
        }
    }
}

/// The first pause between two attempts.
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(50);

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
        let mut delay = FIRST_RETRY_DELAY;
        let mut attempt = 0;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let error = match self.attempt(id, remaining.min(self.settings.timeout)).await {
                Ok(lookup) => {
                    self.breaker.record_success();
                    let outcome = match lookup {
                        Lookup::Found(_) => "found",
                        _ => "not_found",
                    };
                    metrics::counter!("auth_service_requests_total", "outcome" => outcome)
                        .increment(1);
                    if lookup == Lookup::NotFound {
                        tracing::warn!("auth-service does not know a user holding a valid token");
                    }
                    return lookup;
                }
                Err(error) => error,
            };
            let pause = delay / 2 + jitter(delay);
            let retry = error.is_transient()
                && attempt < self.settings.retries
                && Instant::now() + pause < deadline;
            if !retry {
                tracing::warn!(%error, attempts = attempt + 1, "auth-service lookup failed");
                metrics::counter!("auth_service_requests_total", "outcome" => "failed")
                    .increment(1);
                self.breaker.record_failure();
                return Lookup::Unavailable;
            }
            tracing::debug!(%error, attempt, "auth-service attempt failed; retrying");
            tokio::time::sleep(pause).await;
            attempt += 1;
            delay *= 2;
        }
    }

    /// One request, within `timeout`.
    async fn attempt(&self, id: &AuthUserId, timeout: Duration) -> Result<Lookup, AttemptError> {
        let url = format!("{}/users/{}", self.settings.base_url, id);
        let response = self
            .http
            .get(&url)
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
        let body: UserBody = response.json().await.map_err(AttemptError::Body)?;
        Ok(Lookup::Found(AuthUserDetails {
            username: body.username,
            email: body.email,
        }))
    }
}

/// A random pause in `[0, delay)`.
fn jitter(delay: Duration) -> Duration {
    let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX).max(1);
    Duration::from_millis(rand::rng().random_range(0..millis))
}
