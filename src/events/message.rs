//! The auth-service's event messages (contract §6), parsed and validated
//! once, at the edge. Anything that does not parse is a [`Malformed`]
//! message with a short machine-readable reason, dead-lettered by the
//! consumer.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::db::auth_users::AuthUserDetails;
use crate::domain::AuthUserId;

/// A valid auth-service event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthEvent {
    /// `UserCreated`: the user's current username and email.
    Created(UserSnapshot),
    /// `UserUpdated`: the user's current username and email.
    Updated(UserSnapshot),
    /// `UserDeleted`.
    Deleted {
        auth_user_id: AuthUserId,
        occurred_at: DateTime<Utc>,
    },
}

/// The state of a user carried by `UserCreated` and `UserUpdated`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSnapshot {
    pub auth_user_id: AuthUserId,
    pub details: AuthUserDetails,
    pub occurred_at: DateTime<Utc>,
}

impl AuthEvent {
    /// The `event` name, as sent (a metric label).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Created(_) => "UserCreated",
            Self::Updated(_) => "UserUpdated",
            Self::Deleted { .. } => "UserDeleted",
        }
    }

    /// When the auth-service says the event happened.
    pub fn occurred_at(&self) -> DateTime<Utc> {
        match self {
            Self::Created(user) | Self::Updated(user) => user.occurred_at,
            Self::Deleted { occurred_at, .. } => *occurred_at,
        }
    }

    /// The user the event is about.
    pub fn auth_user_id(&self) -> &AuthUserId {
        match self {
            Self::Created(user) | Self::Updated(user) => &user.auth_user_id,
            Self::Deleted { auth_user_id, .. } => auth_user_id,
        }
    }
}

/// Why a message cannot be handled. `reason` is a stable label (metric,
/// `x-death-reason` header); `detail` says more for the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {detail}")]
pub struct Malformed {
    pub reason: &'static str,
    pub detail: String,
}

impl Malformed {
    fn new(reason: &'static str, detail: impl Into<String>) -> Self {
        Self {
            reason,
            detail: detail.into(),
        }
    }
}

/// Parses one message body.
pub fn parse(body: &[u8]) -> Result<AuthEvent, Malformed> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|error| Malformed::new("invalid_json", error.to_string()))?;
    let Value::Object(object) = value else {
        return Err(Malformed::new(
            "invalid_json",
            "the body is not a JSON object",
        ));
    };
    let event = match object.get("event") {
        Some(Value::String(event)) => event.as_str(),
        Some(_) => return Err(Malformed::new("invalid_field", "`event` is not a string")),
        None => return Err(Malformed::new("missing_field", "`event` is missing")),
    };
    match event {
        "UserCreated" => user_snapshot(&object).map(AuthEvent::Created),
        "UserUpdated" => user_snapshot(&object).map(AuthEvent::Updated),
        "UserDeleted" => Ok(AuthEvent::Deleted {
            auth_user_id: auth_user_id(&object)?,
            occurred_at: occurred_at(&object)?,
        }),
        other => Err(Malformed::new(
            "unknown_event",
            format!("unknown event {other:?}"),
        )),
    }
}

fn user_snapshot(object: &Map<String, Value>) -> Result<UserSnapshot, Malformed> {
    Ok(UserSnapshot {
        auth_user_id: auth_user_id(object)?,
        details: AuthUserDetails {
            username: nullable_string(object, "username")?,
            email: nullable_string(object, "email")?,
        },
        occurred_at: occurred_at(object)?,
    })
}

/// `auth_user_id`: a string, or an integer taken as its decimal string.
fn auth_user_id(object: &Map<String, Value>) -> Result<AuthUserId, Malformed> {
    let id = match object.get("auth_user_id") {
        Some(Value::String(id)) => id.clone(),
        Some(Value::Number(id)) if id.is_u64() || id.is_i64() => id.to_string(),
        Some(_) => {
            return Err(Malformed::new(
                "invalid_auth_user_id",
                "`auth_user_id` is neither a string nor an integer",
            ));
        }
        None => return Err(Malformed::new("missing_field", "`auth_user_id` is missing")),
    };
    AuthUserId::parse(&id).map_err(|_| {
        Malformed::new(
            "invalid_auth_user_id",
            "`auth_user_id` is not 1 to 64 characters of [A-Za-z0-9_-]",
        )
    })
}

