//! Applying a parsed event to the database. Each event is one transaction
//! (see [`crate::db::auth_users::apply_user_upsert`] and
//! [`crate::db::auth_users::apply_user_deleted`]).
//!
//! What an error means decides the message's fate:
//!
//! - the database cannot be reached (no pooled connection, a connection
//!   that failed or closed, the server shutting down, a serialization
//!   failure, a read-only server): the handler retries with jittered
//!   exponential backoff (`backon`) for as long as it takes, so the message
//!   stays unacknowledged and nothing is lost;
//! - the database answers but refuses the change for its content (a NUL
//!   character in text, a value too long, a check or unique violation,
//!   invalid input syntax, ...: anything else): after a few attempts the
//!   handler gives up and the consumer dead-letters the message, so one
//!   bad message never stalls the queue. Before counting such an error the
//!   handler checks that the database does answer (`SELECT 1` on another
//!   connection); if it does not, the error counts as an outage.
//!
//! An event dated more than [`MAX_FUTURE_SKEW`] after the service's clock
//! is refused before it reaches the database: stored, it would make every
//! later event of that user look older, freezing them.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use chrono::{DateTime, Utc};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::RunQueryDsl;
use tokio_util::sync::CancellationToken;

use crate::clock::SharedClock;
use crate::db::Pool;
use crate::db::auth_users::{self, EventEffect};
use crate::events::message::{AuthEvent, Malformed};

/// Attempts before an error about the message's content makes the handler
/// give up on it.
const PERMANENT_ERROR_ATTEMPTS: u32 = 3;

/// The first pause between two attempts (before jitter, which adds up to
/// as much again).
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(100);

/// How far after the service's clock an event's `occurred_at` may lie
/// (clock skew between the auth-service and this service). A later event
/// is dead-lettered with the reason `occurred_in_future`.
pub const MAX_FUTURE_SKEW: Duration = Duration::from_secs(5 * 60);

/// How handling an event ended.
#[derive(Debug)]
pub enum HandleOutcome {
    /// Committed (or found stale): acknowledge.
    Done(EventEffect),
    /// The event cannot be applied, ever: dead-letter it with this reason.
    Rejected(Malformed),
    /// Shutdown came while waiting for the database: requeue.
    Interrupted,
}

/// Why one attempt failed.
#[derive(Debug, thiserror::Error)]
enum AttemptError {
    #[error("no database connection: {0}")]
    Pool(#[from] bb8::RunError<diesel_async::pooled_connection::PoolError>),
    /// The database could not be reached or could not commit now.
    #[error("database unavailable: {0}")]
    Unavailable(DieselError),
    /// The database answered and refused the change.
    #[error("database refused the change: {0}")]
    Refused(DieselError),
    #[error("shutting down")]
    ShutDown,
}

/// Whether `error` says the database is unreachable or cannot commit right
/// now, as opposed to refusing this change for its content.
fn is_outage(error: &DieselError) -> bool {
    crate::error::is_connection_failure(error) || is_transient(error)
}

/// Whether `error` is a refusal that goes away when retried: a
/// serialization failure, a read-only server, a deadlock (40P01) or a
/// conflict with recovery (diesel hides the SQLSTATE of the last two).
fn is_transient(error: &DieselError) -> bool {
    match error {
        DieselError::DatabaseError(
            DatabaseErrorKind::SerializationFailure | DatabaseErrorKind::ReadOnlyTransaction,
            _,
        ) => true,
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info) => {
            let message = info.message();
            ["deadlock detected", "conflict with recovery"]
                .iter()
                .any(|needle| message.contains(needle))
        }
        _ => false,
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
    /// unreachable, until it commits, is refused for good, or `shutdown`
    /// fires.
    #[tracing::instrument(skip_all, fields(event = event.kind(), auth_user_id = %event.auth_user_id()))]
    pub async fn handle(&self, event: &AuthEvent, shutdown: &CancellationToken) -> HandleOutcome {
        if let Err(refused) = check_occurred_at(event.occurred_at(), self.clock.now()) {
            return HandleOutcome::Rejected(refused);
        }
        // Pauses from 100 ms doubling, jittered up to twice as long, never
        // longer than `retry_max`.
        let backoff = ExponentialBuilder::new()
            .with_min_delay(FIRST_RETRY_DELAY.min(self.retry_max / 2))
            .with_max_delay(self.retry_max / 2)
            .without_max_times()
            .with_jitter();
        let refusals = AtomicU32::new(0);
        let cancel = shutdown.clone();
        let result = (|| async {
            if shutdown.is_cancelled() {
                return Err(AttemptError::ShutDown);
            }
            self.apply(event).await
        })
        .retry(backoff)
        .sleep(move |pause| {
            let cancel = cancel.clone();
            async move {
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    () = cancel.cancelled() => {}
                }
            }
        })
        .when(|error| match error {
            AttemptError::ShutDown => false,
            AttemptError::Refused(_) => {
                refusals.fetch_add(1, Ordering::Relaxed) + 1 < PERMANENT_ERROR_ATTEMPTS
            }
            AttemptError::Pool(_) | AttemptError::Unavailable(_) => true,
        })
        .notify(|error, pause| {
            tracing::warn!(%error, retry_in_ms = pause.as_millis() as u64, "event not applied yet; retrying");
        })
        .await;
        match result {
            Ok(effect) => HandleOutcome::Done(effect),
            Err(AttemptError::Refused(error)) => HandleOutcome::Rejected(Malformed {
                reason: "processing_failed",
                detail: error.to_string(),
            }),
            Err(AttemptError::ShutDown | AttemptError::Pool(_) | AttemptError::Unavailable(_)) => {
                HandleOutcome::Interrupted
            }
        }
    }

