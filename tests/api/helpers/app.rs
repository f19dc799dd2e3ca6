//! One in-process application per test: [`TestApp`] (router, state, a
//! settable clock, a wiremock auth-service) and its configuration.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use chrono::{DateTime, TimeZone, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use http::Request;
use http_body_util::BodyExt;
use secrecy::SecretString;
use serde_json::{Value, json};
use tower::ServiceExt;
use user_service::app::AppState;
use user_service::auth::{self, TokenRequest};
use user_service::clock::ManualClock;
use user_service::config::{Config, DatabaseConfig};
use user_service::db::Database;
use wiremock::MockServer;

use super::{TEST_SECRET, TestDatabase, TestResponse};

/// The test configuration for `database`.
pub fn test_config(database: &TestDatabase, auth_service_url: &str) -> Config {
    let mut config = Config::defaults();
    config.app_env = user_service::config::AppEnv::Test;
    config.database = DatabaseConfig {
        database_pool_size: 0,
        database_max_overflow: 8,
        database_pool_timeout: Duration::from_secs(5),
        ..DatabaseConfig::for_url(&database.url)
    };
    config.auth.jwt_secret = Some(SecretString::from(TEST_SECRET.to_owned()));
    config.auth.secret_key = None;
    config.auth.auth_jwks_url = None;
    config.auth.jwt_algorithm = None;
    config.auth.jwt_issuer = None;
    config.auth.jwt_audience = None;
    config.auth.auth_service_url = auth_service_url.to_owned();
    config.auth.auth_service_timeout = Duration::from_millis(300);
    config.http.allowed_origins = vec!["https://app.example.com".to_owned()];
    // Debug builds on a busy 2-core machine: give each batch a wider window
    // so scheduling noise does not split it (production keeps the default).
    config.http.graphql_loader_delay = Duration::from_millis(20);
    config
}

/// 2026-11-21T10:00:00Z, where every test clock starts.
pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap()
}

/// One running application.
#[allow(dead_code)] // fields used by some test modules only
pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub auth_service: MockServer,
    pub config: Config,
    pub db: TestDatabase,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// An app whose configuration `configure` adjusts first.
    pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> Self {
        super::init_test_log();
        let db = TestDatabase::create().await;
        let auth_service = MockServer::start().await;
        let mut config = test_config(&db, &auth_service.uri());
        configure(&mut config);
        let database = Database::pool(&config.database).await.expect("pool");
        let clock = Arc::new(ManualClock::new(start_time()));
        let state =
            user_service::build_state(config.clone(), database, clock.clone()).expect("state");
        let router = user_service::router::router(state.clone());
        Self {
            router,
            state,
            clock,
            auth_service,
            config,
            db,
        }
    }

    /// A token for `sub`, valid for an hour.
    pub fn token(&self, sub: &str) -> String {
        mint(sub, false)
    }

    /// An admin token.
    pub fn admin_token(&self) -> String {
        mint("admin-1", true)
    }

    /// Sends a raw request through the router.
    pub async fn request(&self, request: Request<Body>) -> TestResponse {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        TestResponse {
            status,
            headers,
            body,
        }
    }

    /// POSTs a GraphQL request with an optional bearer token.
    pub async fn graphql(
        &self,
        query: &str,
        variables: Value,
        token: Option<&str>,
    ) -> TestResponse {
        let mut request = Request::post("/graphql").header("content-type", "application/json");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = json!({ "query": query, "variables": variables });
        self.request(request.body(Body::from(body.to_string())).unwrap())
            .await
    }

    /// POSTs a GraphQL request as `sub`.
    pub async fn graphql_as(&self, sub: &str, query: &str, variables: Value) -> TestResponse {
        self.graphql(query, variables, Some(&self.token(sub))).await
    }

    /// SQL statements sent so far by the app's pool.
    pub fn statements(&self) -> u64 {
        self.state.db.statements.get()
    }

    /// A direct connection to this test's database.
    pub async fn conn(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.db.url)
            .await
            .expect("connect to the test database")
    }

    /// Runs a `SELECT count(*) AS n ...` style query.
    pub async fn count(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = self.conn().await;
        diesel::sql_query(sql)
            .get_result::<Count>(&mut conn)
            .await
            .expect("count query")
            .n
    }

    /// Creates a goal for `sub` and returns its id.
    pub async fn create_goal(&self, sub: &str, title: &str) -> String {
        let response = self
            .graphql_as(
                sub,
                "mutation($id: ID!, $title: String!) { createGoal(authUserId: $id, input: { title: $title }) { id } }",
                json!({ "id": sub, "title": title }),
            )
            .await;
        response.ok()["createGoal"]["id"]
            .as_str()
            .expect("goal id")
            .to_owned()
    }

    /// Creates a badge for `sub` and returns its id.
    pub async fn create_badge(&self, sub: &str, name: &str) -> String {
        let response = self
            .graphql_as(
                sub,
                "mutation($id: ID!, $name: String!) { createBadge(authUserId: $id, input: { name: $name }) { id } }",
                json!({ "id": sub, "name": name }),
            )
            .await;
        response.ok()["createBadge"]["id"]
            .as_str()
            .expect("badge id")
            .to_owned()
    }
}

/// Signs a test token.
pub fn mint(sub: &str, admin: bool) -> String {
    auth::mint(
        &SecretString::from(TEST_SECRET.to_owned()),
        &TokenRequest {
            subject: sub,
            admin,
            ttl: Duration::from_secs(3600),
            issuer: None,
            audience: None,
        },
    )
    .expect("mint")
}
