//! The legacy REST shapes, snake_case as the FastAPI service wrote them.
//!
//! Output types are read from the GraphQL answer (camelCase, the contract's
//! enum names) and written in the legacy form, so every value a REST client
//! sees went through the same resolvers, privacy rules included. Input
//! types carry the body's JSON types only; [`ToGraphql`] turns them into the
//! GraphQL input object, where every rule is checked.

use chrono::{DateTime, FixedOffset, SecondsFormat};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

/// A goal's status: `not-started`, `in-progress` or `completed` (the
/// contract's `NOT_STARTED`, `IN_PROGRESS`, `COMPLETED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum GoalStatus {
    #[serde(alias = "NOT_STARTED")]
    NotStarted,
    #[serde(alias = "IN_PROGRESS")]
    InProgress,
    #[serde(alias = "COMPLETED")]
    Completed,
}

impl GoalStatus {
    /// The GraphQL enum value.
    pub fn graphql(self) -> &'static str {
        match self {
            Self::NotStarted => "NOT_STARTED",
            Self::InProgress => "IN_PROGRESS",
            Self::Completed => "COMPLETED",
        }
    }
}

/// The plan: `free` or `premium`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    #[serde(alias = "FREE")]
    Free,
    #[serde(alias = "PREMIUM")]
    Premium,
}

/// Who sees the full profile: `public` or `private`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProfileVisibility {
    #[serde(alias = "PUBLIC")]
    Public,
    #[serde(alias = "PRIVATE")]
    Private,
}

impl ProfileVisibility {
    /// The GraphQL enum value.
    pub fn graphql(self) -> &'static str {
        match self {
            Self::Public => "PUBLIC",
            Self::Private => "PRIVATE",
        }
    }
}

/// A badge.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all(deserialize = "camelCase"))]
pub struct Badge {
    /// The badge's id (a UUID).
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub icon_url: Option<String>,
    /// RFC 3339, UTC.
    #[schema(format = DateTime)]
    pub date_achieved: String,
}

/// A learning goal.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all(deserialize = "camelCase"))]
pub struct Goal {
    /// The goal's id (a UUID).
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub status: GoalStatus,
    pub streak_count: i32,
    /// The user's calendar day of the last check-in, `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub last_check_in_on: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// Counts over a user's badges and goals.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all(deserialize = "camelCase"))]
pub struct Stats {
    pub badge_count: i32,
    pub goal_count: i32,
    pub goals_completed: i32,
    pub goals_in_progress: i32,
    pub longest_streak: i32,
    #[schema(format = DateTime)]
    pub last_active_at: Option<String>,
}

/// The user's preferences.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all(deserialize = "camelCase"))]
pub struct Preferences {
    pub profile_visibility: ProfileVisibility,
    pub email_notifications: bool,
    /// IANA time zone name.
    pub timezone: String,
    /// Check-ins a week, 1 to 50, or null.
    pub weekly_goal_target: Option<i32>,
}

/// A user. On a private profile, others see the public card only (`bio`,
/// `headline`, `location`, `website_url` null, lists empty, stats zero);
/// `email` and `preferences` are for the user themself and admins.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all(deserialize = "camelCase"))]
pub struct User {
    /// The auth-service's user id.
    pub auth_user_id: String,
    pub username: Option<String>,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub bio: Option<String>,
    pub skills: Vec<String>,
    pub headline: Option<String>,
    pub location: Option<String>,
    pub website_url: Option<String>,
    pub avatar_url: Option<String>,
    pub plan: Plan,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub preferences: Option<Preferences>,
    /// Newest `date_achieved` first.
    pub badges: Vec<Badge>,
    /// Newest first.
    pub goals: Vec<Goal>,
    pub stats: Stats,
}

/// A profile: the user's own fields, without lists.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all(deserialize = "camelCase"))]
pub struct Profile {
    pub auth_user_id: String,
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub bio: Option<String>,
    pub skills: Vec<String>,
    pub headline: Option<String>,
    pub location: Option<String>,
    pub website_url: Option<String>,
    pub avatar_url: Option<String>,
    pub plan: Plan,
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// One page of search results.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchPage {
    pub items: Vec<Profile>,
    /// Pass as `cursor` for the next page; null on the last one.
    pub next_cursor: Option<String>,
}

/// A field of a partial update: absent leaves the stored value, `null`
/// clears it, a value sets it.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Patch<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(deserializer).map(|value| value.map_or(Patch::Null, Patch::Value))
    }
}

