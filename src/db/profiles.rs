//! `profiles`: what the user tells about themself, their plan and their
//! preferences (one row per known user).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::domain::{AuthUserId, Plan, ProfileVisibility};
use crate::schema::profiles;

/// A row of `profiles`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = profiles, check_for_backend(diesel::pg::Pg))]
pub struct ProfileRow {
    pub auth_user_id: AuthUserId,
    pub display_name: Option<String>,
    pub bio: Option<String>,
    pub skills: Vec<Option<String>>,
    pub headline: Option<String>,
    pub location: Option<String>,
    pub website_url: Option<String>,
    pub avatar_url: Option<String>,
    pub plan: Plan,
    pub profile_visibility: ProfileVisibility,
    pub email_notifications: bool,
    pub timezone: String,
    pub weekly_goal_target: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A change to the profile fields: `None` leaves a column alone,
/// `Some(None)` clears it.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = profiles)]
pub struct ProfileChanges {
    pub display_name: Option<Option<String>>,
    pub bio: Option<Option<String>>,
    pub skills: Option<Vec<String>>,
    pub headline: Option<Option<String>>,
    pub location: Option<Option<String>>,
    pub website_url: Option<Option<String>>,
    pub avatar_url: Option<Option<String>>,
}

/// A change to the preferences; same convention as [`ProfileChanges`].
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = profiles)]
pub struct PreferenceChanges {
    pub profile_visibility: Option<ProfileVisibility>,
    pub email_notifications: Option<bool>,
    pub timezone: Option<String>,
    pub weekly_goal_target: Option<Option<i32>>,
}

impl ProfileChanges {
    /// Whether the change touches nothing.
    pub fn is_empty(&self) -> bool {
        let Self {
            display_name,
            bio,
            skills,
            headline,
            location,
            website_url,
            avatar_url,
        } = self;
        display_name.is_none()
            && bio.is_none()
            && skills.is_none()
            && headline.is_none()
            && location.is_none()
            && website_url.is_none()
            && avatar_url.is_none()
    }
}

impl PreferenceChanges {
    /// Whether the change touches nothing.
    pub fn is_empty(&self) -> bool {
        let Self {
            profile_visibility,
            email_notifications,
            timezone,
            weekly_goal_target,
        } = self;
        profile_visibility.is_none()
            && email_notifications.is_none()
            && timezone.is_none()
            && weekly_goal_target.is_none()
    }
}

/// Creates the default profile of `id` when missing.
pub async fn ensure(
    conn: &mut AsyncPgConnection,
    id: &AuthUserId,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(profiles::table)
        .values((
            profiles::auth_user_id.eq(id.as_str()),
            profiles::created_at.eq(now),
            profiles::updated_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(drop)
}

/// Applies `changes` to the profile of `id` and returns the row.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: &AuthUserId,
    changes: &ProfileChanges,
    now: DateTime<Utc>,
) -> QueryResult<ProfileRow> {
    diesel::update(profiles::table.find(id.as_str()))
        .set((changes, profiles::updated_at.eq(now)))
        .returning(ProfileRow::as_returning())
        .get_result(conn)
        .await
}

/// Applies `changes` to the preferences of `id` and returns the row.
pub async fn update_preferences(
    conn: &mut AsyncPgConnection,
    id: &AuthUserId,
    changes: &PreferenceChanges,
    now: DateTime<Utc>,
) -> QueryResult<ProfileRow> {
    diesel::update(profiles::table.find(id.as_str()))
        .set((changes, profiles::updated_at.eq(now)))
        .returning(ProfileRow::as_returning())
        .get_result(conn)
        .await
}

/// Sets the plan of `id` and returns the row.
pub async fn set_plan(
    conn: &mut AsyncPgConnection,
    id: &AuthUserId,
    plan: Plan,
    now: DateTime<Utc>,
) -> QueryResult<ProfileRow> {
    diesel::update(profiles::table.find(id.as_str()))
        .set((profiles::plan.eq(plan), profiles::updated_at.eq(now)))
        .returning(ProfileRow::as_returning())
        .get_result(conn)
        .await
}

/// The profile of `id`.
pub async fn find(conn: &mut AsyncPgConnection, id: &AuthUserId) -> QueryResult<ProfileRow> {
    profiles::table
        .find(id.as_str())
        .select(ProfileRow::as_select())
        .first(conn)
        .await
}
