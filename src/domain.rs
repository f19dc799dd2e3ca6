//! Domain values, parsed once at the edge. After parsing, the types carry
//! the guarantee: an [`AuthUserId`] is always well-formed, a [`Timezone`]
//! always a real IANA zone.

use std::fmt;
use std::str::FromStr;

use async_graphql::Enum;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

use crate::error::AppError;

/// Most goals one user holds. The write layer refuses a goal beyond it
/// (`BAD_USER_INPUT`); the cost model counts it for `User.goals`, which
/// answers at most that many.
pub const MAX_GOALS_PER_USER: usize = 100;

/// Most badges one user holds. The write layer refuses a badge beyond it
/// (`BAD_USER_INPUT`); the cost model counts it for `User.badges`, which
/// answers at most that many.
pub const MAX_BADGES_PER_USER: usize = 100;

/// The auth-service's user id: 1 to 64 characters of `[A-Za-z0-9_-]`.
///
/// It is also the type of every `auth_user_id` column (`VARCHAR(64)`, a
/// text type to diesel): a stored id that is not well-formed fails to
/// load instead of passing as a string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
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

impl ToSql<Text, Pg> for AuthUserId {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <str as ToSql<Text, Pg>>::to_sql(self.as_str(), out)
    }
}

impl FromSql<Text, Pg> for AuthUserId {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        let value = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
        if Self::is_valid(&value) {
            Ok(Self(value))
        } else {
            Err("stored auth_user_id is not a well-formed AuthUserId".into())
        }
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

/// Maps a GraphQL enum onto the `TEXT` column that stores it, the way
/// crates.io's `pg_enum!` maps its enums: rows carry the enum itself, and
/// a stored value this build does not know is a deserialization error, not
/// a silent default. The enum derives `AsExpression` and `FromSqlRow` with
/// `#[diesel(sql_type = Text)]`; the macro writes `ToSql` and `FromSql`.
macro_rules! text_enum {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            /// The text stored in the database (and shown in summaries).
            pub fn as_db(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// Reads a stored text; `None` for one this build does not know.
            pub fn from_db(value: &str) -> Option<Self> {
                match value { $($text => Some(Self::$variant),)+ _ => None }
            }
        }

        impl ToSql<Text, Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <str as ToSql<Text, Pg>>::to_sql(self.as_db(), out)
            }
        }

        impl FromSql<Text, Pg> for $name {
            fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
                let value = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
                Self::from_db(&value).ok_or_else(|| {
                    format!(concat!("unknown ", stringify!($name), " value {:?}"), value).into()
                })
            }
        }
    };
}

/// Where a learning goal stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub enum GoalStatus {
    /// Created but not worked on yet.
    NotStarted,
    /// Being worked on (check-ins allowed).
    InProgress,
    /// Done; check-ins are refused.
    Completed,
}
text_enum!(GoalStatus { NotStarted => "NOT_STARTED", InProgress => "IN_PROGRESS", Completed => "COMPLETED" });

/// The user's subscription plan.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Default, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub enum Plan {
    /// The default plan.
    #[default]
    Free,
    /// Paid plan; unlocks `searchUsers`.
    Premium,
}
text_enum!(Plan { Free => "FREE", Premium => "PREMIUM" });

/// Who may see the full profile.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Default, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub enum ProfileVisibility {
    /// Everyone sees the whole profile (the default).
    #[default]
    Public,
    /// Others see only the public card: id, username, display name, avatar, plan and creation time.
    Private,
}
text_enum!(ProfileVisibility { Public => "PUBLIC", Private => "PRIVATE" });

/// What an activity event records.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
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
text_enum!(ActivityKind {
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
