//! The learning-goals aggregate: goals, their status and their streaks.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::db;
use crate::db::activity::NewActivity;
use crate::db::goals::{GoalChanges, GoalRow};
use crate::domain::{ActivityKind, AuthUserId, GoalStatus, MAX_GOALS_PER_USER, Timezone};
use crate::error::{AppError, AppResult};
use crate::service::users::Provision;
use crate::service::{Writer, below_cap};
use crate::streak::{self, CheckIn};

/// A goal to create, validated.
#[derive(Debug)]
pub struct ValidGoal {
    pub title: String,
    pub description: Option<String>,
    pub status: GoalStatus,
}

/// A validated change to a goal: `None` leaves a field alone.
#[derive(Debug, Default)]
pub struct GoalUpdate {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub status: Option<GoalStatus>,
    pub streak_count: Option<i32>,
}

impl GoalUpdate {
    /// Whether the change touches nothing.
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.description.is_none()
            && self.status.is_none()
            && self.streak_count.is_none()
    }

    /// The columns to set.
    pub fn to_changes(&self) -> GoalChanges {
        GoalChanges {
            title: self.title.clone(),
            description: self.description.clone(),
            status: self.status,
            streak_count: self.streak_count,
            last_check_in_on: None,
        }
    }
}

/// Creates `goal` for `id` (records `GOAL_CREATED`), creating the user
/// first when the service has not met them. The stored goal.
/// `BAD_USER_INPUT` (field `input`), writing nothing, when `id` already
/// holds [`MAX_GOALS_PER_USER`] goals.
pub async fn create(writer: Writer<'_>, id: &AuthUserId, goal: ValidGoal) -> AppResult<GoalRow> {
    let provision = Provision::learn(writer, id).await?;
    let now = writer.now();
    let row = GoalRow {
        id: Uuid::now_v7(),
        auth_user_id: id.clone(),
        title: goal.title,
        description: goal.description,
        status: goal.status,
        streak_count: 0,
        last_check_in_on: None,
        created_at: now,
        updated_at: now,
    };
    writer
        .commit(async |conn| {
            provision.ensure(conn, id, now).await?;
            // The lock on the user's row serialises their creations, so
            // two concurrent ones cannot both pass the count.
            db::auth_users::lock_for_update(conn, id).await?;
            let held = db::goals::count_owned(conn, id).await?;
            if !below_cap(held, MAX_GOALS_PER_USER) {
                return Err(AppError::invalid(
                    "input",
                    format!("a user holds at most {MAX_GOALS_PER_USER} goals; delete one first"),
                ));
            }
            let row = db::goals::insert(conn, &row).await?;
            let summary = format!("Created the goal \"{}\"", row.title);
            let event = NewActivity::goal(id, ActivityKind::GoalCreated, row.id, summary);
            db::activity::record(conn, event, now).await?;
            Ok(row)
        })
        .await
}

/// Applies `update` to the goal `goal` of `id` (records `GOAL_UPDATED`, or
/// `GOAL_COMPLETED` when it moves to COMPLETED; nothing when `update`
/// touches nothing). `NOT_FOUND` for a goal that is not theirs.
pub async fn update(
    writer: Writer<'_>,
    id: &AuthUserId,
    goal: Uuid,
    update: GoalUpdate,
) -> AppResult<GoalRow> {
    let now = writer.now();
    writer
        .commit(async |conn| {
            let current = lock_owned(conn, id, goal).await?;
            if update.is_empty() {
                return Ok(current);
            }
            let row = update_owned(conn, id, goal, &update.to_changes(), now).await?;
            let completed = update.status == Some(GoalStatus::Completed)
                && current.status != GoalStatus::Completed;
            let (kind, verb) = if completed {
                (ActivityKind::GoalCompleted, "Completed")
            } else {
                (ActivityKind::GoalUpdated, "Updated")
            };
            let summary = format!("{verb} the goal \"{}\"", row.title);
            db::activity::record(conn, NewActivity::goal(id, kind, row.id, summary), now).await?;
            Ok(row)
        })
        .await
}

/// Deletes the goal `goal` of `id` (records `GOAL_DELETED`) and returns
/// it. `NOT_FOUND` for a goal that is not theirs.
pub async fn delete(writer: Writer<'_>, id: &AuthUserId, goal: Uuid) -> AppResult<GoalRow> {
    let now = writer.now();
    writer
        .commit(async |conn| {
            let row = db::goals::delete_owned(conn, id, goal)
                .await?
                .ok_or(AppError::NotFound("goal"))?;
            let summary = format!("Deleted the goal \"{}\"", row.title);
            let event = NewActivity::goal(id, ActivityKind::GoalDeleted, row.id, summary);
            db::activity::record(conn, event, now).await?;
            Ok(row)
        })
        .await
}

/// Checks in on the goal `goal` of `id` for today, in the user's timezone
/// (records `GOAL_CHECKED_IN` when it counts): once a day; the day after
/// the last check-in extends the streak, a later day restarts it at 1.
/// Moves NOT_STARTED to IN_PROGRESS; refused on a COMPLETED goal.
/// `NOT_FOUND` for a goal that is not theirs.
pub async fn check_in(writer: Writer<'_>, id: &AuthUserId, goal: Uuid) -> AppResult<GoalRow> {
    let now = writer.now();
    writer
        .commit(async |conn| {
            // The row lock makes concurrent check-ins of one goal count once.
            let current = lock_owned(conn, id, goal).await?;
            if current.status == GoalStatus::Completed {
                return Err(AppError::invalid(
                    "goalId",
                    "a completed goal takes no check-ins",
                ));
            }
            let profile = db::profiles::find(conn, id).await?;
            let timezone = Timezone::parse(&profile.timezone).unwrap_or_default();
            let today = streak::local_day(now, timezone);
            let CheckIn::Counted { streak_count, day } =
                streak::check_in(current.last_check_in_on, current.streak_count, today)
            else {
                return Ok(current);
            };
            let changes = GoalChanges {
                streak_count: Some(streak_count),
                last_check_in_on: Some(Some(day)),
                status: (current.status == GoalStatus::NotStarted)
                    .then_some(GoalStatus::InProgress),
                ..GoalChanges::default()
            };
            let row = update_owned(conn, id, goal, &changes, now).await?;
            let summary = format!(
                "Checked in on the goal \"{}\" (streak {streak_count})",
                row.title
            );
            let event = NewActivity::goal(id, ActivityKind::GoalCheckedIn, row.id, summary);
            db::activity::record(conn, event, now).await?;
            Ok(row)
        })
        .await
}

/// The goal `goal` of `id`, locked for the rest of the transaction (the
/// row lock serialises concurrent changes of one goal); `NOT_FOUND` when
/// it is not theirs.
async fn lock_owned(
    conn: &mut AsyncPgConnection,
    id: &AuthUserId,
    goal: Uuid,
) -> AppResult<GoalRow> {
    db::goals::find_owned_for_update(conn, id, goal)
        .await?
        .ok_or(AppError::NotFound("goal"))
}

/// Applies `changes` to the goal `goal` of `id`; `NOT_FOUND` when it is not
/// theirs.
async fn update_owned(
    conn: &mut AsyncPgConnection,
    id: &AuthUserId,
    goal: Uuid,
    changes: &GoalChanges,
    now: DateTime<Utc>,
) -> AppResult<GoalRow> {
    db::goals::update_owned(conn, id, goal, changes, now)
        .await?
        .ok_or(AppError::NotFound("goal"))
}
