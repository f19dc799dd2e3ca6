//! The application: [`AppState`], the axum [`router`], the GraphQL HTTP
//! handler and [`serve`] with graceful shutdown.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::{DocumentOperations, OperationType};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use diesel_async::AsyncConnection;
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::auth::{TokenVerifier, Viewer};
use crate::clients::auth_service::{AuthServiceClient, Lookup};
use crate::clock::SharedClock;
use crate::config::Config;
use crate::db::auth_users::AuthUserDetails;
use crate::db::{self, Database, PooledConnection};
use crate::domain::AuthUserId;
use crate::error::{AppError, AppResult, code};
use crate::graphql::{self, AppSchema, Loaders, SchemaLimits};

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
    /// it before a transaction, never inside one.
    pub async fn details_if_unknown(&self, id: &AuthUserId) -> AppResult<Option<AuthUserDetails>> {
        let known = {
            let mut conn = self.conn().await?;
            db::auth_users::exists(&mut conn, id).await?
        };
        if known {
            return Ok(None);
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

/// The state of the HTTP layer: the app and its schema.
#[derive(Clone)]
pub struct HttpState {
    pub app: AppState,
    pub schema: AppSchema,
}

/// Builds the router.
pub fn router(app: AppState) -> Router {
    let config = &app.config;
    let limits = SchemaLimits {
        max_depth: config.http.graphql_max_depth,
        max_complexity: config.http.graphql_max_complexity,
        introspection: config.introspection_enabled(),
    };
    let schema = graphql::build_schema(app.clone(), limits);
    let graphiql = config.graphiql_enabled();
    let cors = cors_layer(&config.http.allowed_origins);
    let body_limit = config.http.max_body_bytes;
    let state = HttpState { app, schema };

    let mut router = Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/", get(service_info))
        .route("/health", get(health));
    if graphiql {
        router = router.route("/graphiql", get(graphiql_page));
    }
    router
        .with_state(state)
        .layer(RequestBodyLimitLayer::new(body_limit))
        .layer(cors)
        .layer(TraceLayer::new_for_http())
}

fn cors_layer(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter(|origin| !origin.trim().is_empty())
        .filter_map(|origin| HeaderValue::from_str(origin.trim()).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .max_age(Duration::from_secs(600))
}

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// Whether the client asked for `application/graphql-response+json`.
fn wants_graphql_response(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains(GRAPHQL_RESPONSE_JSON))
}

/// A response made of request-level errors.
fn error_response(status: StatusCode, headers: &HeaderMap, error: &AppError) -> Response {
    let body = json!({
        "errors": [{ "message": error.to_string(), "extensions": { "code": error.code() } }]
    });
    let status = if wants_graphql_response(headers) || status != StatusCode::OK {
        status
    } else {
        StatusCode::OK
    };
    let mut response = (status, Json(body)).into_response();
    if wants_graphql_response(headers) {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(GRAPHQL_RESPONSE_JSON),
        );
    }
    response
}

fn unauthenticated(headers: &HeaderMap, error: AppError) -> Response {
    let mut response = error_response(StatusCode::UNAUTHORIZED, headers, &error);
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

async fn graphql_post(State(state): State<HttpState>, headers: HeaderMap, body: Bytes) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim();
            mime.eq_ignore_ascii_case("application/json")
                || mime.eq_ignore_ascii_case(GRAPHQL_RESPONSE_JSON)
        });
    if !is_json {
        let error = AppError::bad_input("POST /graphql needs Content-Type: application/json");
        return error_response(StatusCode::UNSUPPORTED_MEDIA_TYPE, &headers, &error);
    }
    let batch: async_graphql::BatchRequest = match serde_json::from_slice(&body) {
        Ok(batch) => batch,
        Err(_) => {
            let error = AppError::bad_input("the body is not a GraphQL request in JSON");
            return error_response(StatusCode::BAD_REQUEST, &headers, &error);
        }
    };
    execute(&state, &headers, batch).await
}

