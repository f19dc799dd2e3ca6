//! Configuration: one typed [`Config`], read from the command line, the
//! environment and a `.env` file (in that order of precedence).
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `APP_ENV` | `development` | `development`, `test` or `production` |
//! | `HOST` / `PORT` | `0.0.0.0` / `8080` | where the HTTP server listens |
//! | `DATABASE_URL` | `postgres://postgres@127.0.0.1:5432/user_service` | PostgreSQL |
//! | `DATABASE_POOL_SIZE` | `20` | connections kept idle in the pool (bb8 `min_idle`) |
//! | `DATABASE_MAX_OVERFLOW` | `30` | extra connections on demand (bb8 `max_size` = size + overflow) |
//! | `DATABASE_POOL_TIMEOUT` | `30` | seconds to wait for a connection (bb8 `connection_timeout`) |
//! | `DATABASE_POOL_RECYCLE` | `3600` | seconds a connection lives (bb8 `max_lifetime`) |
//! | `DATABASE_CREATE` | `true` | create the database at start-up when it is missing |
//! | `RUN_MIGRATIONS` | `true` | apply pending migrations at start-up |
//! | `RABBITMQ_URL` | `amqp://guest:guest@127.0.0.1:5672/%2f` | the broker |
//! | `RABBITMQ_EXCHANGE` | `auth.events` | the auth-service's topic exchange |
//! | `RABBITMQ_QUEUE` | `user-service.auth-events` | the queue this service consumes |
//! | `RABBITMQ_DEAD_LETTER_QUEUE` | `<RABBITMQ_QUEUE>.dead` | where malformed messages go |
//! | `RABBITMQ_PREFETCH` | `16` | unacknowledged messages the broker may hand the consumer at once |
//! | `CONSUMER_ENABLED` | `true` | whether `serve` runs the event consumer beside the HTTP server |
//! | `CONSUMER_RETRY_MAX_MS` | `30000` | longest pause between reconnect / database retry attempts |
//! | `AUTH_SERVICE_URL` | `http://127.0.0.1:8000` | the auth-service's HTTP API |
//! | `AUTH_SERVICE_TIMEOUT_MS` | `800` | connect and total timeout of one auth-service request |
//! | `AUTH_SERVICE_RETRIES` | `2` | extra attempts after a transient failure (timeout, refused, 5xx, 429) |
//! | `AUTH_SERVICE_BUDGET_MS` | `2000` | the most one lookup may take, retries included |
//! | `AUTH_SERVICE_BREAKER_THRESHOLD` | `5` | consecutive failed lookups that open the circuit breaker |
//! | `AUTH_SERVICE_BREAKER_COOLDOWN_MS` | `30000` | how long the breaker stays open before one trial lookup |
//! | `JWT_SECRET` (alias `SECRET_KEY`) | a development secret | HS256 key |
//! | `AUTH_JWKS_URL` | unset | the auth-service's JWKS, for RS256/ES256 |
//! | `JWT_ALGORITHM` | `HS256` (`RS256` with JWKS) | the one accepted algorithm |
//! | `AUTH_JWKS_TIMEOUT_MS` | `2000` | timeout of one JWKS download |
//! | `AUTH_JWKS_MIN_REFRESH_MS` | `30000` | at most one JWKS download per this interval when tokens name unknown `kid`s |
//! | `AUTH_JWKS_TTL_SECS` | `3600` | age after which the cached key set is downloaded again |
//! | `JWT_ISSUER` / `JWT_AUDIENCE` | unset | checked when set |
//! | `JWT_USER_CLAIM` | `sub` | the claim holding the user id |
//! | `ALLOWED_ORIGINS` | `http://localhost:3000,http://localhost:5173` | CORS origins (exact match, comma separated) |
//! | `ENABLE_GRAPHIQL` / `ENABLE_INTROSPECTION` | on, off in production | |
//! | `MAX_BODY_BYTES` | `1048576` | request body limit (413 above it) |
//! | `GRAPHQL_MAX_DEPTH` / `GRAPHQL_MAX_COMPLEXITY` | `15` / `250000` | document limits (complexity: the cost model of `graphql::cost`, list sizes included, per request) |
//! | `GRAPHQL_MAX_TOKENS` / `GRAPHQL_MAX_NESTING` | `10000` / `64` | lexical bounds checked before parsing (nesting also bounds `variables`) |
//! | `GRAPHQL_MAX_RESPONSE_BYTES` | `4194304` | the most bytes the answers of one request may take |
//! | `GRAPHQL_LOADER_DELAY_MS` | `1` | how long a dataloader gathers keys before a batch |
//! | `GRAPHQL_MAX_ALIASES` | `30` | aliases per document |
//! | `GRAPHQL_MAX_DIRECTIVES` | `10` | directives per field |
//! | `GRAPHQL_MAX_BATCH` | `10` | operations per batched POST |
//! | `REQUEST_TIMEOUT_MS` | `10000` | how long one GraphQL request may run (503 after) |
//! | `RATE_LIMIT_PER_IP` / `RATE_LIMIT_PER_USER` | `1200` / `600` | requests a minute to `/graphql` per client address / per token subject (0: off; 429 + `Retry-After` above) |
//! | `TRUST_X_FORWARDED_FOR` | `false` | take the client address from the last `X-Forwarded-For` entry |
//! | `ROUTER_SECRET` | unset | router-only mode: `/graphql` needs it in `Router-Authorization` |
//! | `CSRF_PREVENTION` | `true` | refuse simple requests without a preflight-forcing header |
//! | `APQ_CACHE_SIZE` | `1000` | automatic persisted queries kept (0: APQ off) |
//! | `ENABLE_METRICS` | `true` | serve `/metrics` |
//! | `READINESS_TIMEOUT_MS` | `2000` | how long `/ready` and `/db/status` wait for a dependency |

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use jsonwebtoken::Algorithm;
use secrecy::{ExposeSecret, SecretString};

