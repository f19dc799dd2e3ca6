//! [`AppError`]: the one error a client can see, with its contract code
//! ([`AppError::code`], contract §3) and its conversion to a GraphQL error
//! ([`AppError::into_graphql`], [`GqlResultExt::gql`]).
//!
//! Which error type each layer returns:
//!
//! - `db::*` (per-table queries): diesel's `QueryResult`; the pool and
//!   diesel errors become an [`AppError`] through the `From` impls below
//!   (`NOT_FOUND`, `SERVICE_UNAVAILABLE` for lost connections and pool
//!   time-outs, `INTERNAL_SERVER_ERROR` otherwise). `db::SetupError` is for
//!   start-up only.
//! - `auth`: `auth::TokenError`, which turns into
//!   [`AppError::Unauthenticated`] (its detail is logged at debug, never
//!   sent); the guard answers with [`AppError`] directly.
//! - `clients::auth_service`: no error type, a `Lookup` (`Found`,
//!   `NotFound`, `Unavailable`); its attempt errors stay private.
//! - `events`: private error types, logged by the consumer (the message is
//!   retried or dead-lettered), never shown to a client.
//! - `config`: `config::ConfigError`, start-up only.
//! - resolvers (`graphql::*`): `async_graphql::Result`, built from
//!   [`AppError`] with `.gql()`.
//!
//! Where errors become answers:
//!
//! - GraphQL errors: here ([`ErrorExtensions`] for [`AppError`] sets
//!   `extensions.code` / `field`), plus `graphql::assign_codes`, which gives
//!   async-graphql's own parse, validation and coercion errors their codes
//!   and hides the message of anything uncoded.
//! - HTTP status codes: the `/graphql` handler, `http::graphql` (its
//!   `refusal` answers 400/401/403/405/406/413/415/429/503 in the GraphQL
//!   error shape, with the codes above); `/ready` and `/db/status` in
//!   `http::status`. This module has no `IntoResponse`.
//!
//! Internal causes are logged once, where the error is turned into a client
//! answer, and never sent to the client.

use std::sync::Arc;

use async_graphql::ErrorExtensions;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// The `extensions.code` values of the contract.
pub mod code {
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const SERVICE_UNAVAILABLE: &str = "SERVICE_UNAVAILABLE";
    pub const INTERNAL_SERVER_ERROR: &str = "INTERNAL_SERVER_ERROR";
    pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    /// Automatic persisted queries: the hash is unknown, send the query
    /// (named as Apollo names it; an addition to the contract's list).
    pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
}

/// An internal cause, shared so that [`AppError`] is `Clone` (dataloaders
/// hand one error to every waiting resolver).
pub type Cause = Arc<dyn std::error::Error + Send + Sync>;

/// Every failure a client can see.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Unauthenticated(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    BadUserInput {
        /// The input field at fault, as the client named it (`input.title`).
        field: Option<String>,
        message: String,
    },
    #[error("a dependency of the service is unavailable")]
    ServiceUnavailable(#[source] Cause),
    #[error("internal server error")]
    Internal(#[source] Cause),
}

/// `Result` with [`AppError`].
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// `BAD_USER_INPUT` naming the input field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadUserInput {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// An unexpected failure.
    pub fn internal(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Arc::new(cause))
    }

    /// A dependency (database, pool) that does not answer.
    pub fn unavailable(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::ServiceUnavailable(Arc::new(cause))
    }

    /// The contract's `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => code::UNAUTHENTICATED,
            Self::Forbidden(_) => code::FORBIDDEN,
            Self::NotFound(_) => code::NOT_FOUND,
            Self::BadUserInput { .. } => code::BAD_USER_INPUT,
            Self::ServiceUnavailable(_) => code::SERVICE_UNAVAILABLE,
            Self::Internal(_) => code::INTERNAL_SERVER_ERROR,
        }
    }

    /// Logs the cause of a server-side failure (once, here, where the error
    /// becomes an answer).
    fn log(&self) {
        match self {
            Self::ServiceUnavailable(cause) => {
                tracing::warn!(error = %cause, "dependency unavailable");
            }
            Self::Internal(cause) => {
                tracing::error!(error = %cause, cause_chain = ?cause, "internal error");
            }
            _ => {}
        }
    }

    /// The GraphQL error for this failure. Prefer this (or `?` through
    /// [`GqlResultExt::gql`]) over async-graphql's `From<Display>`, which
    /// copies the message but sets no code.
    pub fn into_graphql(self) -> async_graphql::Error {
        self.extend()
    }
}

