//! Applying a parsed event to the database. Each event is one transaction
//! (see [`crate::db::auth_users::apply_user_upsert`] and
//! [`crate::db::auth_users::apply_user_deleted`]). While the database cannot
//! be reached the handler keeps retrying with backoff, so the message stays
//! unacknowledged and nothing is lost; an error that retrying cannot fix
//! (a constraint violation) gives up after a few attempts.

use std::time::Duration;

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use tokio_util::sync::CancellationToken;

use super::jittered;
use crate::clock::SharedClock;
use crate::db::Pool;
use crate::db::auth_users::{self, EventEffect};
use crate::events::message::AuthEvent;

/// Attempts before an error that is not about reaching the database makes
/// the handler give up on a message.
const PERMANENT_ERROR_ATTEMPTS: u32 = 3;

/// The first pause between two attempts.
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(200);

/// How handling an event ended.
#[derive(Debug)]
pub enum HandleOutcome {
    /// Committed (or found stale): acknowledge.
    Done(EventEffect),
    /// The database refused the change for good: dead-letter.
    Failed(DieselError),
    /// Shutdown came while waiting for the database: requeue.
    Interrupted,
}

/// Why one attempt failed.
#[derive(Debug, thiserror::Error)]
enum AttemptError {
    #[error("no database connection: {0}")]
    Pool(#[from] bb8::RunError<diesel_async::pooled_connection::PoolError>),
    #[error("database error: {0}")]
    Query(#[from] DieselError),
}

impl AttemptError {
    /// Whether retrying cannot help.
    fn is_permanent(&self) -> bool {
        match self {
            Self::Pool(_) => false,
            Self::Query(DieselError::DatabaseError(kind, _)) => matches!(
                kind,
                DatabaseErrorKind::UniqueViolation
                    | DatabaseErrorKind::ForeignKeyViolation
                    | DatabaseErrorKind::NotNullViolation
                    | DatabaseErrorKind::CheckViolation
                    | DatabaseErrorKind::RestrictViolation
                    | DatabaseErrorKind::ExclusionViolation
            ),
            Self::Query(
                DieselError::QueryBuilderError(_)
                | DieselError::DeserializationError(_)
                | DieselError::SerializationError(_),
            ) => true,
            Self::Query(_) => false,
        }
    }
}

/// Applies events to the database.
#[derive(Clone)]
pub struct EventHandler {
    pool: Pool,
    clock: SharedClock,
    retry_max: Duration,
}

impl EventHandler {
    pub fn new(pool: Pool, clock: SharedClock, retry_max: Duration) -> Self {
        Self {
            pool,
            clock,
            retry_max,
        }
    }

    /// Applies `event`, retrying with backoff while the database is
    /// unreachable, until it commits, fails for good, or `shutdown` fires.
    #[tracing::instrument(skip_all, fields(event = event.kind(), auth_user_id = %event.auth_user_id()))]
    pub async fn handle(&self, event: &AuthEvent, shutdown: &CancellationToken) -> HandleOutcome {
        let mut delay = FIRST_RETRY_DELAY.min(self.retry_max);
        let mut permanent_failures = 0;
        for attempt in 1u64.. {
            let error = match self.apply(event).await {
                Ok(effect) => return HandleOutcome::Done(effect),
                Err(error) => error,
            };
            if error.is_permanent() {
                permanent_failures += 1;
                if permanent_failures >= PERMANENT_ERROR_ATTEMPTS {
                    return match error {
                        AttemptError::Query(error) => HandleOutcome::Failed(error),
                        AttemptError::Pool(_) => HandleOutcome::Interrupted,
                    };
                }
            }
            let pause = jittered(delay);
            tracing::warn!(%error, attempt, retry_in_ms = pause.as_millis() as u64, "event not applied yet; retrying");
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = shutdown.cancelled() => return HandleOutcome::Interrupted,
            }
            delay = (delay * 2).min(self.retry_max);
        }
        HandleOutcome::Interrupted
    }

    /// One attempt, in one transaction.
    async fn apply(&self, event: &AuthEvent) -> Result<EventEffect, AttemptError> {
        let mut conn = self.pool.get().await?;
        let effect = match event {
            AuthEvent::Created(user) | AuthEvent::Updated(user) => {
                auth_users::apply_user_upsert(
                    &mut conn,
                    &user.auth_user_id,
                    &user.details,
                    user.occurred_at,
                    self.clock.now(),
                )
                .await?
            }
            AuthEvent::Deleted {
                auth_user_id,
                occurred_at,
            } => auth_users::apply_user_deleted(&mut conn, auth_user_id, *occurred_at).await?,
        };
        Ok(effect)
    }
}
