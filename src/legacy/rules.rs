//! From legacy rows to this service's rows, through the service's own
//! validation ([`crate::validation`], [`AuthUserId`], [`GoalStatus`]). A
//! row is taken as it is or refused with the reason: the rules' trimming
//! and de-duplication would change a value, so a row they would change is
//! refused too, never silently altered. The one documented mapping of
//! values: an empty string is null.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db::badges::BadgeRow;
use crate::db::goals::GoalRow;
use crate::db::imports::ImportedUser;
use crate::domain::{AuthUserId, GoalStatus, Plan};
use crate::legacy::source::{LegacySchema, RawBadge, RawGoal, RawUser};
use crate::validation::{limits, optional_text, optional_url, required_text, skills};

/// Why a row is refused.
pub type Refusal = String;

/// `""` is null; anything else is itself.
fn blank_is_null(value: Option<&str>) -> Option<&str> {
    value.filter(|value| !value.is_empty())
}

/// An optional text checked by the service's rule, refused when the rule
/// would change it.
fn text(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>, Refusal> {
    let value = blank_is_null(value);
    let valid = optional_text(field, value, max).map_err(|error| error.to_string())?;
    unchanged(field, value, valid)
}

fn url(field: &str, value: Option<&str>) -> Result<Option<String>, Refusal> {
    let value = blank_is_null(value);
    let valid = optional_url(field, value).map_err(|error| error.to_string())?;
    unchanged(field, value, valid)
}

fn required(field: &str, value: Option<&str>, max: usize) -> Result<String, Refusal> {
    let value = value.ok_or_else(|| format!("{field} is missing"))?;
    let valid = required_text(field, value, max).map_err(|error| error.to_string())?;
    unchanged(field, Some(value), Some(valid)).map(|valid| valid.unwrap_or_default())
}

fn unchanged(
    field: &str,
    raw: Option<&str>,
    valid: Option<String>,
) -> Result<Option<String>, Refusal> {
    if valid.as_deref() == raw {
        Ok(valid)
    } else {
        Err(format!(
            "{field} has leading or trailing whitespace (or is blank)"
        ))
    }
}

/// The user id: the legacy id must be a valid `authUserId`.
pub fn user_id(key: &str) -> Result<AuthUserId, Refusal> {
    AuthUserId::parse(key).map_err(|error| format!("id {key:?}: {error}"))
}

/// A legacy user as this service's row.
pub fn user(raw: &RawUser) -> Result<ImportedUser, Refusal> {
    let id = user_id(&raw.key)?;
    let skill_list = match &raw.skills {
        None => Vec::new(),
        Some(values) => {
            let values: Vec<String> = values
                .iter()
                .map(|skill| skill.clone().ok_or("skills holds a null"))
                .collect::<Result<_, _>>()?;
            let valid = skills("skills", &values).map_err(|error| error.to_string())?;
            if valid != values {
                return Err(
                    "skills holds blank entries, whitespace or duplicates (regardless of case)"
                        .to_owned(),
                );
            }
            valid
        }
    };
    let plan = match raw.plan.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("free") => Plan::Free,
        Some("premium") => Plan::Premium,
        Some(other) => return Err(format!("plan {other:?} is neither free nor premium")),
    };
    Ok(ImportedUser {
        id,
        username: blank_is_null(raw.username.as_deref()).map(str::to_owned),
        email: blank_is_null(raw.email.as_deref()).map(str::to_owned),
        display_name: text(
            "display_name",
            raw.display_name.as_deref(),
            limits::DISPLAY_NAME,
        )?,
        bio: text("bio", raw.bio.as_deref(), limits::BIO)?,
        skills: skill_list,
        headline: text("headline", raw.headline.as_deref(), limits::HEADLINE)?,
        location: text("location", raw.location.as_deref(), limits::LOCATION)?,
        website_url: url("website_url", raw.website_url.as_deref())?,
        avatar_url: url("avatar_url", raw.avatar_url.as_deref())?,
        plan,
        created_at: raw
            .created_at
            .ok_or_else(|| "created_at is missing".to_owned())?,
    })
}