/// The secret used when none is configured outside production. Public on
/// purpose: it only ever signs development tokens.
pub const DEVELOPMENT_SECRET: &str = "user-service-development-secret-do-not-use-in-production";

/// Minimum length of the HS256 secret in production.
pub const MIN_SECRET_BYTES: usize = 32;

/// The command line: a subcommand (default `serve`) and the configuration.
#[derive(Debug, Parser)]
#[command(
    name = "user-service",
    version,
    about = "The user-service GraphQL subgraph"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

/// What the binary does.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve GraphQL over HTTP (the default), with the event consumer
    /// beside it unless `CONSUMER_ENABLED=false`.
    Serve,
    /// Consume the auth-service's events only (no HTTP server), until
    /// SIGINT or SIGTERM.
    Consume,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the GraphQL SDL (the subgraph schema) to stdout.
    ExportSchema,
    /// Mint a token signed with the configured secret, for GraphiQL or curl.
    Token {
        /// The user id (`sub` claim).
        #[arg(long)]
        sub: String,
        /// Grant the `admin` role.
        #[arg(long)]
        admin: bool,
        /// Lifetime, e.g. `1h`, `30m`, `7d`.
        #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
        ttl: Duration,
    },
    /// Print a random hex secret suitable for `JWT_SECRET`.
    GenerateSecret {
        /// Number of random bytes.
        #[arg(long, default_value_t = 64)]
        length: usize,
    },
}

/// Deployment environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AppEnv {
    Development,
    Test,
    Production,
}

/// The whole service configuration.
#[derive(Debug, Clone, Args)]
pub struct Config {
    #[arg(
        long,
        env = "APP_ENV",
        value_enum,
        default_value = "development",
        global = true
    )]
    pub app_env: AppEnv,
    #[arg(long, env = "HOST", default_value = "0.0.0.0", global = true)]
    pub host: IpAddr,
    #[arg(long, env = "PORT", default_value_t = 8080, global = true)]
    pub port: u16,

    #[command(flatten)]
    pub database: DatabaseConfig,
    #[command(flatten)]
    pub auth: AuthConfig,
    #[command(flatten)]
    pub http: HttpConfig,
    #[command(flatten)]
    pub events: EventsConfig,

    #[arg(
        long,
        env = "RABBITMQ_URL",
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f",
        global = true
    )]
    pub rabbitmq_url: SecretString,
}

/// PostgreSQL and its pool.
#[derive(Debug, Clone, Args)]
pub struct DatabaseConfig {
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/user_service",
        global = true
    )]
    pub database_url: SecretString,
    #[arg(long, env = "DATABASE_POOL_SIZE", default_value_t = 20, global = true)]
    pub database_pool_size: u32,
    #[arg(
        long,
        env = "DATABASE_MAX_OVERFLOW",
        default_value_t = 30,
        global = true
    )]
    pub database_max_overflow: u32,
    /// Seconds.
    #[arg(
        long,
        env = "DATABASE_POOL_TIMEOUT",
        default_value_t = 30,
        global = true
    )]
    pub database_pool_timeout: u64,
    /// Seconds.
    #[arg(
        long,
        env = "DATABASE_POOL_RECYCLE",
        default_value_t = 3600,
        global = true
    )]
    pub database_pool_recycle: u64,
    #[arg(long, env = "DATABASE_CREATE", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub database_create: bool,
    #[arg(long, env = "RUN_MIGRATIONS", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub run_migrations: bool,
}

