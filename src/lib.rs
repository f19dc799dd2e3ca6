//! user-service: the GraphQL subgraph that owns everything about a user
//! beyond authentication — profile, preferences, plan, badges, learning
//! goals with streaks, activity and stats.
//!
//! The layers, from the bottom up (no module imports one above it, and the
//! `use crate::…` graph has no cycle: `tests/architecture.rs` checks both):
//!
//! - [`domain`], [`clock`], [`error`], [`config`], [`telemetry`], [`streak`],
//!   [`validation`]:
//!   the shared pieces (the typed configuration comes from the environment,
//!   `.env` and flags);
//! - [`persisted`]: the trusted-document manifest and the APQ store;
//!   [`shared_state`]: Redis, for the state replicas share;
//! - [`db`]: the pool, migrations and per-table queries ([`schema`] is diesel's);
//! - [`auth`]: token verification and the [`auth::Viewer`] a request acts as;
//! - [`clients`]: the auth-service HTTP client (retries, circuit breaker);
//! - [`events`]: the RabbitMQ consumer of the auth-service's user events;
//! - [`legacy`]: `import-legacy`, the import from the old FastAPI service's
//!   database;
//! - [`live`]: live updates: committed changes heard from PostgreSQL
//!   (`LISTEN`), fanned out to this process's subscribers;
//! - [`app`]: [`app::AppState`], what a request needs;
//! - [`service`]: the write layer: one unit of work (one transaction) per
//!   change, and user provisioning;
//! - [`graphql`]: schema, resolvers, inputs, dataloaders and the mutation guard;
//! - [`http`]: the HTTP surface: the `/graphql` admission layer, the
//!   authentication extractor, the handlers, responses, limits, the layers
//!   around every route, observability and status;
//! - [`rest`]: the legacy REST layer (FastAPI paths and shapes, over the
//!   GraphQL schema), `/openapi.json` and `/docs`;
//! - [`router`]: the routes and their state; [`server`]: serving and
//!   graceful shutdown.

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
pub mod legacy;
pub mod live;
pub mod persisted;
pub mod rest;
pub mod router;
pub mod schema;
pub mod server;
pub mod service;
pub mod shared_state;
pub mod streak;
pub mod telemetry;
pub mod validation;

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
    let live = live::LiveHub::new(
        config.database.database_url.clone(),
        config.subscriptions.subscription_buffer,
    );
    let trusted_documents = persisted::TrustedDocuments::load(
        config.platform.trusted_documents,
        config.platform.trusted_documents_manifest.as_deref(),
    )?;
    let shared = config
        .platform
        .redis_url
        .as_ref()
        .map(|url| {
            shared_state::SharedState::new(
                url,
                &config.platform.redis_key_prefix,
                config.platform.redis_timeout,
            )
        })
        .transpose()?;
    Ok(AppState::new(AppStateInner {
        config,
        db,
        verifier,
        clock,
        auth_service,
        consumer: events::ConsumerStatus::default(),
        live,
        trusted_documents: Arc::new(trusted_documents),
        shared,
        validation_skipped: Default::default(),
    }))
}

/// The system clock, shared.
pub fn system_clock() -> SharedClock {
    Arc::new(clock::SystemClock)
}