impl<T> Patch<T> {
    /// Puts the field into `object` under `name` (absent: not at all),
    /// converting a value with `convert`.
    fn put(&self, object: &mut Map<String, Value>, name: &str, convert: impl Fn(&T) -> Value) {
        match self {
            Patch::Absent => {}
            Patch::Null => {
                object.insert(name.to_owned(), Value::Null);
            }
            Patch::Value(value) => {
                object.insert(name.to_owned(), convert(value));
            }
        }
    }
}

fn text<T: AsRef<str>>(value: &T) -> Value {
    Value::String(value.as_ref().to_owned())
}

fn option_text(object: &mut Map<String, Value>, name: &str, value: &Option<String>) {
    if let Some(value) = value {
        object.insert(name.to_owned(), Value::String(value.clone()));
    }
}

/// An integer, which JSON may also write as an integral float (`3.0`), as
/// JSON Schema's `integer` and pydantic allow; anything else, or beyond
/// 32 bits, is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonInt(pub i32);

impl<'de> Deserialize<'de> for JsonInt {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let number = serde_json::Number::deserialize(deserializer)?;
        let integral = number.as_i64().or_else(|| {
            number
                .as_f64()
                .filter(|value| value.fract() == 0.0 && value.abs() < 1e15)
                .map(|value| value as i64)
        });
        integral
            .and_then(|value| i32::try_from(value).ok())
            .map(JsonInt)
            .ok_or_else(|| {
                serde::de::Error::custom(format!("expected a 32-bit integer, got {number}"))
            })
    }
}

/// A REST body turned into the GraphQL input object it stands for.
pub trait ToGraphql {
    fn to_graphql(&self) -> Value;
}

/// Changes to a profile: absent fields stay, `null` clears. The rules are
/// the GraphQL `UpdateProfileInput`'s (lengths, URLs, skills).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ProfileUpdate {
    /// At most 100 characters.
    #[schema(value_type = Option<String>, max_length = 100)]
    #[serde(default)]
    pub display_name: Patch<String>,
    /// At most 2000 characters.
    #[schema(value_type = Option<String>, max_length = 2000)]
    #[serde(default)]
    pub bio: Patch<String>,
    /// At most 50, each 1 to 50 characters; duplicates dropped regardless of case.
    #[schema(value_type = Option<Vec<String>>, max_items = 50)]
    #[serde(default)]
    pub skills: Patch<Vec<String>>,
    /// At most 200 characters.
    #[schema(value_type = Option<String>, max_length = 200)]
    #[serde(default)]
    pub headline: Patch<String>,
    /// At most 100 characters.
    #[schema(value_type = Option<String>, max_length = 100)]
    #[serde(default)]
    pub location: Patch<String>,
    /// Absolute http(s) URL.
    #[schema(value_type = Option<String>, max_length = 2048)]
    #[serde(default)]
    pub website_url: Patch<String>,
    /// Absolute http(s) URL.
    #[schema(value_type = Option<String>, max_length = 2048)]
    #[serde(default)]
    pub avatar_url: Patch<String>,
}

impl ToGraphql for ProfileUpdate {
    fn to_graphql(&self) -> Value {
        let mut input = Map::new();
        self.display_name.put(&mut input, "displayName", text);
        self.bio.put(&mut input, "bio", text);
        self.skills.put(&mut input, "skills", |skills| {
            Value::Array(skills.iter().map(text).collect())
        });
        self.headline.put(&mut input, "headline", text);
        self.location.put(&mut input, "location", text);
        self.website_url.put(&mut input, "websiteUrl", text);
        self.avatar_url.put(&mut input, "avatarUrl", text);
        Value::Object(input)
    }
}

/// Changes to the preferences: absent fields stay.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct PreferencesUpdate {
    /// Cannot be null.
    #[schema(value_type = ProfileVisibility)]
    #[serde(default)]
    pub profile_visibility: Patch<ProfileVisibility>,
    /// Cannot be null.
    #[schema(value_type = bool)]
    #[serde(default)]
    pub email_notifications: Patch<bool>,
    /// An IANA time zone name such as `Europe/Paris`; cannot be null.
    #[schema(value_type = String, min_length = 1, example = "Europe/Paris")]
    #[serde(default)]
    pub timezone: Patch<String>,
    /// 1 to 50; null clears it.
    #[schema(value_type = Option<i32>, minimum = 1, maximum = 50)]
    #[serde(default)]
    pub weekly_goal_target: Patch<JsonInt>,
}

impl ToGraphql for PreferencesUpdate {
    fn to_graphql(&self) -> Value {
        let mut input = Map::new();
        self.profile_visibility
            .put(&mut input, "profileVisibility", |visibility| {
                Value::String(visibility.graphql().to_owned())
            });
        self.email_notifications
            .put(&mut input, "emailNotifications", |on| Value::Bool(*on));
        self.timezone.put(&mut input, "timezone", text);
        self.weekly_goal_target
            .put(&mut input, "weeklyGoalTarget", |target| {
                Value::from(target.0)
            });
        Value::Object(input)
    }
}

