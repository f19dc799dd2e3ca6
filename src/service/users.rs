//! Provisioning: the service creates a user's reference row and default
//! profile the first time it meets them (through a token), with what the
//! auth-service says of them.

use diesel_async::AsyncPgConnection;

use crate::clients::auth_service::Lookup;
use crate::db;
use crate::db::auth_users::AuthUserDetails;
use crate::domain::AuthUserId;
use crate::error::{AppError, AppResult};
use crate::service::Writer;

/// A user about to be written for: what to create them with if they are
/// missing. Learned before the transaction (asking the auth-service inside
/// one would hold it open for a network call), applied inside it.
#[derive(Debug)]
pub struct Provision {
    details: Option<AuthUserDetails>,
}

impl Provision {
    /// What the auth-service says of `id`, asked only when the service has
    /// no row for `id` yet (nothing otherwise, or when it cannot tell).
    /// `UNAUTHENTICATED` for a user the auth-service has deleted (a
    /// tombstone and no row).
    pub async fn learn(writer: Writer<'_>, id: &AuthUserId) -> AppResult<Self> {
        {
            let mut conn = writer.db.pool.get().await?;
            if db::auth_users::exists(&mut conn, id).await? {
                return Ok(Self { details: None });
            }
            // The auth-service deleted this user: a token issued before the
            // deletion must not bring them back.
            if db::auth_users::tombstone(&mut conn, id).await?.is_some() {
                return Err(AppError::Unauthenticated("this user has been deleted"));
            }
        }
        let details = match writer.auth_service.fetch_user(id).await {
            Lookup::Found(details) => Some(details),
            Lookup::NotFound | Lookup::Unavailable => None,
        };
        Ok(Self { details })
    }

    /// Creates the reference row and profile of `id` when missing; call it
    /// inside the transaction of the change that needs the user.
    pub async fn ensure(
        &self,
        conn: &mut AsyncPgConnection,
        id: &AuthUserId,
        now: chrono::DateTime<chrono::Utc>,
    ) -> AppResult<()> {
        db::auth_users::ensure(conn, id, self.details.as_ref(), now).await?;
        Ok(())
    }
}

/// Creates the reference row and profile of `id` when missing.
pub async fn ensure(writer: Writer<'_>, id: &AuthUserId) -> AppResult<()> {
    let provision = Provision::learn(writer, id).await?;
    let now = writer.now();
    writer
        .commit(async |conn| provision.ensure(conn, id, now).await)
        .await
}
