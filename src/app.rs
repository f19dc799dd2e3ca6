//! The application state: [`AppState`], everything a request or the event
//! consumer may need (configuration, the database, the token verifier, the
//! clock, the auth-service client), and user provisioning. It knows nothing
//! of GraphQL or HTTP: [`crate::router`] builds the HTTP surface on top.

use std::ops::Deref;
use std::sync::Arc;

use diesel_async::AsyncConnection;

use crate::auth::TokenVerifier;
use crate::clients::auth_service::{AuthServiceClient, Lookup};
use crate::clock::SharedClock;
use crate::config::Config;
use crate::db::auth_users::AuthUserDetails;
use crate::db::{self, Database, PooledConnection};
use crate::domain::AuthUserId;
use crate::error::{AppError, AppResult};
use crate::events::ConsumerStatus;

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

    /// What the auth-service says of `id`, asked only when the service has
    /// no row for `id` yet (`None` otherwise, or when it cannot tell). Call
    /// it before a transaction, never inside one. `UNAUTHENTICATED` for a
    /// user the auth-service has deleted (a tombstone and no row).
    pub async fn details_if_unknown(&self, id: &AuthUserId) -> AppResult<Option<AuthUserDetails>> {
        {
            let mut conn = self.conn().await?;
            if db::auth_users::exists(&mut conn, id).await? {
                return Ok(None);
            }
            // The auth-service deleted this user: a token issued before the
            // deletion must not bring them back.
            if db::auth_users::tombstone(&mut conn, id).await?.is_some() {
                return Err(AppError::Unauthenticated("this user has been deleted"));
            }
        }
        Ok(match self.auth_service.fetch_user(id).await {
            Lookup::Found(details) => Some(details),
            Lookup::NotFound | Lookup::Unavailable => None,
        })
    }

    /// Creates the reference row and profile of `id` when missing.
    pub async fn ensure_user(&self, id: &AuthUserId) -> AppResult<()> {
        let details = self.details_if_unknown(id).await?;
        let now = self.clock.now();
        let mut conn = self.conn().await?;
        conn.transaction(async |conn| {
            db::auth_users::ensure(conn, id, details.as_ref(), now).await
        })
        .await?;
        Ok(())
    }
}