impl DatabaseConfig {
    /// A configuration for `url` with the default pool settings.
    pub fn for_url(url: &str) -> Self {
        Self {
            database_url: url.to_owned().into(),
            database_pool_size: 20,
            database_max_overflow: 30,
            database_pool_timeout: 30,
            database_pool_recycle: 3600,
            database_create: true,
            run_migrations: true,
        }
    }
}

/// Token verification.
#[derive(Debug, Clone, Args)]
pub struct AuthConfig {
    #[arg(long, env = "JWT_SECRET", global = true, hide_env_values = true)]
    pub jwt_secret: Option<SecretString>,
    /// Alias of `JWT_SECRET`.
    #[arg(long, env = "SECRET_KEY", global = true, hide_env_values = true)]
    pub secret_key: Option<SecretString>,
    #[arg(long, env = "AUTH_JWKS_URL", global = true)]
    pub auth_jwks_url: Option<String>,
    #[arg(long, env = "JWT_ALGORITHM", global = true, value_parser = parse_algorithm)]
    pub jwt_algorithm: Option<Algorithm>,
    #[arg(long, env = "JWT_ISSUER", global = true)]
    pub jwt_issuer: Option<String>,
    #[arg(long, env = "JWT_AUDIENCE", global = true)]
    pub jwt_audience: Option<String>,
    #[arg(long, env = "JWT_USER_CLAIM", default_value = "sub", global = true)]
    pub jwt_user_claim: String,
    #[arg(
        long,
        env = "AUTH_SERVICE_URL",
        default_value = "http://127.0.0.1:8000",
        global = true
    )]
    pub auth_service_url: String,
    /// Total timeout of one auth-service call, in milliseconds.
    #[arg(
        long,
        env = "AUTH_SERVICE_TIMEOUT_MS",
        default_value_t = 800,
        global = true
    )]
    pub auth_service_timeout_ms: u64,
    /// Extra attempts after a transient auth-service failure.
    #[arg(long, env = "AUTH_SERVICE_RETRIES", default_value_t = 2, global = true)]
    pub auth_service_retries: u32,
    /// The most one lookup may take, retries included, in milliseconds.
    #[arg(
        long,
        env = "AUTH_SERVICE_BUDGET_MS",
        default_value_t = 2000,
        global = true
    )]
    pub auth_service_budget_ms: u64,
    /// Consecutive failed lookups that open the circuit breaker.
    #[arg(
        long,
        env = "AUTH_SERVICE_BREAKER_THRESHOLD",
        default_value_t = 5,
        global = true
    )]
    pub auth_service_breaker_threshold: u32,
    /// How long the open breaker refuses lookups, in milliseconds.
    #[arg(
        long,
        env = "AUTH_SERVICE_BREAKER_COOLDOWN_MS",
        default_value_t = 30_000,
        global = true
    )]
    pub auth_service_breaker_cooldown_ms: u64,
    /// Timeout of one JWKS download, in milliseconds.
    #[arg(
        long,
        env = "AUTH_JWKS_TIMEOUT_MS",
        default_value_t = 2000,
        global = true
    )]
    pub auth_jwks_timeout_ms: u64,
    /// At most one JWKS download per this many milliseconds for unknown `kid`s.
    #[arg(
        long,
        env = "AUTH_JWKS_MIN_REFRESH_MS",
        default_value_t = 30_000,
        global = true
    )]
    pub auth_jwks_min_refresh_ms: u64,
    /// Age (seconds) after which the cached key set is downloaded again.
    #[arg(
        long,
        env = "AUTH_JWKS_TTL_SECS",
        default_value_t = 3600,
        global = true
    )]
    pub auth_jwks_ttl_secs: u64,
}

impl AuthConfig {
    /// The HS256 secret: `JWT_SECRET`, else `SECRET_KEY`.
    pub fn secret(&self) -> Option<&SecretString> {
        self.jwt_secret.as_ref().or(self.secret_key.as_ref())
    }

