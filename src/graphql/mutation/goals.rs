use async_graphql::{Context, ID, Object};
use diesel_async::AsyncConnection;
use uuid::Uuid;

use crate::db;
use crate::db::activity::NewActivity;
use crate::db::goals::{GoalChanges, GoalRow};
use crate::domain::{ActivityKind, AuthUserId, GoalStatus, Timezone};
use crate::error::{AppError, GqlResultExt};
use crate::graphql::ContextExt;
use crate::graphql::guard::SelfOrAdmin;
use crate::graphql::inputs::{CreateGoalInput, UpdateGoalInput};
use crate::graphql::mutation::parse_goal_id;
use crate::graphql::types::LearningGoal;
use crate::streak::{self, CheckIn};

/// Learning-goal mutations.
#[derive(Default)]
pub struct GoalMutation;

#[Object]
impl GoalMutation {
    /// Creates a learning goal (records `GOAL_CREATED`).
    #[graphql(guard = "SelfOrAdmin::new(auth_user_id.clone())")]
    async fn create_goal(
        &self,
        ctx: &Context<'_>,
        auth_user_id: ID,
        input: CreateGoalInput,
    ) -> async_graphql::Result<LearningGoal> {
        let id = AuthUserId::parse(&auth_user_id).gql()?;
        let goal = input.validate().gql()?;
        let app = ctx.app();
        let details = app.details_if_unknown(&id).await.gql()?;
        let now = app.clock.now();
        let row = GoalRow {
            id: Uuid::now_v7(),
            auth_user_id: id.as_str().to_owned(),
            title: goal.title,
            description: goal.description,
            status: goal.status.as_db().to_owned(),
            streak_count: 0,
            last_check_in_on: None,
            created_at: now,
            updated_at: now,
        };
        let mut conn = app.conn().await.gql()?;
        let row = conn
            .transaction(async |conn| {
                db::auth_users::ensure(conn, &id, details.as_ref(), now).await?;
                let row = db::goals::insert(conn, &row).await?;
                db::activity::record(
                    conn,
                    NewActivity::goal(
                        &id,
                        ActivityKind::GoalCreated,
                        row.id,
                        format!("Created the goal \"{}\"", row.title),
                    ),
                    now,
                )
                .await?;
                Ok::<_, AppError>(row)
            })
            .await
            .gql()?;
        Ok(row.into())
    }

    /// Changes a goal (records `GOAL_UPDATED`, or `GOAL_COMPLETED` when it
    /// moves to COMPLETED). `NOT_FOUND` for a goal that is not the user's.
    #[graphql(guard = "SelfOrAdmin::new(auth_user_id.clone())")]
    async fn update_goal(
        &self,
        ctx: &Context<'_>,
        auth_user_id: ID,
        goal_id: ID,
        input: UpdateGoalInput,
    ) -> async_graphql::Result<LearningGoal> {
        let id = AuthUserId::parse(&auth_user_id).gql()?;
        let goal = parse_goal_id(&goal_id).gql()?;
        let update = input.validate().gql()?;
        let app = ctx.app();
        let now = app.clock.now();
        let mut conn = app.conn().await.gql()?;
        let row = conn
            .transaction(async |conn| {
                let current = db::goals::find_owned_for_update(conn, &id, goal)
                    .await?
                    .ok_or(AppError::NotFound("goal"))?;
                if update.is_empty() {
                    return Ok(current);
                }
                let row = db::goals::update_owned(conn, &id, goal, &update.to_changes(), now)
                    .await?
                    .ok_or(AppError::NotFound("goal"))?;
                let completed = update.status == Some(GoalStatus::Completed)
                    && current.status != GoalStatus::Completed.as_db();
                let (kind, verb) = if completed {
                    (ActivityKind::GoalCompleted, "Completed")
                } else {
                    (ActivityKind::GoalUpdated, "Updated")
                };
                db::activity::record(
                    conn,
                    NewActivity::goal(
                        &id,
                        kind,
                        row.id,
                        format!("{verb} the goal \"{}\"", row.title),
                    ),
                    now,
                )
                .await?;
                Ok::<_, AppError>(row)
            })
            .await
            .gql()?;
        Ok(row.into())
    }

    /// Deletes a goal and returns its id (records `GOAL_DELETED`).
    /// `NOT_FOUND` for a goal that is not the user's.
    #[graphql(guard = "SelfOrAdmin::new(auth_user_id.clone())")]
    async fn delete_goal(
        &self,
        ctx: &Context<'_>,
        auth_user_id: ID,
        goal_id: ID,
    ) -> async_graphql::Result<ID> {
        let id = AuthUserId::parse(&auth_user_id).gql()?;
        let goal = parse_goal_id(&goal_id).gql()?;
        let app = ctx.app();
        let now = app.clock.now();
        let mut conn = app.conn().await.gql()?;
        let row = conn
            .transaction(async |conn| {
                let row = db::goals::delete_owned(conn, &id, goal)
                    .await?
                    .ok_or(AppError::NotFound("goal"))?;
                db::activity::record(
                    conn,
                    NewActivity::goal(
                        &id,
                        ActivityKind::GoalDeleted,
                        row.id,
                        format!("Deleted the goal \"{}\"", row.title),
                    ),
                    now,
                )
                .await?;
                Ok::<_, AppError>(row)
            })
            .await
            .gql()?;
        Ok(ID(row.id.to_string()))
    }

    /// Checks in on a goal for today, in the user's timezone (records
    /// `GOAL_CHECKED_IN` when it counts): once a day; the day after the
    /// last check-in extends the streak, a later day restarts it at 1.
    /// Moves NOT_STARTED to IN_PROGRESS; refused on a COMPLETED goal.
    #[graphql(guard = "SelfOrAdmin::new(auth_user_id.clone())")]
    async fn check_in_goal(
        &self,
        ctx: &Context<'_>,
        auth_user_id: ID,
        goal_id: ID,
    ) -> async_graphql::Result<LearningGoal> {
        let id = AuthUserId::parse(&auth_user_id).gql()?;
        let goal = parse_goal_id(&goal_id).gql()?;
        let app = ctx.app();
        let now = app.clock.now();
        let mut conn = app.conn().await.gql()?;
        let row = conn
            .transaction(async |conn| {
                // The row lock makes concurrent check-ins of one goal count once.
                let current = db::goals::find_owned_for_update(conn, &id, goal)
                    .await?
                    .ok_or(AppError::NotFound("goal"))?;
                if current.status == GoalStatus::Completed.as_db() {
                    return Err(AppError::invalid(
                        "goalId",
                        "a completed goal takes no check-ins",
                    ));
                }
                let profile = db::profiles::find(conn, &id).await?;
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
                    status: (current.status == GoalStatus::NotStarted.as_db())
                        .then(|| GoalStatus::InProgress.as_db().to_owned()),
                    ..GoalChanges::default()
                };
                let row = db::goals::update_owned(conn, &id, goal, &changes, now)
                    .await?
                    .ok_or(AppError::NotFound("goal"))?;
                db::activity::record(
                    conn,
                    NewActivity::goal(
                        &id,
                        ActivityKind::GoalCheckedIn,
                        row.id,
                        format!(
                            "Checked in on the goal \"{}\" (streak {streak_count})",
                            row.title
                        ),
                    ),
                    now,
                )
                .await?;
                Ok::<_, AppError>(row)
            })
            .await
            .gql()?;
        Ok(row.into())
    }
}