/// The id a legacy row keeps: its own when it is a UUID (v2), else one
/// derived from the schema, table and legacy id (v1's integers), the same
/// on every run.
pub fn row_id(schema: LegacySchema, table: &str, key: &str) -> Uuid {
    if let Ok(id) = Uuid::parse_str(key) {
        return id;
    }
    let digest = Sha256::digest(format!("user-service legacy {schema:?} {table} {key}"));
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// A legacy goal status as a [`GoalStatus`]: `not-started`, `in-progress`,
/// `completed` in any case, with `-`, `_` or a space.
pub fn goal_status(raw: &str) -> Result<GoalStatus, Refusal> {
    let normal: String = raw
        .chars()
        .map(|c| match c {
            '-' | ' ' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    match normal.as_str() {
        "not_started" => Ok(GoalStatus::NotStarted),
        "in_progress" => Ok(GoalStatus::InProgress),
        "completed" => Ok(GoalStatus::Completed),
        _ => Err(format!("status {raw:?} is not a known goal status")),
    }
}

/// A legacy badge as this service's row (`owner`: the owner's id here).
pub fn badge(
    schema: LegacySchema,
    raw: &RawBadge,
    owner: AuthUserId,
    now: DateTime<Utc>,
) -> Result<BadgeRow, Refusal> {
    let date_achieved = raw
        .date_achieved
        .ok_or_else(|| "date_achieved is missing".to_owned())?;
    if date_achieved > now {
        return Err("date_achieved is in the future".to_owned());
    }
    Ok(BadgeRow {
        id: row_id(schema, "badges", &raw.key),
        auth_user_id: owner,
        name: required("name", raw.name.as_deref(), limits::BADGE_NAME)?,
        description: text(
            "description",
            raw.description.as_deref(),
            limits::BADGE_DESCRIPTION,
        )?,
        icon_url: url("icon_url", raw.icon_url.as_deref())?,
        date_achieved,
        created_at: date_achieved,
    })
}

/// A legacy goal as this service's row.
pub fn goal(schema: LegacySchema, raw: &RawGoal, owner: AuthUserId) -> Result<GoalRow, Refusal> {
    let status = goal_status(
        raw.status
            .as_deref()
            .ok_or_else(|| "status is missing".to_owned())?,
    )?;
    let streak_count = raw.streak_count.unwrap_or(0);
    if streak_count < 0 {
        return Err(format!("streak_count {streak_count} is negative"));
    }
    let created_at = raw
        .created_at
        .ok_or_else(|| "created_at is missing".to_owned())?;
    Ok(GoalRow {
        id: row_id(schema, "learning_goals", &raw.key),
        auth_user_id: owner,
        title: required("title", raw.title.as_deref(), limits::GOAL_TITLE)?,
        description: text(
            "description",
            raw.description.as_deref(),
            limits::GOAL_DESCRIPTION,
        )?,
        status,
        streak_count,
        last_check_in_on: raw.last_check_in_on,
        created_at,
        updated_at: raw.updated_at.unwrap_or(created_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_onto_goal_status() {
        assert_eq!(goal_status("in-progress"), Ok(GoalStatus::InProgress));
        assert_eq!(goal_status("IN_PROGRESS"), Ok(GoalStatus::InProgress));
        assert_eq!(goal_status("not started"), Ok(GoalStatus::NotStarted));
        assert_eq!(goal_status("completed"), Ok(GoalStatus::Completed));
        assert!(goal_status("paused").is_err());
    }

    #[test]
    fn ids_are_kept_or_derived_the_same_every_time() {
        let kept = "0192f0c5-8e4a-7000-8000-000000000001";
        assert_eq!(row_id(LegacySchema::V2, "badges", kept).to_string(), kept);
        let derived = row_id(LegacySchema::V1, "badges", "17");
        assert_eq!(derived, row_id(LegacySchema::V1, "badges", "17"));
        assert_ne!(derived, row_id(LegacySchema::V1, "learning_goals", "17"));
    }

    #[test]
    fn values_the_rules_would_change_are_refused() {
        assert!(text("bio", Some(" padded "), 10).is_err());
        assert_eq!(text("bio", Some(""), 10), Ok(None));
        assert!(text("bio", Some("x".repeat(11).as_str()), 10).is_err());
        assert!(url("website_url", Some("ftp://x.example")).is_err());
    }
}