    /// One attempt, in one transaction.
    async fn apply(&self, event: &AuthEvent) -> Result<EventEffect, AttemptError> {
        let mut conn = self.pool.get().await?;
        let applied = match event {
            AuthEvent::Created(user) | AuthEvent::Updated(user) => {
                auth_users::apply_user_upsert(
                    &mut conn,
                    &user.auth_user_id,
                    &user.details,
                    user.occurred_at,
                    self.clock.now(),
                )
                .await
            }
            AuthEvent::Deleted {
                auth_user_id,
                occurred_at,
            } => auth_users::apply_user_deleted(&mut conn, auth_user_id, *occurred_at).await,
        };
        drop(conn);
        match applied {
            Ok(effect) => Ok(effect),
            Err(error) if is_outage(&error) => Err(AttemptError::Unavailable(error)),
            Err(error) if self.database_answers().await => Err(AttemptError::Refused(error)),
            Err(error) => Err(AttemptError::Unavailable(error)),
        }
    }

    /// Whether the database answers a trivial query on a pooled connection.
    async fn database_answers(&self) -> bool {
        let Ok(mut conn) = self.pool.get().await else {
            return false;
        };
        diesel::sql_query("SELECT 1")
            .execute(&mut conn)
            .await
            .is_ok()
    }
}

/// Refuses an event dated more than [`MAX_FUTURE_SKEW`] after `now`.
pub fn check_occurred_at(occurred_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), Malformed> {
    let skew = chrono::Duration::from_std(MAX_FUTURE_SKEW).unwrap_or(chrono::Duration::MAX);
    if occurred_at > now + skew {
        return Err(Malformed {
            reason: "occurred_in_future",
            detail: format!(
                "`occurred_at` {occurred_at} is more than {} s after the clock ({now})",
                MAX_FUTURE_SKEW.as_secs()
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_up_to_the_skew_after_the_clock_pass_and_later_ones_are_refused() {
        let now = Utc::now();
        assert!(check_occurred_at(now - chrono::Duration::days(365), now).is_ok());
        assert!(check_occurred_at(now + chrono::Duration::minutes(5), now).is_ok());
        let refused = check_occurred_at(now + chrono::Duration::minutes(6), now).unwrap_err();
        assert_eq!(refused.reason, "occurred_in_future");
    }

    #[test]
    fn only_outages_are_waited_out() {
        let closed = DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection,
            Box::new("connection closed".to_owned()),
        );
        assert!(is_outage(&closed));
        let check = DieselError::DatabaseError(
            DatabaseErrorKind::CheckViolation,
            Box::new("new row violates check constraint".to_owned()),
        );
        assert!(!is_outage(&check));
        let nul = DieselError::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("invalid byte sequence for encoding \"UTF8\": 0x00".to_owned()),
        );
        assert!(!is_outage(&nul));
        let shutdown = DieselError::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("terminating connection due to administrator command".to_owned()),
        );
        assert!(is_outage(&shutdown));
    }
}