    /// The pinned algorithm: configured, else RS256 with JWKS, else HS256.
    pub fn algorithm(&self) -> Algorithm {
        self.jwt_algorithm
            .unwrap_or(if self.auth_jwks_url.is_some() {
                Algorithm::RS256
            } else {
                Algorithm::HS256
            })
    }
}

/// HTTP and GraphQL limits.
#[derive(Debug, Clone, Args)]
pub struct HttpConfig {
    #[arg(
        long,
        env = "ALLOWED_ORIGINS",
        value_delimiter = ',',
        default_value = "http://localhost:3000,http://localhost:5173",
        global = true
    )]
    pub allowed_origins: Vec<String>,
    #[arg(long, env = "ENABLE_GRAPHIQL", action = clap::ArgAction::Set, global = true)]
    pub enable_graphiql: Option<bool>,
    #[arg(long, env = "ENABLE_INTROSPECTION", action = clap::ArgAction::Set, global = true)]
    pub enable_introspection: Option<bool>,
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 1024 * 1024, global = true)]
    pub max_body_bytes: usize,
    #[arg(long, env = "GRAPHQL_MAX_DEPTH", default_value_t = 15, global = true)]
    pub graphql_max_depth: usize,
    #[arg(
        long,
        env = "GRAPHQL_MAX_COMPLEXITY",
        default_value_t = 250_000,
        global = true
    )]
    pub graphql_max_complexity: usize,
    /// Most tokens in one document (checked before parsing); also the most
    /// selections a document may expand to through its fragments.
    #[arg(
        long,
        env = "GRAPHQL_MAX_TOKENS",
        default_value_t = 10_000,
        global = true
    )]
    pub graphql_max_tokens: usize,
    /// Deepest nesting of `(`, `[` and `{` in a document (checked before
    /// parsing), and of lists and objects in its variables.
    #[arg(long, env = "GRAPHQL_MAX_NESTING", default_value_t = 64, global = true)]
    pub graphql_max_nesting: usize,
    /// The most bytes the answers of one request (a batch together) may take.
    #[arg(
        long,
        env = "GRAPHQL_MAX_RESPONSE_BYTES",
        default_value_t = 4 * 1024 * 1024,
        global = true
    )]
    pub graphql_max_response_bytes: usize,
    /// How long a dataloader waits for more keys before loading a batch,
    /// in milliseconds.
    #[arg(
        long,
        env = "GRAPHQL_LOADER_DELAY_MS",
        default_value_t = 1,
        global = true
    )]
    pub graphql_loader_delay_ms: u64,
    /// Most aliases a document may use (counted over all its operations and
    /// fragments).
    #[arg(long, env = "GRAPHQL_MAX_ALIASES", default_value_t = 30, global = true)]
    pub graphql_max_aliases: usize,
    /// Most directives on one field.
    #[arg(
        long,
        env = "GRAPHQL_MAX_DIRECTIVES",
        default_value_t = 10,
        global = true
    )]
    pub graphql_max_directives: usize,
    /// Most operations in one batched POST.
    #[arg(long, env = "GRAPHQL_MAX_BATCH", default_value_t = 10, global = true)]
    pub graphql_max_batch: usize,
    /// How long one GraphQL request may run, in milliseconds.
    #[arg(
        long,
        env = "REQUEST_TIMEOUT_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub request_timeout_ms: u64,
    /// Requests a minute one client address may send to `/graphql` (0: off).
    #[arg(long, env = "RATE_LIMIT_PER_IP", default_value_t = 1200, global = true)]
    pub rate_limit_per_ip: u32,
    /// Requests a minute one authenticated user may send (0: off).
    #[arg(
        long,
        env = "RATE_LIMIT_PER_USER",
        default_value_t = 600,
        global = true
    )]
    pub rate_limit_per_user: u32,
    /// Take the client address from the last `X-Forwarded-For` entry (the one
    /// the trusted proxy in front of the service appended).
    #[arg(long, env = "TRUST_X_FORWARDED_FOR", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub trust_x_forwarded_for: bool,
    /// When set, `/graphql` answers only requests carrying it in
    /// `Router-Authorization` (router-only mode).
    #[arg(long, env = "ROUTER_SECRET", global = true, hide_env_values = true)]
    pub router_secret: Option<SecretString>,
    /// Refuse simple (CSRF-prone) requests, as Apollo's `csrfPrevention`.
    #[arg(long, env = "CSRF_PREVENTION", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub csrf_prevention: bool,
    /// Automatic persisted queries kept in memory (0: APQ off).
    #[arg(long, env = "APQ_CACHE_SIZE", default_value_t = 1000, global = true)]
    pub apq_cache_size: usize,
    /// Serve `/metrics`.
    #[arg(long, env = "ENABLE_METRICS", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub enable_metrics: bool,
    /// How long `/ready` and `/db/status` wait for each dependency, in
    /// milliseconds.
    #[arg(
        long,
        env = "READINESS_TIMEOUT_MS",
        default_value_t = 2000,
        global = true
    )]
    pub readiness_timeout_ms: u64,
}

