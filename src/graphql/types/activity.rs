use async_graphql::{ID, SimpleObject};

use crate::db::activity::ActivityRow;
use crate::domain::ActivityKind;
use crate::graphql::types::Timestamp;

/// Something the user did: one per data-changing mutation, recorded in the
/// same transaction as the change.
#[derive(SimpleObject, Debug, Clone)]
pub struct ActivityEvent {
    /// The event's id.
    pub id: ID,
    /// What happened.
    pub kind: ActivityKind,
    /// When it happened.
    pub occurred_at: Timestamp,
    /// The goal concerned, if any (it may have been deleted since).
    pub goal_id: Option<ID>,
    /// The badge concerned, if any.
    pub badge_id: Option<ID>,
    /// A human-readable line, e.g. `Created the goal "Learn Rust"`.
    pub summary: String,
}

impl From<ActivityRow> for ActivityEvent {
    fn from(row: ActivityRow) -> Self {
        let ActivityRow {
            id,
            auth_user_id: _,
            kind,
            occurred_at,
            goal_id,
            badge_id,
            summary,
        } = row;
        Self {
            id: ID(id.to_string()),
            kind,
            occurred_at: occurred_at.into(),
            goal_id: goal_id.map(|id| ID(id.to_string())),
            badge_id: badge_id.map(|id| ID(id.to_string())),
            summary,
        }
    }
}

/// Counts over the user's badges and goals, consistent with them at the
/// moment of the query.
#[derive(SimpleObject, Debug, Clone, Default)]
pub struct UserStats {
    /// Badges earned.
    pub badge_count: i32,
    /// Goals, whatever their status.
    pub goal_count: i32,
    /// Goals with status COMPLETED.
    pub goals_completed: i32,
    /// Goals with status IN_PROGRESS.
    pub goals_in_progress: i32,
    /// The largest `streakCount` among the user's goals.
    pub longest_streak: i32,
    /// When the user last changed something (their newest activity event).
    pub last_active_at: Option<Timestamp>,
}

impl From<crate::db::stats::StatsRow> for UserStats {
    fn from(row: crate::db::stats::StatsRow) -> Self {
        let crate::db::stats::StatsRow {
            auth_user_id: _,
            badge_count,
            goal_count,
            goals_completed,
            goals_in_progress,
            longest_streak,
            last_active_at,
        } = row;
        let count = |n: i64| i32::try_from(n).unwrap_or(i32::MAX);
        Self {
            badge_count: count(badge_count),
            goal_count: count(goal_count),
            goals_completed: count(goals_completed),
            goals_in_progress: count(goals_in_progress),
            longest_streak,
            last_active_at: last_active_at.map(Timestamp),
        }
    }
}
