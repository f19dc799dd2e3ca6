//! The test harness: a [`TestApp`] per test, with its own database cloned
//! from a migrated template (dropped when the test ends, even on panic), a
//! settable clock, and a wiremock stand-in for the auth-service.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use chrono::{DateTime, TimeZone, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::sync::OnceCell;
use tower::ServiceExt;
use user_service::app::AppState;
use user_service::auth::{self, TokenRequest};
use user_service::clock::ManualClock;
use user_service::config::{Config, DatabaseConfig};
use user_service::db::{self, Database};
use wiremock::MockServer;

/// The secret test tokens are signed with.
pub const TEST_SECRET: &str = "test-secret-that-is-long-enough-for-hs256-0123456789";

/// The server the per-test databases live on (any database on it).
pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn database_url(name: &str) -> String {
    let mut url = url::Url::parse(&server_url()).expect("TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// A name that changes whenever the migrations change.
fn template_name() -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    let mut entries: Vec<_> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .expect("migrations directory")
        .map(|entry| entry.expect("entry").path())
        .collect();
    entries.sort();
    for dir in entries {
        for file in ["up.sql", "down.sql"] {
            hasher.update(dir.to_string_lossy().as_bytes());
            hasher.update(std::fs::read(dir.join(file)).unwrap_or_default());
        }
    }
    format!("user_service_tpl_{}", &hex::encode(hasher.finalize())[..16])
}

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// Creates (once per server and migration set) the migrated template.
async fn template() -> &'static str {
    TEMPLATE
        .get_or_init(|| async {
            let name = template_name();
            let mut conn = AsyncPgConnection::establish(&server_url())
                .await
                .expect("connect to the test PostgreSQL server");
            // Serialise template creation across test processes.
            diesel::sql_query("SELECT pg_advisory_lock(727274)")
                .execute(&mut conn)
                .await
                .expect("advisory lock");
            #[derive(diesel::QueryableByName)]
            struct Found {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            let found: Found = diesel::sql_query(format!(
                "SELECT count(*) AS n FROM pg_database WHERE datname = '{name}'"
            ))
            .get_result(&mut conn)
            .await
            .expect("look the template up");
            if found.n == 0 {
                let building = format!("{name}_building");
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .expect("drop a half-built template");
                diesel::sql_query(format!("CREATE DATABASE {building}"))
                    .execute(&mut conn)
                    .await
                    .expect("create the template");
                db::run_migrations(&database_url(&building))
                    .await
                    .expect("migrate the template");
                diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("publish the template");
            }
            diesel::sql_query("SELECT pg_advisory_unlock(727274)")
                .execute(&mut conn)
                .await
                .expect("advisory unlock");
            name
        })
        .await
}

/// A database of one test, dropped with it.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    pub async fn create() -> Self {
        let template = template().await;
        let name = format!("user_service_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = AsyncPgConnection::establish(&server_url())
            .await
            .expect("connect to the test PostgreSQL server");
        let mut attempts = 0;
        loop {
            let created = diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
                .execute(&mut conn)
                .await;
            match created {
                Ok(_) => break,
                // Another test is copying the same template right now.
                Err(error)
                    if attempts < 50 && error.to_string().contains("accessed by other users") =>
                {
                    attempts += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(error) => panic!("cannot create test database: {error}"),
            }
        }
        let url = database_url(&name);
        Self { name, url }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // A fresh runtime on its own thread: Drop may run inside (or outside)
        // the test's runtime.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let mut conn = AsyncPgConnection::establish(&server_url()).await?;
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .map_err(|error| diesel::ConnectionError::BadConnection(error.to_string()))
                    .map(drop)
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("warning: test database {} was not dropped", self.name);
        }
    }
}

/// The test configuration for `database`.
pub fn test_config(database: &TestDatabase, auth_service_url: &str) -> Config {
    let mut config = Config::defaults();
    config.app_env = user_service::config::AppEnv::Test;
    config.database = DatabaseConfig {
        database_pool_size: 0,
        database_max_overflow: 8,
        database_pool_timeout: 5,
        ..DatabaseConfig::for_url(&database.url)
    };
    config.auth.jwt_secret = Some(SecretString::from(TEST_SECRET.to_owned()));
    config.auth.secret_key = None;
    config.auth.auth_jwks_url = None;
    config.auth.jwt_algorithm = None;
    config.auth.jwt_issuer = None;
    config.auth.jwt_audience = None;
    config.auth.auth_service_url = auth_service_url.to_owned();
    config.auth.auth_service_timeout_ms = 300;
    config.http.allowed_origins = vec!["https://app.example.com".to_owned()];
    // Debug builds on a busy 2-core machine: give each batch a wider window
    // so scheduling noise does not split it (production keeps the default).
    config.http.graphql_loader_delay_ms = 20;
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

/// An HTTP answer.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl TestResponse {
    /// The `extensions.code` of the first error.
    pub fn error_code(&self) -> Option<&str> {
        self.body["errors"][0]["extensions"]["code"].as_str()
    }

    /// The `extensions.field` of the first error.
    pub fn error_field(&self) -> Option<&str> {
        self.body["errors"][0]["extensions"]["field"].as_str()
    }

    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// Panics with the body unless the response has no errors.
    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert!(
            self.body.get("errors").is_none(),
            "unexpected errors: {}",
            self.body
        );
        &self.body["data"]
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// An app whose configuration `configure` adjusts first.
    pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> Self {
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

/// A router served over real TCP on a loopback port, stopped (gracefully)
/// when dropped.
pub struct ServedApp {
    pub addr: std::net::SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    pub task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

#[allow(dead_code)] // used by some test modules only
impl ServedApp {
    /// Serves `router` on `127.0.0.1:0`.
    pub async fn start(router: Router) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let (shutdown, signal) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(user_service::server::serve_on(
            listener,
            router,
            async move {
                let _ = signal.await;
            },
        ));
        Self {
            addr,
            shutdown: Some(shutdown),
            task: Some(task),
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Starts the graceful shutdown (in-flight requests still finish).
    pub fn begin_shutdown(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

impl Drop for ServedApp {
    fn drop(&mut self) {
        self.begin_shutdown();
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// An HTTP client for loopback servers (no proxy from the environment).
#[allow(dead_code)] // used by some test modules only
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client")
}
