//! Domain values, parsed once at the edge. After parsing, the types carry
//! the guarantee: an [`AuthUserId`] is always well-formed, a [`Timezone`]
//! always a real IANA zone.

use std::fmt;
use std::str::FromStr;

use async_graphql::Enum;

use crate::error::AppError;

/// The auth-service's user id: 1 to 64 characters of `[A-Za-z0-9_-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AuthUserId(String);

impl AuthUserId {
    pub const MAX_LEN: usize = 64;

    /// Parses an id; `field` names the argument in the error.
    pub fn parse_field(value: &str, field: &str) -> Result<Self, AppError> {
        if Self::is_valid(value) {
            Ok(Self(value.to_owned()))
        } else {
            Err(AppError::invalid(
                field,
                "authUserId must be 1 to 64 characters of A-Z, a-z, 0-9, '_' or '-'",
            ))
        }
    }

    pub fn parse(value: &str) -> Result<Self, AppError> {
        Self::parse_field(value, "authUserId")
    }

    pub fn is_valid(value: &str) -> bool {
        !value.is_empty()
            && value.len() <= Self::MAX_LEN
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AuthUserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An IANA time zone name, such as `Europe/Paris`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timezone(pub chrono_tz::Tz);

impl Timezone {
    pub fn parse(value: &str) -> Option<Self> {
        chrono_tz::Tz::from_str(value).ok().map(Self)
    }

    pub fn name(&self) -> &'static str {
        self.0.name()
    }
}

impl Default for Timezone {
    fn default() -> Self {
        Self(chrono_tz::UTC)
    }
}

/// Maps a GraphQL enum to and from the text stored in its column.
macro_rules! db_enum {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            /// The value stored in the database.
            pub fn as_db(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// Reads a stored value; the CHECK constraints keep it valid.
            pub fn from_db(value: &str) -> Option<Self> {
                match value { $($text => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}

/// Where a learning goal stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GoalStatus {
    /// Created but not worked on yet.
    NotStarted,
    /// Being worked on (check-ins allowed).
    InProgress,
    /// Done; check-ins are refused.
    Completed,
}
db_enum!(GoalStatus { NotStarted => "NOT_STARTED", InProgress => "IN_PROGRESS", Completed => "COMPLETED" });

/// The user's subscription plan.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Plan {
    /// The default plan.
    #[default]
    Free,
    /// Paid plan; unlocks `searchUsers`.
    Premium,
}
db_enum!(Plan { Free => "FREE", Premium => "PREMIUM" });

/// Who may see the full profile.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProfileVisibility {
    /// Everyone sees the whole profile (the default).
    #[default]
    Public,
    /// Others see only the public card: id, username, display name, avatar, plan and creation time.
    Private,
}
db_enum!(ProfileVisibility { Public => "PUBLIC", Private => "PRIVATE" });

/// What an activity event records.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActivityKind {
    /// `updateProfile` changed the profile.
    ProfileUpdated,
    /// `updatePreferences` changed the preferences.
    PreferencesUpdated,
    /// `changePlan` changed the plan.
    PlanChanged,
    /// `createBadge` awarded a badge.
    BadgeEarned,
    /// `createGoal` created a goal.
    GoalCreated,
    /// `updateGoal` changed a goal (other than completing it).
    GoalUpdated,
    /// `checkInGoal` counted a check-in.
    GoalCheckedIn,
    /// A goal moved to `COMPLETED`.
    GoalCompleted,
    /// `deleteGoal` deleted a goal.
    GoalDeleted,
}
db_enum!(ActivityKind {
    ProfileUpdated => "PROFILE_UPDATED",
    PreferencesUpdated => "PREFERENCES_UPDATED",
    PlanChanged => "PLAN_CHANGED",
    BadgeEarned => "BADGE_EARNED",
    GoalCreated => "GOAL_CREATED",
    GoalUpdated => "GOAL_UPDATED",
    GoalCheckedIn => "GOAL_CHECKED_IN",
    GoalCompleted => "GOAL_COMPLETED",
    GoalDeleted => "GOAL_DELETED",
});