/// The RabbitMQ consumer of the auth-service's events.
#[derive(Debug, Clone, Args)]
pub struct EventsConfig {
    #[arg(
        long,
        env = "RABBITMQ_EXCHANGE",
        default_value = "auth.events",
        global = true
    )]
    pub rabbitmq_exchange: String,
    #[arg(
        long,
        env = "RABBITMQ_QUEUE",
        default_value = "user-service.auth-events",
        global = true
    )]
    pub rabbitmq_queue: String,
    /// Default: the queue's name followed by `.dead`.
    #[arg(long, env = "RABBITMQ_DEAD_LETTER_QUEUE", global = true)]
    pub rabbitmq_dead_letter_queue: Option<String>,
    #[arg(long, env = "RABBITMQ_PREFETCH", default_value_t = 16, global = true)]
    pub rabbitmq_prefetch: u16,
    /// Whether `serve` also runs the consumer.
    #[arg(long, env = "CONSUMER_ENABLED", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub consumer_enabled: bool,
    /// Longest pause between two reconnect or database retry attempts, in
    /// milliseconds.
    #[arg(
        long,
        env = "CONSUMER_RETRY_MAX_MS",
        default_value_t = 30_000,
        global = true
    )]
    pub consumer_retry_max_ms: u64,
}

impl EventsConfig {
    /// The dead-letter queue's name.
    pub fn dead_letter_queue(&self) -> String {
        self.rabbitmq_dead_letter_queue
            .clone()
            .unwrap_or_else(|| format!("{}.dead", self.rabbitmq_queue))
    }
}

fn parse_algorithm(value: &str) -> Result<Algorithm, String> {
    match value.to_ascii_uppercase().as_str() {
        "HS256" => Ok(Algorithm::HS256),
        "HS384" => Ok(Algorithm::HS384),
        "HS512" => Ok(Algorithm::HS512),
        "RS256" => Ok(Algorithm::RS256),
        "RS384" => Ok(Algorithm::RS384),
        "RS512" => Ok(Algorithm::RS512),
        "ES256" => Ok(Algorithm::ES256),
        "ES384" => Ok(Algorithm::ES384),
        "EDDSA" => Ok(Algorithm::EdDSA),
        other => Err(format!("unsupported JWT algorithm {other:?}")),
    }
}

/// Why a configuration cannot start the service.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("APP_ENV=production needs JWT_SECRET (or SECRET_KEY) or AUTH_JWKS_URL")]
    MissingSecret,
    #[error(
        "JWT_SECRET is too weak for production: at least {MIN_SECRET_BYTES} bytes are required"
    )]
    WeakSecret,
}

impl Config {
    /// Checks rules that span several settings.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.app_env == AppEnv::Production {
            let hmac = matches!(
                self.auth.algorithm(),
                Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
            );
            match self.auth.secret() {
                None if hmac || self.auth.auth_jwks_url.is_none() => {
                    return Err(ConfigError::MissingSecret);
                }
                Some(secret) if secret.expose_secret().len() < MIN_SECRET_BYTES => {
                    return Err(ConfigError::WeakSecret);
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The HS256 secret in force: the configured one, else the development
    /// secret (never in production, see [`Config::validate`]).
    pub fn effective_secret(&self) -> SecretString {
        self.auth
            .secret()
            .cloned()
            .unwrap_or_else(|| DEVELOPMENT_SECRET.to_owned().into())
    }

    pub fn is_production(&self) -> bool {
        self.app_env == AppEnv::Production
    }

    pub fn graphiql_enabled(&self) -> bool {
        self.http.enable_graphiql.unwrap_or(!self.is_production())
    }

    pub fn introspection_enabled(&self) -> bool {
        self.http
            .enable_introspection
            .unwrap_or(!self.is_production())
    }

    pub fn listen_addr(&self) -> SocketAddr {
        SocketAddr::new(self.host, self.port)
    }

    /// A configuration with every default, for tests and tools.
    pub fn defaults() -> Self {
        Cli::parse_from(["user-service"]).config
    }
}
