use async_graphql::{Context, ID, Object};
use diesel_async::AsyncConnection;

use crate::db;
use crate::db::activity::NewActivity;
use crate::domain::{ActivityKind, AuthUserId};
use crate::error::{AppError, GqlResultExt};
use crate::graphql::ContextExt;
use crate::graphql::guard::SelfOrAdmin;
use crate::graphql::inputs::UpdateProfileInput;
use crate::graphql::types::User;

/// Profile mutations.
#[derive(Default)]
pub struct ProfileMutation;

#[Object]
impl ProfileMutation {
    /// Changes the profile: absent fields stay, explicit nulls clear.
    #[graphql(guard = "SelfOrAdmin::new(auth_user_id.clone())")]
    async fn update_profile(
        &self,
        ctx: &Context<'_>,
        auth_user_id: ID,
        input: UpdateProfileInput,
    ) -> async_graphql::Result<User> {
        let id = AuthUserId::parse(&auth_user_id).gql()?;
        let changes = input.into_changes().gql()?;
        let app = ctx.app();
        let details = app.details_if_unknown(&id).await.gql()?;
        let now = app.clock.now();
        let mut conn = app.conn().await.gql()?;
        conn.transaction(async |conn| {
            db::auth_users::ensure(conn, &id, details.as_ref(), now).await?;
            if !changes.is_empty() {
                db::profiles::update(conn, &id, &changes, now).await?;
                db::activity::record(
                    conn,
                    NewActivity::user(
                        &id,
                        ActivityKind::ProfileUpdated,
                        "Updated the profile".to_owned(),
                    ),
                    now,
                )
                .await?;
            }
            Ok::<_, AppError>(())
        })
        .await
        .gql()?;
        drop(conn);
        User::load(ctx, id).await.gql()
    }
}