/// `occurred_at`: an RFC 3339 instant.
fn occurred_at(object: &Map<String, Value>) -> Result<DateTime<Utc>, Malformed> {
    match object.get("occurred_at") {
        Some(Value::String(text)) => DateTime::parse_from_rfc3339(text)
            .map(|at| at.with_timezone(&Utc))
            .map_err(|error| {
                Malformed::new(
                    "invalid_field",
                    format!("`occurred_at` is not RFC 3339: {error}"),
                )
            }),
        Some(_) => Err(Malformed::new(
            "invalid_field",
            "`occurred_at` is not a string",
        )),
        None => Err(Malformed::new("missing_field", "`occurred_at` is missing")),
    }
}

/// A field that must be present, as a string or null.
fn nullable_string(object: &Map<String, Value>, field: &str) -> Result<Option<String>, Malformed> {
    match object.get(field) {
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(Value::Null) => Ok(None),
        Some(_) => Err(Malformed::new(
            "invalid_field",
            format!("`{field}` is not a string"),
        )),
        None => Err(Malformed::new(
            "missing_field",
            format!("`{field}` is missing"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_user_created_event() {
        let event = parse(
            br#"{"event": "UserCreated", "auth_user_id": "42", "username": "ada",
                 "email": "ada@example.com", "occurred_at": "2026-11-21T10:00:00Z"}"#,
        )
        .unwrap();
        let AuthEvent::Created(user) = event else {
            panic!("not a UserCreated: {event:?}");
        };
        assert_eq!(user.auth_user_id.as_str(), "42");
        assert_eq!(user.details.username.as_deref(), Some("ada"));
        assert_eq!(user.details.email.as_deref(), Some("ada@example.com"));
    }

    #[test]
    fn a_numeric_id_is_its_decimal_string() {
        let event = parse(
            br#"{"event": "UserDeleted", "auth_user_id": 42, "occurred_at": "2026-11-21T10:00:00+01:00"}"#,
        )
        .unwrap();
        assert_eq!(event.auth_user_id().as_str(), "42");
        let AuthEvent::Deleted { occurred_at, .. } = event else {
            panic!("not a UserDeleted");
        };
        assert_eq!(occurred_at.to_rfc3339(), "2026-11-21T09:00:00+00:00");
    }

    #[test]
    fn malformed_messages_name_their_reason() {
        let reason = |body: &str| parse(body.as_bytes()).unwrap_err().reason;
        assert_eq!(reason("{not json"), "invalid_json");
        assert_eq!(reason("[1, 2]"), "invalid_json");
        assert_eq!(
            reason(
                r#"{"event": "UserBanned", "auth_user_id": "1", "occurred_at": "2026-11-21T10:00:00Z"}"#
            ),
            "unknown_event"
        );
        assert_eq!(
            reason(
                r#"{"event": "UserDeleted", "auth_user_id": "a b", "occurred_at": "2026-11-21T10:00:00Z"}"#
            ),
            "invalid_auth_user_id"
        );
        assert_eq!(
            reason(
                r#"{"event": "UserDeleted", "auth_user_id": 1.5, "occurred_at": "2026-11-21T10:00:00Z"}"#
            ),
            "invalid_auth_user_id"
        );
        assert_eq!(
            reason(
                r#"{"event": "UserCreated", "auth_user_id": "1", "email": null, "occurred_at": "2026-11-21T10:00:00Z"}"#
            ),
            "missing_field"
        );
        assert_eq!(
            reason(r#"{"event": "UserDeleted", "auth_user_id": "1", "occurred_at": "yesterday"}"#),
            "invalid_field"
        );
        assert_eq!(reason(r#"{"auth_user_id": "1"}"#), "missing_field");
    }
}
