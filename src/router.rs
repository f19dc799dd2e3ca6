//! The routes: `/graphql` (GET and POST, behind its admission layer; a
//! GET that asks for a WebSocket upgrade serves subscriptions),
//! `/graphiql` (unless switched off), `/`, `/health`, `/ready`,
//! `/db/status`, `/metrics` (unless switched off) and the legacy REST
//! layer with `/openapi.json` and `/docs` (unless switched off), over the
//! [`HttpState`] built here from the [`AppState`], with the layers of
//! [`crate::http::middleware`] around them.

use std::sync::Arc;

use axum::Router;
use axum::middleware;
use axum::routing::get;

use crate::app::AppState;
use crate::graphql::{self, SchemaLimits};
use crate::http::limits::RateLimits;
use crate::http::state::HttpState;
use crate::http::{
    admission, graphql as graphql_http, middleware as layers, observability, status, subscriptions,
};

/// Builds the router: the routes, their state and their layers.
pub fn router(app: AppState) -> Router {
    // A handle on the configuration once `app` has moved into the state.
    let shared = app.clone();
    let config = &shared.config;
    if config.http.enable_metrics {
        // Install the recorder before anything records.
        observability::prometheus();
    }
    let limits = SchemaLimits {
        max_depth: config.http.graphql_max_depth,
        max_complexity: config.http.graphql_max_complexity,
        max_tokens: config.http.graphql_max_tokens,
        max_nesting: config.http.graphql_max_nesting,
        max_response_bytes: config.http.graphql_max_response_bytes,
        max_aliases: config.http.graphql_max_aliases,
        max_directives: config.http.graphql_max_directives,
        introspection: config.introspection_enabled(),
        apq_cache_size: config.http.apq_cache_size,
    };
    let schema = graphql::build_schema(app.clone(), limits);
    let state = HttpState {
        app,
        schema,
        rate_limits: Arc::new(RateLimits::new(&config.http)),
        readiness: Arc::default(),
    };

    let graphql_route = get(subscriptions::graphql_get_or_subscribe)
        .post(graphql_http::graphql_post)
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            admission::admit,
        ));
    let mut router = Router::new()
        .route("/graphql", graphql_route)
        .route("/", get(status::service_info))
        .route("/health", get(status::health))
        .route("/ready", get(status::ready))
        .route("/db/status", get(status::db_status));
    if config.graphiql_enabled() {
        router = router.route("/graphiql", get(graphql_http::graphiql_page));
    }
    if config.http.enable_metrics {
        router = router.route("/metrics", get(observability::metrics_endpoint));
    }
    if config.legacy.legacy_rest_enabled {
        router = router.merge(crate::rest::routes(&state));
    }
    let router = router
        .route_layer(middleware::from_fn(observability::track_requests))
        .with_state(state);
    layers::around(router, &config.http)
}
