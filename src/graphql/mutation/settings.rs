use async_graphql::{Context, ID, Object};
use diesel_async::AsyncConnection;

use crate::db;
use crate::db::activity::NewActivity;
use crate::domain::{ActivityKind, AuthUserId, Plan};
use crate::error::{AppError, GqlResultExt};
use crate::graphql::ContextExt;
use crate::graphql::guard::SelfOrAdmin;
use crate::graphql::inputs::UpdatePreferencesInput;
use crate::graphql::types::{User, UserPreferences};

/// Preference and plan mutations.
#[derive(Default)]
pub struct SettingsMutation;

#[Object]
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
        let app = ctx.app();
        let details = app.details_if_unknown(&id).await.gql()?;
        let now = app.clock.now();
        let mut conn = app.conn().await.gql()?;
        let profile = conn
            .transaction(async |conn| {
                db::auth_users::ensure(conn, &id, details.as_ref(), now).await?;
                if changes.is_empty() {
                    return Ok(db::profiles::find(conn, &id).await?);
                }
                let profile = db::profiles::update_preferences(conn, &id, &changes, now).await?;
                db::activity::record(
                    conn,
                    NewActivity::user(
                        &id,
                        ActivityKind::PreferencesUpdated,
                        "Updated the preferences".to_owned(),
                    ),
                    now,
                )
                .await?;
                Ok::<_, AppError>(profile)
            })
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
        let app = ctx.app();
        let details = app.details_if_unknown(&id).await.gql()?;
        let now = app.clock.now();
        let mut conn = app.conn().await.gql()?;
        conn.transaction(async |conn| {
            db::auth_users::ensure(conn, &id, details.as_ref(), now).await?;
            let current = db::profiles::find(conn, &id).await?;
            if current.plan == plan.as_db() {
                return Ok(());
            }
            db::profiles::set_plan(conn, &id, plan.as_db(), now).await?;
            db::activity::record(
                conn,
                NewActivity::user(
                    &id,
                    ActivityKind::PlanChanged,
                    format!("Changed plan to {}", plan.as_db()),
                ),
                now,
            )
            .await?;
            Ok::<_, AppError>(())
        })
        .await
        .gql()?;
        drop(conn);
        User::load(ctx, id).await.gql()
    }
}
