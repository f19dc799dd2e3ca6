//! Writes of the legacy import (`crate::legacy`): rows that arrive with
//! their own ids and dates, each written at most once (a second run finds
//! them and changes nothing).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::badges::BadgeRow;
use crate::db::goals::GoalRow;
use crate::domain::{AuthUserId, Plan};
use crate::schema::{auth_users, badges, learning_goals, profiles};

/// A legacy user, validated: the reference row's details and the profile.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedUser {
    pub id: AuthUserId,
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
    pub created_at: DateTime<Utc>,
}

/// What writing one row did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// The row was written (or, for a user the service already held, the
    /// profile columns it lacked were filled in).
    Written,
    /// Nothing changed: the row is already there.
    AlreadyPresent,
}

/// Writes `user`. A user the service does not hold gets the reference row
/// (identity as the legacy service knew it; `source_event_at` stays null,
/// so any auth-service event supersedes it) and the full profile. A user it
/// already holds keeps every value it has: only the profile columns that
/// are null (and the skills, when empty) are filled from `user`.
pub async fn write_user(
    conn: &mut AsyncPgConnection,
    user: &ImportedUser,
    now: DateTime<Utc>,
) -> QueryResult<Written> {
    let inserted = diesel::insert_into(auth_users::table)
        .values((
            auth_users::auth_user_id.eq(user.id.as_str()),
            auth_users::username.eq(&user.username),
            auth_users::email.eq(&user.email),
            auth_users::created_at.eq(user.created_at),
            auth_users::updated_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    if inserted == 1 {
        diesel::insert_into(profiles::table)
            .values((
                profiles::auth_user_id.eq(user.id.as_str()),
                profiles::display_name.eq(&user.display_name),
                profiles::bio.eq(&user.bio),
                profiles::skills.eq(&user.skills),
                profiles::headline.eq(&user.headline),
                profiles::location.eq(&user.location),
                profiles::website_url.eq(&user.website_url),
                profiles::avatar_url.eq(&user.avatar_url),
                profiles::plan.eq(user.plan),
                profiles::created_at.eq(user.created_at),
                profiles::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
        return Ok(Written::Written);
    }
    crate::db::profiles::ensure(conn, &user.id, now).await?;
    let lacks = |column_is_null: bool, value: &Option<String>| column_is_null && value.is_some();
    let current = crate::db::profiles::find(conn, &user.id).await?;
    let fills = lacks(current.display_name.is_none(), &user.display_name)
        || lacks(current.bio.is_none(), &user.bio)
        || lacks(current.headline.is_none(), &user.headline)
        || lacks(current.location.is_none(), &user.location)
        || lacks(current.website_url.is_none(), &user.website_url)
        || lacks(current.avatar_url.is_none(), &user.avatar_url)
        || (current.skills.is_empty() && !user.skills.is_empty());
    if !fills {
        return Ok(Written::AlreadyPresent);
    }
    let keep_or = |held: &Option<String>, legacy: &Option<String>| held.clone().or(legacy.clone());
    let skills: Vec<String> = if current.skills.is_empty() {
        user.skills.clone()
    } else {
        current.skills.iter().flatten().cloned().collect()
    };
    diesel::update(profiles::table.find(user.id.as_str()))
        .set((
            profiles::display_name.eq(keep_or(&current.display_name, &user.display_name)),
            profiles::bio.eq(keep_or(&current.bio, &user.bio)),
            profiles::headline.eq(keep_or(&current.headline, &user.headline)),
            profiles::location.eq(keep_or(&current.location, &user.location)),
            profiles::website_url.eq(keep_or(&current.website_url, &user.website_url)),
            profiles::avatar_url.eq(keep_or(&current.avatar_url, &user.avatar_url)),
            profiles::skills.eq(skills),
            profiles::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(Written::Written)
}

/// Writes `badge` unless a badge with its id exists.
pub async fn write_badge(conn: &mut AsyncPgConnection, badge: &BadgeRow) -> QueryResult<Written> {
    let inserted = diesel::insert_into(badges::table)
        .values(badge)
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(if inserted == 1 {
        Written::Written
    } else {
        Written::AlreadyPresent
    })
}

/// Writes `goal` unless a goal with its id exists.
pub async fn write_goal(conn: &mut AsyncPgConnection, goal: &GoalRow) -> QueryResult<Written> {
    let inserted = diesel::insert_into(learning_goals::table)
        .values(goal)
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(if inserted == 1 {
        Written::Written
    } else {
        Written::AlreadyPresent
    })
}

/// Whether a badge with this id exists.
pub async fn badge_exists(conn: &mut AsyncPgConnection, id: uuid::Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(badges::table.find(id)))
        .get_result(conn)
        .await
}

/// Whether a goal with this id exists.
pub async fn goal_exists(conn: &mut AsyncPgConnection, id: uuid::Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(learning_goals::table.find(id)))
        .get_result(conn)
        .await
}
