//! The application: [`AppState`], the axum [`router`] that assembles the
//! HTTP surface of [`crate::http`], and [`serve`] with graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::get;
use diesel_async::AsyncConnection;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::auth::TokenVerifier;
use crate::clients::auth_service::{AuthServiceClient, Lookup};
use crate::clock::SharedClock;
use crate::config::Config;
use crate::db::auth_users::AuthUserDetails;
use crate::db::{self, Database, PooledConnection};
use crate::domain::AuthUserId;
use crate::error::{AppError, AppResult};
use crate::events::ConsumerStatus;
use crate::graphql::{self, AppSchema, SchemaLimits};
use crate::http::limits::{RateLimits, cors_layer};
use crate::http::{graphql as graphql_http, observability, status};

/// Everything a request may need, cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<AppStateInner>);

/// The parts of [`AppState`].
pub struct AppStateInner {
    pub config: Config,
    pub db: Database,
    pub verifier: TokenVerifier,
    pub clock: SharedClock,
    pub auth_service: AuthServiceClient,
    /// Set by the event consumer running in this process, if any.
    pub consumer: ConsumerStatus,
}

impl Deref for AppState {
    type Target = AppStateInner;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl AppState {
    pub fn new(inner: AppStateInner) -> Self {
        Self(Arc::new(inner))
    }

    /// A pooled connection; `SERVICE_UNAVAILABLE` when none can be had.
    pub async fn conn(&self) -> AppResult<PooledConnection<'_>> {
        Ok(self.db.pool.get().await?)
    }

    /// What the auth-service says of `id`, asked only when the service has
    /// no row for `id` yet (`None` otherwise, or when it cannot tell). Call
    /// it before a transaction, never inside one. `UNAUTHENTICATED` for a
    /// user the auth-service has deleted (a tombstone and no row).
    pub async fn details_if_unknown(&self, id: &AuthUserId) -> AppResult<Option<AuthUserDetails>> {
        {
            let mut conn = self.conn().await?;
            if db::auth_users::exists(&mut conn, id).await? {
                return Ok(None);
            }
            // The auth-service deleted this user: a token issued before the
            // deletion must not bring them back.
            if db::auth_users::tombstone(&mut conn, id).await?.is_some() {
                return Err(AppError::Unauthenticated("this user has been deleted"));
            }
        }
        Ok(match self.auth_service.fetch_user(id).await {
            Lookup::Found(details) => Some(details),
            Lookup::NotFound | Lookup::Unavailable => None,
        })
    }

    /// Creates the reference row and profile of `id` when missing.
    pub async fn ensure_user(&self, id: &AuthUserId) -> AppResult<()> {
        let details = self.details_if_unknown(id).await?;
        let now = self.clock.now();
        let mut conn = self.conn().await?;
        conn.transaction(async |conn| {
            db::auth_users::ensure(conn, id, details.as_ref(), now).await
        })
        .await?;
        Ok(())
    }
}

/// The state of the HTTP layer: the app, its schema and the rate limiters.
#[derive(Clone)]
pub struct HttpState {
    pub app: AppState,
    pub schema: AppSchema,
    pub rate_limits: Arc<RateLimits>,
}

/// Builds the router: `/graphql` (GET and POST), `/graphiql` (unless
/// switched off), `/`, `/health`, `/ready`, `/db/status` and `/metrics`
/// (unless switched off), with request ids, tracing, metrics, CORS and the
/// body limit around them.
pub fn router(app: AppState) -> Router {
    let config = &app.config;
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
    let graphiql = config.graphiql_enabled();
    let metrics = config.http.enable_metrics;
    let cors = cors_layer(&config.http.allowed_origins);
    let body_limit = config.http.max_body_bytes;
    let rate_limits = Arc::new(RateLimits::new(&config.http));
    let state = HttpState {
        app,
        schema,
        rate_limits,
    };

    let mut router = Router::new()
        .route(
            "/graphql",
            get(graphql_http::graphql_get).post(graphql_http::graphql_post),
        )
        .route("/", get(status::service_info))
        .route("/health", get(status::health))
        .route("/ready", get(status::ready))
        .route("/db/status", get(status::db_status));
    if graphiql {
        router = router.route("/graphiql", get(graphql_http::graphiql_page));
    }
    if metrics {
        router = router.route("/metrics", get(observability::metrics_endpoint));
    }
    router
        .route_layer(middleware::from_fn(observability::track_requests))
        .with_state(state)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(CatchPanicLayer::custom(observability::panic_response))
        .layer(cors)
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

/// Serves `router` on the configured address until SIGINT or SIGTERM, then
/// lets in-flight requests finish.
pub async fn serve(config: &Config, router: Router) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen_addr()).await?;
    serve_on(listener, router, shutdown_signal()).await
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops
/// accepting connections and waits for in-flight requests to finish. The
/// peer address of each connection is available to the rate limiter.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    tracing::info!(address = %listener.local_addr()?, "serving");
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
