//! The layers around every route, outermost first: the request id
//! (sanitised, generated when absent, echoed in the response), the request
//! span, CORS, panics answered as `INTERNAL_SERVER_ERROR` and the body
//! limit.
//! The per-route layers are set in [`crate::router`]: request metrics
//! ([`crate::http::observability::track_requests`]) on every route and
//! admission ([`crate::http::admission::admit`]) on `/graphql`.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::config::HttpConfig;
use crate::http::limits::cors_layer;
use crate::http::observability;

/// `router` with the layers every request passes through.
///
/// They wrap the router as one service (the outer router's fallback)
/// rather than being applied with `Router::layer`, which wraps every route
/// in its own copy of each layer: hyper clones the service for every
/// request, and the per-route copies cost 43 boxed clones (five of them
/// of the CORS configuration) per request, 5% of a `user` request's CPU.
pub fn around(router: Router, config: &HttpConfig) -> Router {
    let layered = ServiceBuilder::new()
        .layer(middleware::from_fn(observability::sanitize_request_id))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(observability::RequestSpan)
                .on_response(DefaultOnResponse::new().level(Level::INFO))
                .on_failure(DefaultOnFailure::new().level(Level::WARN)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(cors_layer(&config.allowed_origins))
        .layer(CatchPanicLayer::custom(observability::panic_response))
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .service(router);
    Router::new().fallback_service(layered)
}
