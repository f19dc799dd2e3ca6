//! [`HttpState`]: the state of the HTTP layer, the application state with
//! the GraphQL schema and the rate limiters around it.

use std::sync::Arc;

use axum::extract::FromRef;

use crate::app::AppState;
use crate::graphql::AppSchema;
use crate::http::limits::{RateLimits, TrustForwardedFor};
use crate::http::status::ReadinessCache;

/// The state of the HTTP layer: the app, its schema and the rate limiters.
#[derive(Clone)]
pub struct HttpState {
    pub app: AppState,
    pub schema: AppSchema,
    pub rate_limits: Arc<RateLimits>,
    /// The last `/ready` probe, shared by the calls of one period.
    pub readiness: Arc<ReadinessCache>,
}

impl FromRef<HttpState> for TrustForwardedFor {
    fn from_ref(state: &HttpState) -> Self {
        Self(state.app.config.http.trust_x_forwarded_for)
    }
}
