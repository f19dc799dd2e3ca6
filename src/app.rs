//! The application state: [`AppState`], everything a request or the event
//! consumer may need (configuration, the database, the token verifier, the
//! clock, the auth-service client), and user provisioning. It knows nothing
//! of GraphQL or HTTP: [`crate::router`] builds the HTTP surface on top.

use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::auth::TokenVerifier;
use crate::clients::auth_service::AuthServiceClient;
use crate::clock::SharedClock;
use crate::config::Config;
use crate::db::{Database, PooledConnection};
use crate::error::AppResult;
use crate::events::ConsumerStatus;
use crate::live::LiveHub;
use crate::persisted::TrustedDocuments;
use crate::shared_state::SharedState;

/// Everything a request may need, cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<AppStateInner>);

/// The parts of [`AppState`].
pub struct AppStateInner {
    pub config: Config,
    pub db: Database,
    pub verifier: TokenVerifier,
    pub clock: SharedClock,
    pub auth_service: AuthServiceClient,
    /// Set by the event consumer running in this process, if any.
    pub consumer: ConsumerStatus,
    /// Committed changes, for this process's subscriptions.
    pub live: LiveHub,
    /// The trusted-document manifest (empty with `TRUSTED_DOCUMENTS=off`).
    pub trusted_documents: Arc<TrustedDocuments>,
    /// Redis, when `REDIS_URL` is set: rate limits and APQ shared by replicas.
    pub shared: Option<SharedState>,
    /// GraphQL requests whose document was not validated again.
    pub validation_skipped: ValidationSkipped,
}

impl Deref for AppState {
    type Target = AppStateInner;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl AppState {
    pub fn new(inner: AppStateInner) -> Self {
        Self(Arc::new(inner))
    }

    /// A pooled connection; `SERVICE_UNAVAILABLE` when none can be had.
    pub async fn conn(&self) -> AppResult<PooledConnection<'_>> {
        Ok(self.db.pool.get().await?)
    }
}

/// How many requests the executor ran without validating their document
/// again (`graphql_validation_skipped_total` on `/metrics`).
#[derive(Debug, Clone, Default)]
pub struct ValidationSkipped(Arc<AtomicU64>);

impl ValidationSkipped {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    pub fn count(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}
