//! PostgreSQL: the bb8 pool of diesel-async connections, database creation
//! and embedded migrations. One module per table holds its rows and queries.
//!
//! Pool settings map onto bb8 as follows: `DATABASE_POOL_SIZE` is the number
//! of idle connections kept (`min_idle`), size + `DATABASE_MAX_OVERFLOW` the
//! most connections open at once (`max_size`), `DATABASE_POOL_TIMEOUT` the
//! wait for a connection (`connection_timeout`) and `DATABASE_POOL_RECYCLE`
//! a connection's lifetime (`max_lifetime`).
//!
//! A checkout costs no round trip: bb8 does not test connections on
//! checkout and diesel-async recycles them with the `Fast` method (no
//! `SELECT 1`). A connection whose socket closed is dropped when it comes
//! back (`has_broken`); a request that meets a dead one fails once with
//! `SERVICE_UNAVAILABLE`, and `max_lifetime` retires connections anyway.
//! Each connection keeps its own prepared-statement cache, so connections
//! live long and the pool stays small.

pub mod activity;
pub mod auth_users;
pub mod badges;
pub mod goals;
pub mod imports;
pub mod lists;
pub mod pages;
pub mod profiles;
pub mod search;
pub mod seed;
pub mod stats;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use diesel::ConnectionError;
use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::bb8::Pool as Bb8Pool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use futures::FutureExt;
use secrecy::ExposeSecret;

use crate::config::DatabaseConfig;
use crate::domain::AuthUserId;

/// Groups rows by their user id (a batch read for several users, split
/// back per user).
pub fn group_by_user<T>(
    rows: Vec<T>,
    user_of: impl Fn(&T) -> &AuthUserId,
) -> HashMap<AuthUserId, Vec<T>> {
    let mut grouped: HashMap<AuthUserId, Vec<T>> = HashMap::new();
    for row in rows {
        grouped.entry(user_of(&row).clone()).or_default().push(row);
    }
    grouped
}

/// The migrations in `migrations/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// The connection pool.
pub type Pool = Bb8Pool<AsyncPgConnection>;

/// A connection taken from the pool.
pub type PooledConnection<'a> =
    bb8::PooledConnection<'a, AsyncDieselConnectionManager<AsyncPgConnection>>;

/// Counts the SQL statements every pooled connection sends. Exposed as a
/// metric, and read by the tests that prove batching.
#[derive(Debug, Default, Clone)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    pub fn get(&self) -> u64 {
        std::sync::atomic::AtomicU64::load(&self.0, Ordering::Relaxed)
    }
}

/// Counts statements and, while traces are exported, gives each one a
/// `sql` span (the statement without its bind values, which may hold
/// personal data).
struct CountStatements(StatementCounter, Option<tracing::Span>);

impl Instrumentation for CountStatements {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { query, .. } => {
                (self.0).0.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("db_statements_total").increment(1);
                if crate::telemetry::enabled() {
                    let text = query.to_string();
                    let statement = text.split(" -- binds:").next().unwrap_or("");
                    self.1 = Some(tracing::info_span!(
                        "sql",
                        db.system = "postgresql",
                        db.statement = statement
                    ));
                }
            }
            InstrumentationEvent::FinishQuery { .. } => self.1 = None,
            _ => {}
        }
    }
}

/// The database: the pool and its statement counter.
#[derive(Clone)]
pub struct Database {
    pub pool: Pool,
    pub statements: StatementCounter,
    pub max_connections: u32,
}

