//! The layers around every route, innermost first: the body limit, panics
//! answered as `INTERNAL_SERVER_ERROR`, CORS, the request id (sanitised,
//! generated when absent, echoed in the response) and the request span.
//! The per-route layers are set in [`crate::router`]: request metrics
//! ([`crate::http::observability::track_requests`]) on every route and
//! admission ([`crate::http::admission::admit`]) on `/graphql`.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::config::HttpConfig;
use crate::http::limits::cors_layer;
use crate::http::observability;

/// `router` with the layers every request passes through.
pub fn around(router: Router, config: &HttpConfig) -> Router {
    router
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(CatchPanicLayer::custom(observability::panic_response))
        .layer(cors_layer(&config.allowed_origins))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(observability::RequestSpan)
                .on_response(DefaultOnResponse::new().level(Level::INFO))
                .on_failure(DefaultOnFailure::new().level(Level::WARN)),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(middleware::from_fn(observability::sanitize_request_id))
}
