//! Configuration: one typed [`Config`], read from the command line, the
//! environment and a `.env` file (in that order of precedence).
//!
//! One file per section, each with a table of its variables and a `const`
//! per default (the single source: the clap attributes, constructors such as
//! [`DatabaseConfig::for_url`] and `--help` all read it; a test checks the
//! README's configuration tables against them):
//!
//! - [`database`]: `DATABASE_*`, `RUN_MIGRATIONS`;
//! - [`auth`]: `JWT_*`, `SECRET_KEY`, `AUTH_JWKS_*`, `AUTH_SERVICE_*`;
//! - [`http`]: CORS, GraphiQL, body and GraphQL limits, timeouts, rate
//!   limits, router-only mode, CSRF, APQ, metrics;
//! - [`events`]: `RABBITMQ_*`, `CONSUMER_*`;
//! - [`legacy`]: `LEGACY_REST_*`, the REST compatibility layer;
//! - [`subscriptions`]: `SUBSCRIPTIONS_ENABLED`, `SUBSCRIPTION_*`;
//! - here: `APP_ENV` ([`DEFAULT_APP_ENV`]), `HOST` ([`DEFAULT_HOST`]),
//!   `PORT` ([`DEFAULT_PORT`]) and `RABBITMQ_URL` (default in [`events`]).
//!
//! Durations are [`Duration`]s, parsed once from the number the variable
//! has always carried: `*_MS` in milliseconds, `*_SECS` and
//! `DATABASE_POOL_TIMEOUT` / `DATABASE_POOL_RECYCLE` in seconds.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use jsonwebtoken::Algorithm;
use secrecy::{ExposeSecret, SecretString};

/// The `default_value` text of a millisecond variable, from its `Duration`
/// default (computed once).
macro_rules! millis_default {
    ($default:expr) => {{
        static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        TEXT.get_or_init(|| $default.as_millis().to_string())
            .as_str()
    }};
}

/// The `default_value` text of a seconds variable, from its `Duration`
/// default (computed once).
macro_rules! secs_default {
    ($default:expr) => {{
        static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        TEXT.get_or_init(|| $default.as_secs().to_string()).as_str()
    }};
}

pub mod auth;
pub mod database;
pub mod events;
pub mod http;
pub mod legacy;
pub mod subscriptions;

pub use auth::AuthConfig;
pub use database::DatabaseConfig;
pub use events::EventsConfig;
pub use http::HttpConfig;
pub use legacy::LegacyRestConfig;
pub use subscriptions::SubscriptionConfig;

/// The secret used when none is configured outside production. Public on
/// purpose: it only ever signs development tokens.
pub const DEVELOPMENT_SECRET: &str = "user-service-development-secret-do-not-use-in-production";

/// Minimum length of the HS256 secret in production.
pub const MIN_SECRET_BYTES: usize = 32;

/// `APP_ENV`.
pub const DEFAULT_APP_ENV: &str = "development";
/// `HOST`.
pub const DEFAULT_HOST: &str = "0.0.0.0";
/// `PORT`.
pub const DEFAULT_PORT: u16 = 8080;

/// Reads a variable given in milliseconds.
fn parse_millis(value: &str) -> Result<Duration, String> {
    value
        .trim()
        .parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|error| format!("expected a number of milliseconds: {error}"))
}