async fn graphql_get(
    State(state): State<HttpState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let request = match async_graphql::http::parse_query_string(query.as_deref().unwrap_or("")) {
        Ok(request) => request,
        Err(_) => {
            let error = AppError::bad_input("the query string is not a GraphQL request");
            return error_response(StatusCode::BAD_REQUEST, &headers, &error);
        }
    };
    if is_mutation(&request) {
        let error = AppError::bad_input("mutations are only accepted over POST");
        let mut response = error_response(StatusCode::METHOD_NOT_ALLOWED, &headers, &error);
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    execute(
        &state,
        &headers,
        async_graphql::BatchRequest::Single(request),
    )
    .await
}

/// Whether the operation `request` selects is a mutation.
fn is_mutation(request: &async_graphql::Request) -> bool {
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    let operation = match (&document.operations, request.operation_name.as_deref()) {
        (DocumentOperations::Single(operation), _) => Some(operation),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name),
        (DocumentOperations::Multiple(operations), None) => operations.values().next(),
    };
    operation.is_some_and(|operation| operation.node.ty == OperationType::Mutation)
}

async fn execute(
    state: &HttpState,
    headers: &HeaderMap,
    batch: async_graphql::BatchRequest,
) -> Response {
    let viewer: Viewer = match state.app.verifier.authenticate(headers).await {
        Ok(viewer) => viewer,
        Err(error) => return unauthenticated(headers, error.into()),
    };
    let pool = &state.app.db.pool;
    let delay = Duration::from_millis(state.app.config.http.graphql_loader_delay_ms);
    let batch = match batch {
        async_graphql::BatchRequest::Single(request) => async_graphql::BatchRequest::Single(
            request.data(viewer).data(Loaders::new(pool, delay)),
        ),
        async_graphql::BatchRequest::Batch(requests) => async_graphql::BatchRequest::Batch(
            requests
                .into_iter()
                .map(|request| request.data(viewer.clone()).data(Loaders::new(pool, delay)))
                .collect(),
        ),
    };
    let response = state.schema.execute_batch(batch).await;
    let graphql_response = wants_graphql_response(headers);
    let status = match &response {
        // GraphQL over HTTP: a request error (no data at all) is 400 with
        // the graphql-response media type.
        async_graphql::BatchResponse::Single(single)
            if graphql_response
                && single.data == async_graphql::Value::Null
                && !single.errors.is_empty() =>
        {
            if single.errors.iter().any(|error| {
                error.extensions.as_ref().and_then(|ext| ext.get("code"))
                    == Some(&async_graphql::Value::from(code::UNAUTHENTICATED))
            }) {
                StatusCode::OK
            } else {
                StatusCode::BAD_REQUEST
            }
        }
        _ => StatusCode::OK,
    };
    let content_type = if graphql_response {
        GRAPHQL_RESPONSE_JSON
    } else {
        "application/json"
    };
    match serde_json::to_vec(&response) {
        Ok(body) => (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
            body,
        )
            .into_response(),
        Err(error) => {
            let error = AppError::internal(error);
            error_response(StatusCode::INTERNAL_SERVER_ERROR, headers, &error)
        }
    }
}

async fn graphiql_page() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .title("user-service")
            .finish(),
    )
}

async fn service_info(State(state): State<HttpState>) -> Json<serde_json::Value> {
    let graphiql = state.app.config.graphiql_enabled();
    Json(json!({
        "name": env!("CARGO_PKG_NAME"),
        "version": env!("CARGO_PKG_VERSION"),
        "description": env!("CARGO_PKG_DESCRIPTION"),
        "links": {
            "graphql": "/graphql",
            "graphiql": graphiql.then_some("/graphiql"),
            "health": "/health",
        }
    }))
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// Serves `router` on the configured address until SIGINT or SIGTERM, then
/// lets in-flight requests finish.
pub async fn serve(config: &Config, router: Router) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen_addr()).await?;
    tracing::info!(address = %listener.local_addr()?, "serving");
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
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
