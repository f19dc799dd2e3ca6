//! GraphQL input objects and their validation (contract §2, "Validation").
//! Strings are trimmed; every rule failure is `BAD_USER_INPUT` with
//! `extensions.field` naming the input field, and nothing is written.

use async_graphql::{InputObject, MaybeUndefined};
use chrono::{DateTime, Utc};

use crate::db::profiles::{PreferenceChanges, ProfileChanges};
use crate::domain::{GoalStatus, ProfileVisibility, Timezone};
use crate::error::{AppError, AppResult};
use crate::graphql::types::Timestamp;
use crate::service::badges::ValidBadge;
use crate::service::goals::{GoalUpdate, ValidGoal};
use crate::validation::limits;

pub use crate::validation::{
    MAX_SKILL_LEN, MAX_SKILLS, MAX_URL_LEN, optional_text, optional_url, required_text, skills,
};

/// Maps an absent/null/value field through `parse`: absent stays `None`,
/// null becomes `Some(None)`.
fn patch<T>(
    value: &MaybeUndefined<String>,
    parse: impl FnOnce(Option<&str>) -> AppResult<Option<T>>,
) -> AppResult<Option<Option<T>>> {
    match value {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Ok(Some(None)),
        MaybeUndefined::Value(value) => parse(Some(value)).map(Some),
    }
}

/// Changes to a profile. An absent field is left unchanged; an explicit
/// null clears it.
#[derive(InputObject, Debug, Default)]
pub struct UpdateProfileInput {
    /// The name shown to others (at most 100 characters).
    pub display_name: MaybeUndefined<String>,
    /// About the user (at most 2000 characters).
    pub bio: MaybeUndefined<String>,
    /// Skills: at most 50, each 1 to 50 characters; duplicates are dropped
    /// regardless of case. Null clears the list.
    pub skills: MaybeUndefined<Vec<String>>,
    /// One-line description (at most 200 characters).
    pub headline: MaybeUndefined<String>,
    /// Where the user is (at most 100 characters).
    pub location: MaybeUndefined<String>,
    /// Absolute http(s) URL, at most 2048 characters.
    pub website_url: MaybeUndefined<String>,
    /// Absolute http(s) URL, at most 2048 characters.
    pub avatar_url: MaybeUndefined<String>,
}

impl UpdateProfileInput {
    /// Validates the input into the changes to store.
    pub fn into_changes(self) -> AppResult<ProfileChanges> {
        Ok(ProfileChanges {
            display_name: patch(&self.display_name, |v| {
                optional_text("displayName", v, limits::DISPLAY_NAME)
            })?,
            bio: patch(&self.bio, |v| optional_text("bio", v, limits::BIO))?,
            skills: match &self.skills {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(Vec::new()),
                MaybeUndefined::Value(values) => Some(skills("skills", values)?),
            },
            headline: patch(&self.headline, |v| {
                optional_text("headline", v, limits::HEADLINE)
            })?,
            location: patch(&self.location, |v| {
                optional_text("location", v, limits::LOCATION)
            })?,
            website_url: patch(&self.website_url, |v| optional_url("websiteUrl", v))?,
            avatar_url: patch(&self.avatar_url, |v| optional_url("avatarUrl", v))?,
        })
    }
}

/// A badge to award.
#[derive(InputObject, Debug)]
pub struct CreateBadgeInput {
    /// Short name, 1 to 100 characters.
    pub name: String,
    /// What it is awarded for (at most 500 characters).
    pub description: Option<String>,
    /// Absolute http(s) URL of its icon.
    pub icon_url: Option<String>,
    /// When it was earned; now when absent. Not in the future.
    pub date_achieved: Option<Timestamp>,
}

impl CreateBadgeInput {
    pub fn validate(self, now: DateTime<Utc>) -> AppResult<ValidBadge> {
        let date_achieved = self.date_achieved.map_or(now, |instant| instant.0);
        if date_achieved > now {
            return Err(AppError::invalid(
                "dateAchieved",
                "dateAchieved must not be in the future",
            ));
        }
        Ok(ValidBadge {
            name: required_text("name", &self.name, limits::BADGE_NAME)?,
            description: optional_text(
                "description",
                self.description.as_deref(),
                limits::BADGE_DESCRIPTION,
            )?,
            icon_url: optional_url("iconUrl", self.icon_url.as_deref())?,
            date_achieved,
        })
    }
}

