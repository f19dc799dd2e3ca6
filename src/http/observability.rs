//! Observability: the Prometheus recorder (installed once per process),
//! `/metrics`, the per-request metrics middleware, and the request span that
//! carries the request id (`x-request-id`, generated when absent and echoed
//! in the response).

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tower_http::trace::MakeSpan;

use crate::error::code;
use crate::http::response::{ResponseMedia, refusal};
use crate::http::state::HttpState;

/// The header carrying the request id.
pub const REQUEST_ID: &str = "x-request-id";

/// Longest request id taken from a client; a longer or non-printable one is
/// replaced by a generated id.
const MAX_REQUEST_ID_LEN: usize = 128;

/// Latency buckets of `http_request_duration_seconds`, in seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static PROMETHEUS: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process-wide Prometheus handle, installing the recorder on first
/// use (tests build many routers in one process: the first one installs).
/// `None` when another recorder was installed first.
pub fn prometheus() -> Option<&'static PrometheusHandle> {
    PROMETHEUS
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".to_owned()),
                    &LATENCY_BUCKETS,
                )
                .ok()?;
            match builder.install_recorder() {
                Ok(handle) => {
                    describe_metrics();
                    Some(handle)
                }
                Err(error) => {
                    tracing::warn!(%error, "the Prometheus recorder could not be installed");
                    None
                }
            }
        })
        .as_ref()
}

/// Describes every metric of the service and registers the counters other
/// parts emit (events) so that they show up, at 0, before the first event.
fn describe_metrics() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "http_requests_total",
        "HTTP requests answered, by method, route, status and GraphQL operation name"
    );
    describe_histogram!(
        "http_request_duration_seconds",
        Unit::Seconds,
        "HTTP request latency, by method, route and GraphQL operation name"
    );
    describe_counter!("graphql_errors_total", "GraphQL errors answered, by code");
    describe_counter!(
        "rate_limited_total",
        "requests refused with 429, by limiter (ip or user)"
    );
    describe_counter!("db_statements_total", "SQL statements sent by the pool");
    describe_gauge!("db_pool_size", "connections open in the pool");
    describe_gauge!("db_pool_idle", "idle connections in the pool");
    describe_gauge!("db_pool_in_use", "connections in use");
    describe_gauge!("db_pool_max", "most connections the pool opens");
    describe_counter!(
        "events_consumed_total",
        "auth-service events consumed from RabbitMQ"
    );
    describe_counter!(
        "events_dead_lettered_total",
        "auth-service events dead-lettered (malformed or unknown)"
    );
    for name in [
        "events_consumed_total",
        "events_dead_lettered_total",
        "db_statements_total",
        "graphql_errors_total",
    ] {
        metrics::counter!(name).increment(0);
    }
}

/// Most distinct client-chosen operation names kept as metric labels in
/// one process; a name first seen after that many is counted as
/// [`OTHER_OPERATION`], so `/metrics` stays bounded whatever clients send.
pub const MAX_OPERATION_LABELS: usize = 100;

/// Longest operation name kept as a label (a longer one is `invalid`).
pub const MAX_OPERATION_NAME_LEN: usize = 64;

/// The label of operation names beyond [`MAX_OPERATION_LABELS`].
pub const OTHER_OPERATION: &str = "other";

/// The operation names given a label of their own so far.
static OPERATION_NAMES: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();

/// The GraphQL operation a response answered, for metric labels; set by
/// the GraphQL handler as a response extension.
#[derive(Debug, Clone)]
pub struct OperationLabel(pub String);

impl OperationLabel {
    /// A bounded label for a client-supplied operation name: the name when
    /// it is a plain GraphQL name of at most [`MAX_OPERATION_NAME_LEN`]
    /// characters and one of the first [`MAX_OPERATION_LABELS`] names seen,
    /// [`OTHER_OPERATION`] for a later new name, `invalid` for anything
    /// else; `anonymous` without a name.
    pub fn from_name(name: Option<&str>) -> Self {
        let label = match name {
            None => "anonymous",
            Some(name)
                if !name.is_empty()
                    && name.len() <= MAX_OPERATION_NAME_LEN
                    && name
                        .bytes()
                        .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_') =>
            {
                if admit_operation_name(name) {
                    name
                } else {
                    OTHER_OPERATION
                }
            }
            Some(_) => "invalid",
        };
        Self(label.to_owned())
    }
}