/// Why the database could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("DATABASE_URL is not a valid URL: {0}")]
    BadUrl(#[from] url::ParseError),
    #[error("cannot connect to PostgreSQL: {0}")]
    Connect(#[from] ConnectionError),
    #[error("cannot create the database: {0}")]
    Create(#[source] diesel::result::Error),
    #[error("migrations failed: {0}")]
    Migrate(String),
    #[error("pool: {0}")]
    Pool(#[from] diesel_async::pooled_connection::PoolError),
}

impl Database {
    /// Creates the database if asked and missing, applies migrations if
    /// asked, and opens the pool. A first direct connection surfaces the
    /// real reason of a bad `DATABASE_URL` (bb8 would only say "timed out").
    pub async fn connect(config: &DatabaseConfig) -> Result<Self, SetupError> {
        let url = config.database_url.expose_secret();
        if config.database_create {
            create_database_if_missing(url).await?;
        }
        drop(AsyncPgConnection::establish(url).await?);
        if config.run_migrations {
            run_migrations(url).await?;
        }
        Self::pool(config).await
    }

    /// Opens the pool without touching the schema.
    pub async fn pool(config: &DatabaseConfig) -> Result<Self, SetupError> {
        let statements = StatementCounter::default();
        let counter = statements.clone();
        let mut manager_config = ManagerConfig::<AsyncPgConnection>::default();
        manager_config.recycling_method = RecyclingMethod::Fast;
        manager_config.custom_setup = Box::new(move |url| {
            let counter = counter.clone();
            async move {
                let mut conn = AsyncPgConnection::establish(url).await?;
                conn.set_instrumentation(CountStatements(counter, None));
                Ok(conn)
            }
            .boxed()
        });
        let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
            config.database_url.expose_secret(),
            manager_config,
        );
        let max_connections = config
            .database_pool_size
            .saturating_add(config.database_max_overflow)
            .max(1);
        let pool = Bb8Pool::builder()
            .max_size(max_connections)
            .min_idle(Some(config.database_pool_size.min(max_connections)))
            .connection_timeout(config.database_pool_timeout.max(Duration::from_secs(1)))
            .test_on_check_out(false)
            .max_lifetime(Some(
                config.database_pool_recycle.max(Duration::from_secs(1)),
            ))
            .error_sink(Box::new(PoolErrorSink))
            .build_unchecked(manager);
        Ok(Self {
            pool,
            statements,
            max_connections,
        })
    }
}

/// Logs connection failures that bb8 would otherwise hide behind a timeout.
#[derive(Debug, Clone, Copy)]
struct PoolErrorSink;

impl bb8::ErrorSink<diesel_async::pooled_connection::PoolError> for PoolErrorSink {
    fn sink(&self, error: diesel_async::pooled_connection::PoolError) {
        tracing::warn!(%error, "database pool could not open a connection");
    }

    fn boxed_clone(&self) -> Box<dyn bb8::ErrorSink<diesel_async::pooled_connection::PoolError>> {
        Box::new(*self)
    }
}

/// Creates the database named in `url` when it does not exist, by
/// connecting to the `postgres` maintenance database on the same server.
pub async fn create_database_if_missing(url: &str) -> Result<(), SetupError> {
    match AsyncPgConnection::establish(url).await {
        Ok(_) => return Ok(()),
        Err(error) if error.to_string().contains("does not exist") => {}
        Err(other) => return Err(other.into()),
    }
    let mut maintenance = url::Url::parse(url)?;
    let name = maintenance.path().trim_start_matches('/').to_owned();
    maintenance.set_path("/postgres");
    let mut conn = AsyncPgConnection::establish(maintenance.as_str()).await?;
    let statement = format!("CREATE DATABASE {}", quote_identifier(&name));
    match diesel::sql_query(statement).execute(&mut conn).await {
        Ok(_) => {
            tracing::info!(database = %name, "created database");
            Ok(())
        }
        // Someone else created it meanwhile.
        Err(diesel::result::Error::DatabaseError(_, info))
            if info.message().contains("already exists") =>
        {
            Ok(())
        }
        Err(error) => Err(SetupError::Create(error)),
    }
}

/// Quotes a PostgreSQL identifier.
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Applies pending migrations on a blocking thread.
pub async fn run_migrations(url: &str) -> Result<(), SetupError> {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        use diesel::Connection;
        let mut conn: AsyncConnectionWrapper<AsyncPgConnection> = Connection::establish(&url)?;
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map_err(|error| SetupError::Migrate(error.to_string()))?;
        for version in applied {
            tracing::info!(%version, "applied migration");
        }
        Ok(())
    })
    .await
    .map_err(|error| SetupError::Migrate(error.to_string()))?
}
