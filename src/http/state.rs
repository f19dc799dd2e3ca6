//! [`HttpState`]: the state of the HTTP layer, the application state with
//! the GraphQL schema (with the checks around it) and the rate limiters.

use std::sync::Arc;

use axum::extract::FromRef;

use crate::app::AppState;
use crate::graphql::Executor;
use crate::http::limits::{RateLimits, TrustForwardedFor};

/// The state of the HTTP layer: the app, its schema and the rate limiters.
#[derive(Clone)]
pub struct HttpState {
    pub app: AppState,
    pub schema: Executor,
    pub rate_limits: Arc<RateLimits>,
    /// The last `/ready` probe, shared by the calls of one period.
    pub readiness: Arc<ReadinessCache>,
}

impl FromRef<HttpState> for TrustForwardedFor {
    fn from_ref(state: &HttpState) -> Self {
        Self(state.app.config.http.trust_x_forwarded_for)
    }
}

/// The last `/ready` answer and when it was probed (read by
/// `http::status::ready`).
#[derive(Debug, Default)]
pub struct ReadinessCache {
    pub last: tokio::sync::Mutex<
        Option<(
            std::time::Instant,
            axum::http::StatusCode,
            serde_json::Value,
        )>,
    >,
}
