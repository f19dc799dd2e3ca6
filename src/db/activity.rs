//! `activity_events`: one row per data-changing mutation, written in the
//! same transaction as the change.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::domain::{ActivityKind, AuthUserId};
use crate::schema::activity_events;

/// A row of `activity_events`.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = activity_events, check_for_backend(diesel::pg::Pg))]
pub struct ActivityRow {
    pub id: Uuid,
    pub auth_user_id: AuthUserId,
    pub kind: ActivityKind,
    pub occurred_at: DateTime<Utc>,
    pub goal_id: Option<Uuid>,
    pub badge_id: Option<Uuid>,
    pub summary: String,
}

/// An event to record.
#[derive(Debug, Clone)]
pub struct NewActivity<'a> {
    pub user: &'a AuthUserId,
    pub kind: ActivityKind,
    pub goal_id: Option<Uuid>,
    pub badge_id: Option<Uuid>,
    pub summary: String,
}

impl<'a> NewActivity<'a> {
    /// An event about the user's profile, preferences or plan.
    pub fn user(user: &'a AuthUserId, kind: ActivityKind, summary: impl Into<String>) -> Self {
        Self {
            user,
            kind,
            goal_id: None,
            badge_id: None,
            summary: summary.into(),
        }
    }

    /// An event about one of the user's goals.
    pub fn goal(
        user: &'a AuthUserId,
        kind: ActivityKind,
        goal_id: Uuid,
        summary: impl Into<String>,
    ) -> Self {
        Self {
            goal_id: Some(goal_id),
            ..Self::user(user, kind, summary)
        }
    }

    /// An event about one of the user's badges.
    pub fn badge(
        user: &'a AuthUserId,
        kind: ActivityKind,
        badge_id: Uuid,
        summary: impl Into<String>,
    ) -> Self {
        Self {
            badge_id: Some(badge_id),
            ..Self::user(user, kind, summary)
        }
    }
}

/// Records one activity event.
pub async fn record(
    conn: &mut AsyncPgConnection,
    event: NewActivity<'_>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let row = ActivityRow {
        id: Uuid::now_v7(),
        auth_user_id: event.user.clone(),
        kind: event.kind,
        occurred_at: now,
        goal_id: event.goal_id,
        badge_id: event.badge_id,
        summary: event.summary,
    };
    diesel::insert_into(activity_events::table)
        .values(&row)
        .execute(conn)
        .await
        .map(drop)
}

/// The latest `first` events of every user in `user_ids`, newest first.
pub async fn latest_for_users(
    conn: &mut AsyncPgConnection,
    user_ids: &[&str],
    first: i64,
) -> QueryResult<Vec<ActivityRow>> {
    use diesel::sql_types::{Array, BigInt, Varchar};
    diesel::sql_query(
        "SELECT e.id, e.auth_user_id, e.kind, e.occurred_at, e.goal_id, e.badge_id, e.summary
           FROM unnest($1::varchar[]) AS u(id)
           CROSS JOIN LATERAL (
                SELECT * FROM activity_events a
                 WHERE a.auth_user_id = u.id
                 ORDER BY a.occurred_at DESC, a.id DESC
                 LIMIT $2) e
          ORDER BY e.auth_user_id, e.occurred_at DESC, e.id DESC",
    )
    .bind::<Array<Varchar>, _>(user_ids)
    .bind::<BigInt, _>(first)
    .load(conn)
    .await
}
