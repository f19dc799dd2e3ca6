//! Per-user statistics, computed from badges, goals and activity in one
//! aggregate statement per batch of users.

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Timestamptz, Varchar};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::domain::AuthUserId;

/// The statistics of one user.
#[derive(Debug, Clone, QueryableByName)]
pub struct StatsRow {
    #[diesel(sql_type = Varchar)]
    pub auth_user_id: AuthUserId,
    #[diesel(sql_type = BigInt)]
    pub badge_count: i64,
    #[diesel(sql_type = BigInt)]
    pub goal_count: i64,
    #[diesel(sql_type = BigInt)]
    pub goals_completed: i64,
    #[diesel(sql_type = BigInt)]
    pub goals_in_progress: i64,
    #[diesel(sql_type = Integer)]
    pub longest_streak: i32,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub last_active_at: Option<DateTime<Utc>>,
}

/// The statistics of every user in `user_ids` (one row each).
pub async fn for_users(
    conn: &mut AsyncPgConnection,
    user_ids: &[&str],
) -> QueryResult<Vec<StatsRow>> {
    diesel::sql_query(
        "SELECT u.id AS auth_user_id,
                (SELECT count(*) FROM badges b WHERE b.auth_user_id = u.id) AS badge_count,
                g.goal_count, g.goals_completed, g.goals_in_progress, g.longest_streak,
                (SELECT max(a.occurred_at) FROM activity_events a WHERE a.auth_user_id = u.id)
                    AS last_active_at
           FROM unnest($1::varchar[]) AS u(id)
           CROSS JOIN LATERAL (
                SELECT count(*) AS goal_count,
                       count(*) FILTER (WHERE status = 'COMPLETED') AS goals_completed,
                       count(*) FILTER (WHERE status = 'IN_PROGRESS') AS goals_in_progress,
                       coalesce(max(streak_count), 0) AS longest_streak
                  FROM learning_goals g
                 WHERE g.auth_user_id = u.id) g",
    )
    .bind::<Array<Varchar>, _>(user_ids)
    .load(conn)
    .await
}