/// A badge to award.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BadgeCreate {
    /// 1 to 100 characters, not blank.
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub name: String,
    /// At most 500 characters.
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// Absolute http(s) URL.
    #[schema(max_length = 2048)]
    pub icon_url: Option<String>,
    /// RFC 3339; now when absent; not in the future.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub date_achieved: Option<DateTime<FixedOffset>>,
}

impl ToGraphql for BadgeCreate {
    fn to_graphql(&self) -> Value {
        let mut input = Map::new();
        input.insert("name".to_owned(), Value::String(self.name.clone()));
        option_text(&mut input, "description", &self.description);
        option_text(&mut input, "iconUrl", &self.icon_url);
        if let Some(instant) = &self.date_achieved {
            input.insert(
                "dateAchieved".to_owned(),
                Value::String(instant.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            );
        }
        Value::Object(input)
    }
}

/// A learning goal to create.
#[derive(Debug, Deserialize, ToSchema)]
pub struct GoalCreate {
    /// 1 to 200 characters, not blank.
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub title: String,
    /// At most 2000 characters.
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// Default `in-progress`.
    pub status: Option<GoalStatus>,
}

impl ToGraphql for GoalCreate {
    fn to_graphql(&self) -> Value {
        let mut input = Map::new();
        input.insert("title".to_owned(), Value::String(self.title.clone()));
        option_text(&mut input, "description", &self.description);
        if let Some(status) = self.status {
            input.insert(
                "status".to_owned(),
                Value::String(status.graphql().to_owned()),
            );
        }
        Value::Object(input)
    }
}

/// Changes to a goal: absent fields stay.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct GoalUpdate {
    /// 1 to 200 characters, not blank; cannot be null.
    #[schema(value_type = String, min_length = 1, max_length = 200, pattern = r"\S")]
    #[serde(default)]
    pub title: Patch<String>,
    /// At most 2000 characters; null clears it.
    #[schema(value_type = Option<String>, max_length = 2000)]
    #[serde(default)]
    pub description: Patch<String>,
    /// Cannot be null.
    #[schema(value_type = GoalStatus)]
    #[serde(default)]
    pub status: Patch<GoalStatus>,
    /// A corrected streak, >= 0; cannot be null.
    #[schema(value_type = i32, minimum = 0)]
    #[serde(default)]
    pub streak_count: Patch<JsonInt>,
}

impl ToGraphql for GoalUpdate {
    fn to_graphql(&self) -> Value {
        let mut input = Map::new();
        self.title.put(&mut input, "title", text);
        self.description.put(&mut input, "description", text);
        self.status.put(&mut input, "status", |status| {
            Value::String(status.graphql().to_owned())
        });
        self.streak_count
            .put(&mut input, "streakCount", |count| Value::from(count.0));
        Value::Object(input)
    }
}

/// `GET /users/{user_id}/goals` filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GoalFilter {
    /// Only goals with this status.
    pub status: Option<GoalStatus>,
}

/// `GET /api/v1/users/search` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// The search term, 1 to 100 characters, not blank, without control
    /// characters: a case-insensitive substring of the username, display
    /// name or a skill.
    #[param(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub q: String,
    /// Page size, 0 to 50 (default 20).
    #[param(minimum = 0, maximum = 50)]
    pub limit: Option<i32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn absent_null_and_values_reach_graphql_as_such() {
        let update: ProfileUpdate =
            serde_json::from_value(json!({ "bio": null, "display_name": "Ada", "extra": 1 }))
                .unwrap();
        assert_eq!(
            update.to_graphql(),
            json!({ "bio": null, "displayName": "Ada" })
        );
        let goal: GoalUpdate =
            serde_json::from_value(json!({ "status": "completed", "streak_count": 3.0 })).unwrap();
        assert_eq!(
            goal.to_graphql(),
            json!({ "status": "COMPLETED", "streakCount": 3 })
        );
    }

    #[test]
    fn outputs_are_read_in_camel_case_and_written_in_snake_case() {
        let goal: Goal = serde_json::from_value(json!({
            "id": "g", "title": "t", "description": null, "status": "IN_PROGRESS",
            "streakCount": 2, "lastCheckInOn": null,
            "createdAt": "2026-11-21T10:00:00Z", "updatedAt": "2026-11-21T10:00:00Z"
        }))
        .unwrap();
        let written = serde_json::to_value(&goal).unwrap();
        assert_eq!(written["status"], "in-progress");
        assert_eq!(written["streak_count"], 2);
        assert!(written.get("streakCount").is_none());
    }
}
