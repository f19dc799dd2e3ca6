//! The operator endpoints: `/` (service info), `/health` (liveness),
//! `/ready` (readiness, contract §4) and `/db/status`.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use diesel::migration::MigrationSource;
use diesel::pg::Pg;
use diesel_async::RunQueryDsl;
use secrecy::ExposeSecret;
use serde_json::json;

use crate::app::AppState;
use crate::db::MIGRATIONS;
use crate::http::state::HttpState;

/// `GET /`: name, version and links.
pub async fn service_info(State(state): State<HttpState>) -> Json<serde_json::Value> {
    let config = &state.app.config;
    Json(json!({
        "name": env!("CARGO_PKG_NAME"),
        "version": env!("CARGO_PKG_VERSION"),
        "description": env!("CARGO_PKG_DESCRIPTION"),
        "links": {
            "graphql": "/graphql",
            "graphiql": config.graphiql_enabled().then_some("/graphiql"),
            "health": "/health",
            "ready": "/ready",
            "db_status": "/db/status",
            "metrics": config.http.enable_metrics.then_some("/metrics"),
        }
    }))
}

/// `GET /health`: liveness, 200 while the process serves.
pub async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// What the database says about itself.
#[derive(Debug, Clone, Default)]
pub struct DatabaseStatus {
    /// A connection was had and answered.
    pub reachable: bool,
    /// The newest applied migration.
    pub schema_version: Option<String>,
    /// Migrations compiled in but not applied.
    pub pending_migrations: usize,
}

#[derive(diesel::QueryableByName)]
struct AppliedVersion {
    #[diesel(sql_type = diesel::sql_types::Text)]
    version: String,
}

/// Asks the database, within `timeout`, which migrations it has applied.
pub async fn database_status(app: &AppState, timeout: Duration) -> DatabaseStatus {
    let probe = async {
        let mut conn = app.db.pool.get().await.ok()?;
        diesel::sql_query("SELECT version FROM __diesel_schema_migrations ORDER BY version")
            .load::<AppliedVersion>(&mut *conn)
            .await
            .ok()
    };
    let Ok(Some(applied)) = tokio::time::timeout(timeout, probe).await else {
        return DatabaseStatus::default();
    };
    let applied: BTreeSet<String> = applied.into_iter().map(|row| row.version).collect();
    let known: Vec<String> = MigrationSource::<Pg>::migrations(&MIGRATIONS)
        .map(|migrations| {
            migrations
                .iter()
                .map(|migration| migration.name().version().to_string())
                .collect()
        })
        .unwrap_or_default();
    DatabaseStatus {
        reachable: true,
        schema_version: applied.iter().next_back().cloned(),
        pending_migrations: known
            .iter()
            .filter(|version| !applied.contains(*version))
            .count(),
    }
}

/// Whether a TCP connection to the host and port of `url` opens within
/// `timeout` (`default_port` when the URL names none).
async fn tcp_reachable(url: &str, default_port: u16, timeout: Duration) -> bool {
    let Ok(url) = url::Url::parse(url) else {
        return false;
    };
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url.port_or_known_default().unwrap_or(default_port);
    matches!(
        tokio::time::timeout(
            timeout,
            tokio::net::TcpStream::connect((host.as_str(), port))
        )
        .await,
        Ok(Ok(_))
    )
}

fn up_down(up: bool) -> &'static str {
    if up { "up" } else { "down" }
}

/// `GET /ready`: 200 when the database answers and every migration is
/// applied, else 503. The broker and the auth-service are reported but do
/// not change readiness (the service answers without them): the broker by
/// the consumer's connection when this process consumes, else a TCP
/// connect; the auth-service `down` while its circuit breaker is open, else
/// a TCP connect.
///
/// One probe answers every call for `READINESS_CACHE_MS`: calls that
/// arrive while a probe runs wait for it and share its answer, so many
/// calls cost at most one pooled connection and one auth-service connect
/// per period.
pub async fn ready(State(state): State<HttpState>) -> Response {
    let period = state.app.config.http.readiness_cache;
    let mut last = state.readiness.last.lock().await;
    if let Some((probed, status, body)) = last.as_ref()
        && probed.elapsed() < period
    {
        return (*status, Json(body.clone())).into_response();
    }
    let (status, body) = probe_readiness(&state.app).await;
    *last = Some((Instant::now(), status, body.clone()));
    drop(last);
    (status, Json(body)).into_response()
}

/// Probes the database, the broker and the auth-service for `/ready`.
async fn probe_readiness(app: &AppState) -> (StatusCode, serde_json::Value) {
    let timeout = app.config.http.readiness_timeout;
    let probe_timeout = timeout.min(Duration::from_millis(500));
    let broker_url = app.config.rabbitmq_url.expose_secret().to_owned();
    let consumes = app.config.events.consumer_enabled;
    let breaker_open = app.auth_service.is_open();
    let (database, broker, auth_service) = tokio::join!(
        database_status(app, timeout),
        async {
            if consumes && app.consumer.is_connected() {
                true
            } else {
                tcp_reachable(&broker_url, 5672, probe_timeout).await
            }
        },
        async {
            !breaker_open
                && tcp_reachable(&app.config.auth.auth_service_url, 80, probe_timeout).await
        },
    );
    let ready = database.reachable && database.pending_migrations == 0;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if ready { "ready" } else { "not_ready" },
        "checks": {
            "database": {
                "status": up_down(database.reachable),
                "schema_version": database.schema_version,
                "pending_migrations": database.pending_migrations,
            },
            "broker": {
                "status": up_down(broker),
                "required": false,
                "consumer_connected": consumes.then(|| app.consumer.is_connected()),
            },
            "auth_service": {
                "status": up_down(auth_service),
                "required": false,
                "circuit_breaker": if breaker_open { "open" } else { "closed" },
            },
        }
    });
    (status, body)
}

/// `GET /db/status`: reachability, pool use and the applied schema version.
/// Always 200 (a report); `reachable` tells whether the database answered.
pub async fn db_status(State(state): State<HttpState>) -> Json<serde_json::Value> {
    let app = &state.app;
    let timeout = app.config.http.readiness_timeout;
    let database = database_status(app, timeout).await;
    let pool = app.db.pool.state();
    Json(json!({
        "reachable": database.reachable,
        "pool": {
            "size": pool.connections,
            "idle": pool.idle_connections,
            "in_use": pool.connections.saturating_sub(pool.idle_connections),
            "max": app.db.max_connections,
        },
        "schema_version": database.schema_version,
        "pending_migrations": database.pending_migrations,
    }))
}
