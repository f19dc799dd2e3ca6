use async_graphql::{ID, SimpleObject};

use crate::db::goals::GoalRow;
use crate::domain::GoalStatus;
use crate::graphql::types::{Date, Timestamp};

/// A learning goal with its check-in streak.
#[derive(SimpleObject, Debug, Clone)]
pub struct LearningGoal {
    /// The goal's id.
    pub id: ID,
    /// What the user wants to learn, 1 to 200 characters.
    pub title: String,
    /// Details (at most 2000 characters).
    pub description: Option<String>,
    /// Where the goal stands.
    pub status: GoalStatus,
    /// Consecutive days with a check-in, ending on `lastCheckInOn`.
    pub streak_count: i32,
    /// The user's calendar day (in their timezone) of the last check-in.
    pub last_check_in_on: Option<Date>,
    /// When the goal was created.
    pub created_at: Timestamp,
    /// When the goal last changed.
    pub updated_at: Timestamp,
}

impl From<GoalRow> for LearningGoal {
    fn from(row: GoalRow) -> Self {
        let GoalRow {
            id,
            auth_user_id: _,
            title,
            description,
            status,
            streak_count,
            last_check_in_on,
            created_at,
            updated_at,
        } = row;
        Self {
            id: ID(id.to_string()),
            title,
            description,
            status,
            streak_count,
            last_check_in_on: last_check_in_on.map(Date),
            created_at: created_at.into(),
            updated_at: updated_at.into(),
        }
    }
}