impl ErrorExtensions for AppError {
    fn extend(&self) -> async_graphql::Error {
        self.log();
        async_graphql::Error::new(self.to_string()).extend_with(|_, ext| {
            ext.set("code", self.code());
            if let Self::BadUserInput {
                field: Some(field), ..
            } = self
            {
                ext.set("field", field.as_str());
            }
        })
    }
}

/// Turns `Result<T, AppError>` into a GraphQL result carrying the code.
pub trait GqlResultExt<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T, E: Into<AppError>> GqlResultExt<T> for Result<T, E> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(|error| error.into().into_graphql())
    }
}

/// Whether `error` says the connection to the database failed (closed,
/// could not send, terminated by the server, server shutting down or
/// starting up) rather than that the database refused the statement. A
/// client sees these as `SERVICE_UNAVAILABLE`: retrying later may succeed.
pub fn is_connection_failure(error: &DieselError) -> bool {
    match error {
        DieselError::DatabaseError(kind, info) => match kind {
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand => true,
            // diesel hides the SQLSTATE of the rest; these are the server's
            // messages for an administrator's termination and shutdown
            // (57P01..57P03) and for lost connections.
            DatabaseErrorKind::Unknown => {
                let message = info.message();
                [
                    "terminating connection",
                    "shutting down",
                    "starting up",
                    "in recovery mode",
                    "connection",
                ]
                .iter()
                .any(|needle| message.contains(needle))
            }
            _ => false,
        },
        DieselError::RollbackErrorOnCommit {
            rollback_error,
            commit_error,
        } => is_connection_failure(rollback_error) || is_connection_failure(commit_error),
        DieselError::BrokenTransactionManager => true,
        _ => false,
    }
}

impl From<DieselError> for AppError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::NotFound => AppError::NotFound("record"),
            error if is_connection_failure(&error) => AppError::unavailable(error),
            other => AppError::internal(other),
        }
    }
}

impl From<bb8::RunError<diesel_async::pooled_connection::PoolError>> for AppError {
    fn from(error: bb8::RunError<diesel_async::pooled_connection::PoolError>) -> Self {
        AppError::unavailable(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database_error(kind: DatabaseErrorKind, message: &str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn connection_failures_are_service_unavailable() {
        for error in [
            database_error(DatabaseErrorKind::UnableToSendCommand, "connection closed"),
            database_error(DatabaseErrorKind::ClosedConnection, "closed"),
            database_error(
                DatabaseErrorKind::Unknown,
                "terminating connection due to administrator command",
            ),
            database_error(
                DatabaseErrorKind::Unknown,
                "the database system is shutting down",
            ),
            DieselError::RollbackErrorOnCommit {
                rollback_error: Box::new(database_error(
                    DatabaseErrorKind::UnableToSendCommand,
                    "connection closed",
                )),
                commit_error: Box::new(database_error(DatabaseErrorKind::Unknown, "boom")),
            },
            DieselError::BrokenTransactionManager,
        ] {
            assert_eq!(AppError::from(error).code(), code::SERVICE_UNAVAILABLE);
        }
    }

    #[test]
    fn refusals_stay_internal_and_not_found_stays_not_found() {
        let check = database_error(DatabaseErrorKind::CheckViolation, "violates check");
        assert_eq!(AppError::from(check).code(), code::INTERNAL_SERVER_ERROR);
        assert_eq!(
            AppError::from(DieselError::NotFound).code(),
            code::NOT_FOUND
        );
    }
}