/// A learning goal to create.
#[derive(InputObject, Debug)]
pub struct CreateGoalInput {
    /// What the user wants to learn, 1 to 200 characters.
    pub title: String,
    /// Details (at most 2000 characters).
    pub description: Option<String>,
    /// The starting status.
    #[graphql(default_with = "Some(GoalStatus::InProgress)")]
    pub status: Option<GoalStatus>,
}

impl CreateGoalInput {
    pub fn validate(self) -> AppResult<ValidGoal> {
        Ok(ValidGoal {
            title: required_text("title", &self.title, limits::GOAL_TITLE)?,
            description: optional_text(
                "description",
                self.description.as_deref(),
                limits::GOAL_DESCRIPTION,
            )?,
            status: self.status.unwrap_or(GoalStatus::InProgress),
        })
    }
}

/// Changes to a learning goal. An absent field is left unchanged.
#[derive(InputObject, Debug, Default)]
pub struct UpdateGoalInput {
    /// New title, 1 to 200 characters (cannot be null).
    pub title: MaybeUndefined<String>,
    /// New description (at most 2000 characters); null clears it.
    pub description: MaybeUndefined<String>,
    /// New status (cannot be null).
    pub status: MaybeUndefined<GoalStatus>,
    /// Corrected streak (>= 0; cannot be null).
    pub streak_count: MaybeUndefined<i32>,
}

fn not_null<T>(field: &str, value: MaybeUndefined<T>) -> AppResult<Option<T>> {
    match value {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Err(AppError::invalid(field, format!("{field} cannot be null"))),
        MaybeUndefined::Value(value) => Ok(Some(value)),
    }
}

impl UpdateGoalInput {
    pub fn validate(self) -> AppResult<GoalUpdate> {
        let description = patch(&self.description, |v| {
            optional_text("description", v, limits::GOAL_DESCRIPTION)
        })?;
        let title = not_null("title", self.title)?
            .map(|title| required_text("title", &title, limits::GOAL_TITLE))
            .transpose()?;
        let status = not_null("status", self.status)?;
        let streak_count = not_null("streakCount", self.streak_count)?;
        if streak_count.is_some_and(|count| count < 0) {
            return Err(AppError::invalid("streakCount", "streakCount must be >= 0"));
        }
        Ok(GoalUpdate {
            title,
            description,
            status,
            streak_count,
        })
    }
}

/// Changes to the preferences. An absent field is left unchanged.
#[derive(InputObject, Debug, Default)]
pub struct UpdatePreferencesInput {
    /// Who sees the full profile (cannot be null).
    pub profile_visibility: MaybeUndefined<ProfileVisibility>,
    /// Whether the user accepts notification emails (cannot be null).
    pub email_notifications: MaybeUndefined<bool>,
    /// An IANA time zone name such as "Europe/Paris" (cannot be null).
    pub timezone: MaybeUndefined<String>,
    /// Check-ins a week, 1 to 50; null clears it.
    pub weekly_goal_target: MaybeUndefined<i32>,
}

/// Most weekly check-ins a target may ask for.
pub const MAX_WEEKLY_GOAL_TARGET: i32 = 50;

impl UpdatePreferencesInput {
    /// Validates the input into the changes to store.
    pub fn into_changes(self) -> AppResult<PreferenceChanges> {
        let timezone = not_null("timezone", self.timezone)?
            .map(|name| {
                Timezone::parse(name.trim())
                    .map(|timezone| timezone.name().to_owned())
                    .ok_or_else(|| {
                        AppError::invalid("timezone", "timezone must be an IANA time zone name")
                    })
            })
            .transpose()?;
        let weekly_goal_target = match self.weekly_goal_target {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(target) if (1..=MAX_WEEKLY_GOAL_TARGET).contains(&target) => {
                Some(Some(target))
            }
            MaybeUndefined::Value(_) => {
                return Err(AppError::invalid(
                    "weeklyGoalTarget",
                    format!("weeklyGoalTarget must be between 1 and {MAX_WEEKLY_GOAL_TARGET}"),
                ));
            }
        };
        Ok(PreferenceChanges {
            profile_visibility: not_null("profileVisibility", self.profile_visibility)?,
            email_notifications: not_null("emailNotifications", self.email_notifications)?,
            timezone,
            weekly_goal_target,
        })
    }
}
