use async_graphql::{Context, ID, Object};

use crate::domain::{AuthUserId, Plan};
use crate::error::{AppError, GqlResultExt};
use crate::graphql::ContextExt;
use crate::graphql::guard::SelfOrAdmin;
use crate::graphql::inputs::UpdatePreferencesInput;
use crate::graphql::mutation::writer;
use crate::graphql::types::{User, UserPreferences};
use crate::service;

/// Preference and plan mutations.
#[derive(Default)]
pub struct SettingsMutation;

#[Object(cache_control(no_cache))]
impl SettingsMutation {
    /// Changes the preferences (records `PREFERENCES_UPDATED`); absent
    /// fields stay.
    #[graphql(guard = "SelfOrAdmin::new(auth_user_id.clone())")]
    async fn update_preferences(
        &self,
        ctx: &Context<'_>,
        auth_user_id: ID,
        input: UpdatePreferencesInput,
    ) -> async_graphql::Result<UserPreferences> {
        let id = AuthUserId::parse(&auth_user_id).gql()?;
        let changes = input.into_changes().gql()?;
        let profile = service::settings::update_preferences(writer(ctx), &id, changes)
            .await
            .gql()?;
        Ok(UserPreferences::from(&profile))
    }

    /// Changes the plan (records `PLAN_CHANGED`). Moving to PREMIUM needs
    /// the `admin` role (billing holds such a token); a user may move
    /// themself back to FREE.
    #[graphql(guard = "SelfOrAdmin::new(auth_user_id.clone())")]
    async fn change_plan(
        &self,
        ctx: &Context<'_>,
        auth_user_id: ID,
        plan: Plan,
    ) -> async_graphql::Result<User> {
        if plan == Plan::Premium && !ctx.viewer().is_admin() {
            return Err(AppError::Forbidden(
                "only billing (an admin) can grant PREMIUM",
            ))
            .gql();
        }
        let id = AuthUserId::parse(&auth_user_id).gql()?;
        service::settings::change_plan(writer(ctx), &id, plan)
            .await
            .gql()?;
        User::load(ctx, id).await.gql()
    }
}