/// Whether `name` has (or now gets) a label of its own.
fn admit_operation_name(name: &str) -> bool {
    let names = OPERATION_NAMES.get_or_init(|| Mutex::new(HashSet::new()));
    // A poisoned set still holds valid names: keep using it.
    let mut names = names
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if names.contains(name) {
        return true;
    }
    if names.len() >= MAX_OPERATION_LABELS || name == OTHER_OPERATION {
        return false;
    }
    names.insert(name.to_owned());
    true
}

/// Records `http_requests_total` and `http_request_duration_seconds` for
/// every routed request.
pub async fn track_requests(request: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = request.method().to_string();
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    let operation = response
        .extensions()
        .get::<OperationLabel>()
        .map_or_else(String::new, |label| label.0.clone());
    let status = response.status().as_u16().to_string();
    metrics::counter!(
        "http_requests_total",
        "method" => method.clone(),
        "path" => path.clone(),
        "status" => status,
        "operation" => operation.clone(),
    )
    .increment(1);
    metrics::histogram!(
        "http_request_duration_seconds",
        "method" => method,
        "path" => path,
        "operation" => operation,
    )
    .record(start.elapsed().as_secs_f64());
    response
}

/// Drops a client-supplied request id that is too long or not printable
/// ASCII, so that `SetRequestId` generates one instead.
pub async fn sanitize_request_id(mut request: Request, next: Next) -> Response {
    let bad = request.headers().get(REQUEST_ID).is_some_and(|value| {
        value.len() > MAX_REQUEST_ID_LEN
            || value.is_empty()
            || !value.as_bytes().iter().all(|byte| byte.is_ascii_graphic())
    });
    if bad {
        request.headers_mut().remove(REQUEST_ID);
    }
    next.run(request).await
}

/// The span of one request: method, path, request id and, for GraphQL, the
/// operation label (never the query string, which may carry variables).
#[derive(Debug, Clone, Copy)]
pub struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, request: &axum::http::Request<B>) -> tracing::Span {
        let request_id = request
            .headers()
            .get(REQUEST_ID)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("");
        let span = tracing::info_span!(
            "request",
            method = %request.method(),
            path = %request.uri().path(),
            request_id = %request_id,
            operation = tracing::field::Empty,
        );
        // The gateway's trace goes on here (W3C `traceparent`).
        crate::telemetry::set_parent_from(&span, request.headers());
        span
    }
}

/// The answer to a handler that panicked: logged here (once), answered as
/// an opaque `INTERNAL_SERVER_ERROR` in the GraphQL error shape.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|message| (*message).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %detail, "a request handler panicked");
    refusal(
        ResponseMedia::Json,
        StatusCode::INTERNAL_SERVER_ERROR,
        code::INTERNAL_SERVER_ERROR,
        "internal server error",
    )
}

/// `GET /metrics`: Prometheus text.
pub async fn metrics_endpoint(State(state): State<HttpState>) -> Response {
    let Some(handle) = prometheus() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder unavailable\n",
        )
            .into_response();
    };
    let db = &state.app.db;
    let pool = db.pool.state();
    metrics::gauge!("db_pool_size").set(f64::from(pool.connections));
    metrics::gauge!("db_pool_idle").set(f64::from(pool.idle_connections));
    metrics::gauge!("db_pool_in_use").set(f64::from(
        pool.connections.saturating_sub(pool.idle_connections),
    ));
    metrics::gauge!("db_pool_max").set(f64::from(db.max_connections));
    metrics::counter!("graphql_validation_skipped_total")
        .absolute(state.app.validation_skipped.get());
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        handle.render(),
    )
        .into_response()
}
