use async_graphql::{Context, ID, Object};

use crate::domain::AuthUserId;
use crate::error::GqlResultExt;
use crate::graphql::guard::SelfOrAdmin;
use crate::graphql::inputs::{CreateGoalInput, UpdateGoalInput};
use crate::graphql::mutation::{parse_goal_id, writer};
use crate::graphql::types::LearningGoal;
use crate::service;

/// Learning-goal mutations.
#[derive(Default)]
pub struct GoalMutation;

#[Object(cache_control(no_cache))]
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
        let row = service::goals::create(writer(ctx), &id, goal).await.gql()?;
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
        let row = service::goals::update(writer(ctx), &id, goal, update)
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
        let row = service::goals::delete(writer(ctx), &id, goal).await.gql()?;
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
        let row = service::goals::check_in(writer(ctx), &id, goal)
            .await
            .gql()?;
        Ok(row.into())
    }
}