/// Reads a variable given in seconds.
fn parse_secs(value: &str) -> Result<Duration, String> {
    value
        .trim()
        .parse::<u64>()
        .map(Duration::from_secs)
        .map_err(|error| format!("expected a number of seconds: {error}"))
}

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
        default_value = DEFAULT_APP_ENV,
        global = true
    )]
    pub app_env: AppEnv,
    #[arg(long, env = "HOST", default_value = DEFAULT_HOST, global = true)]
    pub host: IpAddr,
    #[arg(long, env = "PORT", default_value_t = DEFAULT_PORT, global = true)]
    pub port: u16,

    #[command(flatten)]
    pub database: DatabaseConfig,
    #[command(flatten)]
    pub auth: AuthConfig,
    #[command(flatten)]
    pub http: HttpConfig,
    #[command(flatten)]
    pub events: EventsConfig,
    #[command(flatten)]
    pub legacy: LegacyRestConfig,
    #[command(flatten)]
    pub subscriptions: SubscriptionConfig,

    /// The broker (its section is [`events`]).
    #[arg(
        long,
        env = "RABBITMQ_URL",
        default_value = events::DEFAULT_RABBITMQ_URL,
        global = true
    )]
    pub rabbitmq_url: SecretString,
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use clap::CommandFactory;

    use super::*;

    /// Variables the README lists that clap does not read.
    const NOT_CLAP: &[&str] = &["RUST_LOG"];

    /// Every `env` clap reads, with its default as `--help` shows it.
    fn code_defaults() -> BTreeMap<String, Option<String>> {
        Cli::command()
            .get_arguments()
            .filter_map(|arg| {
                let env = arg.get_env()?.to_string_lossy().into_owned();
                let defaults: Vec<_> = arg
                    .get_default_values()
                    .iter()
                    .map(|value| value.to_string_lossy().into_owned())
                    .collect();
                Some((env, (!defaults.is_empty()).then(|| defaults.join(","))))
            })
            .collect()
    }

    /// The code span a cell consists of, if it is exactly one.
    fn literal(cell: &str) -> Option<String> {
        let inner = cell.trim().strip_prefix('`')?.strip_suffix('`')?;
        (!inner.contains('`')).then(|| inner.to_owned())
    }

    /// Every row of README's `| variable | default | meaning |` tables:
    /// variable → its default when the cell is one literal (`None` for prose
    /// such as "unset"). `A` / `B` rows pair with `x` / `y` defaults.
    fn readme_defaults() -> Vec<(String, Option<String>)> {
        let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
        let mut rows = Vec::new();
        let mut in_table = false;
        for line in readme.lines() {
            let line = line.trim();
            if line == "| variable | default | meaning |" {
                in_table = true;
                continue;
            }
            if !line.starts_with('|') {
                in_table = false;
                continue;
            }
            if !in_table || line.starts_with("|---") {
                continue;
            }
            let cells: Vec<&str> = line.trim_matches('|').split('|').collect();
            assert!(cells.len() >= 2, "malformed README row: {line}");
            let names: Vec<String> = cells[0]
                .split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect();
            let parts: Vec<&str> = cells[1].split(" / ").collect();
            for (index, name) in names.iter().enumerate() {
                let cell = if parts.len() == names.len() {
                    parts[index]
                } else {
                    cells[1]
                };
                rows.push((name.clone(), literal(cell)));
            }
        }
        rows
    }

    #[test]
    fn readme_tables_match_the_code_defaults() {
        let code = code_defaults();
        let readme = readme_defaults();
        assert!(readme.len() > 40, "README tables not found: {readme:?}");
        for (name, default) in &readme {
            if NOT_CLAP.contains(&name.as_str()) {
                continue;
            }
            let Some(actual) = code.get(name) else {
                panic!("README lists {name}, which the configuration does not read");
            };
            assert_eq!(default, actual, "README's default for {name}");
        }
        for name in code.keys() {
            assert!(
                readme.iter().any(|(listed, _)| listed == name),
                "README's configuration table misses {name}"
            );
        }
    }

    #[test]
    fn the_constants_are_the_parsed_defaults() {
        let config = Config::defaults();
        assert_eq!(config.port, DEFAULT_PORT);
        assert_eq!(
            config.database.database_pool_timeout,
            Duration::from_secs(30)
        );
        assert_eq!(
            config.database.database_pool_recycle,
            Duration::from_secs(3600)
        );
        assert_eq!(config.auth.auth_service_timeout, Duration::from_millis(800));
        assert_eq!(config.auth.auth_jwks_ttl, Duration::from_secs(3600));
        assert_eq!(config.http.graphql_loader_delay, Duration::from_millis(1));
        assert_eq!(config.http.request_timeout, Duration::from_millis(10_000));
        assert_eq!(
            config.events.consumer_retry_max,
            Duration::from_millis(30_000)
        );
        let built = DatabaseConfig::for_url(database::DEFAULT_URL);
        let parsed = config.database;
        assert_eq!(
            built.database_url.expose_secret(),
            parsed.database_url.expose_secret()
        );
        assert_eq!(built.database_pool_size, parsed.database_pool_size);
        assert_eq!(built.database_max_overflow, parsed.database_max_overflow);
        assert_eq!(built.database_pool_timeout, parsed.database_pool_timeout);
        assert_eq!(built.database_pool_recycle, parsed.database_pool_recycle);
        assert_eq!(built.database_create, parsed.database_create);
        assert_eq!(built.run_migrations, parsed.run_migrations);
    }

    #[test]
    fn durations_are_read_in_the_unit_of_their_variable() {
        let config = Cli::try_parse_from([
            "user-service",
            "--database-pool-timeout",
            "7",
            "--database-pool-recycle",
            "60",
            "--auth-service-timeout-ms",
            "250",
            "--auth-jwks-ttl-secs",
            "9",
            "--request-timeout-ms",
            "1500",
            "--consumer-retry-max-ms",
            "40",
        ])
        .map(|cli| cli.config);
        let config = match config {
            Ok(config) => config,
            Err(error) => panic!("flags rejected: {error}"),
        };
        assert_eq!(
            config.database.database_pool_timeout,
            Duration::from_secs(7)
        );
        assert_eq!(
            config.database.database_pool_recycle,
            Duration::from_secs(60)
        );
        assert_eq!(config.auth.auth_service_timeout, Duration::from_millis(250));
        assert_eq!(config.auth.auth_jwks_ttl, Duration::from_secs(9));
        assert_eq!(config.http.request_timeout, Duration::from_millis(1500));
        assert_eq!(config.events.consumer_retry_max, Duration::from_millis(40));
        assert!(Cli::try_parse_from(["user-service", "--request-timeout-ms", "1s"]).is_err());
    }
}
