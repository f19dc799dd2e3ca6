//! user-service: the GraphQL subgraph that owns everything about a user
//! beyond authentication — profile, preferences, plan, badges, learning
//! goals with streaks, activity and stats.
//!
//! - [`config`]: the typed configuration (environment, `.env`, flags);
//! - [`app`]: state, router, HTTP handlers and graceful shutdown;
//! - [`auth`]: token verification and the mutation guard;
//! - [`http`]: the HTTP surface: GraphQL over HTTP, limits, observability, status;
//! - [`graphql`]: schema, resolvers, inputs and dataloaders;
//! - [`db`]: the pool, migrations and per-table queries ([`schema`] is diesel's);
//! - [`clients`]: the auth-service HTTP client (retries, circuit breaker);
//! - [`events`]: the RabbitMQ consumer of the auth-service's user events;
//! - [`domain`], [`clock`], [`error`], [`telemetry`]: the shared pieces.

pub mod app;
pub mod auth;
pub mod clients;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod http;
pub mod schema;
pub mod streak;
pub mod telemetry;

use std::sync::Arc;

use app::{AppState, AppStateInner};
use auth::TokenVerifier;
use clients::auth_service::{AuthServiceClient, AuthServiceSettings};
use clock::SharedClock;
use config::Config;
use db::Database;

/// Builds the application state from a validated configuration and an
/// opened database.
pub fn build_state(config: Config, db: Database, clock: SharedClock) -> anyhow::Result<AppState> {
    auth::check_production(&config)?;
    let verifier = TokenVerifier::from_config(&config.auth, &config.effective_secret())?;
    let auth_service = AuthServiceClient::new(AuthServiceSettings::from_config(&config.auth))?;
    Ok(AppState::new(AppStateInner {
        config,
        db,
        verifier,
        clock,
        auth_service,
        consumer: events::ConsumerStatus::default(),
    }))
}

/// The system clock, shared.
pub fn system_clock() -> SharedClock {
    Arc::new(clock::SystemClock)
}
