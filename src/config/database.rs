//! PostgreSQL and its bb8 pool.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `DATABASE_URL` | [`DEFAULT_URL`] | the server and database |
//! | `DATABASE_POOL_SIZE` | [`DEFAULT_POOL_SIZE`] | connections kept idle (bb8 `min_idle`) |
//! | `DATABASE_MAX_OVERFLOW` | [`DEFAULT_MAX_OVERFLOW`] | extra connections on demand (bb8 `max_size` = size + overflow) |
//! | `DATABASE_POOL_TIMEOUT` | [`DEFAULT_POOL_TIMEOUT`] | **seconds** to wait for a connection (bb8 `connection_timeout`) |
//! | `DATABASE_POOL_RECYCLE` | [`DEFAULT_POOL_RECYCLE`] | **seconds** a connection lives (bb8 `max_lifetime`) |
//! | `DATABASE_CREATE` | [`DEFAULT_CREATE`] | create the database at start-up when it is missing |
//! | `RUN_MIGRATIONS` | [`DEFAULT_RUN_MIGRATIONS`] | apply pending migrations at start-up |

use std::time::Duration;

use clap::Args;
use secrecy::SecretString;

use super::parse_secs;

/// `DATABASE_URL`.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/user_service";
/// `DATABASE_POOL_SIZE`.
pub const DEFAULT_POOL_SIZE: u32 = 20;
/// `DATABASE_MAX_OVERFLOW`.
pub const DEFAULT_MAX_OVERFLOW: u32 = 30;
/// `DATABASE_POOL_TIMEOUT` (read in seconds).
pub const DEFAULT_POOL_TIMEOUT: Duration = Duration::from_secs(30);
/// `DATABASE_POOL_RECYCLE` (read in seconds).
pub const DEFAULT_POOL_RECYCLE: Duration = Duration::from_secs(3600);
/// `DATABASE_CREATE`.
pub const DEFAULT_CREATE: bool = true;
/// `RUN_MIGRATIONS`.
pub const DEFAULT_RUN_MIGRATIONS: bool = true;

/// PostgreSQL and its pool.
#[derive(Debug, Clone, Args)]
pub struct DatabaseConfig {
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_URL, global = true)]
    pub database_url: SecretString,
    #[arg(long, env = "DATABASE_POOL_SIZE", default_value_t = DEFAULT_POOL_SIZE, global = true)]
    pub database_pool_size: u32,
    #[arg(long, env = "DATABASE_MAX_OVERFLOW", default_value_t = DEFAULT_MAX_OVERFLOW, global = true)]
    pub database_max_overflow: u32,
    /// How long a checkout waits for a connection (the variable is in seconds).
    #[arg(
        long,
        env = "DATABASE_POOL_TIMEOUT",
        default_value = secs_default!(DEFAULT_POOL_TIMEOUT),
        value_parser = parse_secs,
        global = true
    )]
    pub database_pool_timeout: Duration,
    /// How long a connection lives (the variable is in seconds).
    #[arg(
        long,
        env = "DATABASE_POOL_RECYCLE",
        default_value = secs_default!(DEFAULT_POOL_RECYCLE),
        value_parser = parse_secs,
        global = true
    )]
    pub database_pool_recycle: Duration,
    #[arg(long, env = "DATABASE_CREATE", default_value_t = DEFAULT_CREATE, action = clap::ArgAction::Set, global = true)]
    pub database_create: bool,
    #[arg(long, env = "RUN_MIGRATIONS", default_value_t = DEFAULT_RUN_MIGRATIONS, action = clap::ArgAction::Set, global = true)]
    pub run_migrations: bool,
}

impl DatabaseConfig {
    /// A configuration for `url` with the default pool settings.
    pub fn for_url(url: &str) -> Self {
        Self {
            database_url: url.to_owned().into(),
            database_pool_size: DEFAULT_POOL_SIZE,
            database_max_overflow: DEFAULT_MAX_OVERFLOW,
            database_pool_timeout: DEFAULT_POOL_TIMEOUT,
            database_pool_recycle: DEFAULT_POOL_RECYCLE,
            database_create: DEFAULT_CREATE,
            run_migrations: DEFAULT_RUN_MIGRATIONS,
        }
    }
}
