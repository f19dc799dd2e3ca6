use async_graphql::{Context, ID, Object};
use diesel_async::AsyncConnection;
use uuid::Uuid;

use crate::db;
use crate::db::activity::NewActivity;
use crate::db::badges::BadgeRow;
use crate::domain::{ActivityKind, AuthUserId};
use crate::error::{AppError, GqlResultExt};
use crate::graphql::ContextExt;
use crate::graphql::guard::SelfOrAdmin;
use crate::graphql::inputs::CreateBadgeInput;
use crate::graphql::types::Badge;

/// Badge mutations.
#[derive(Default)]
pub struct BadgeMutation;

#[Object]
impl BadgeMutation {
    /// Awards a badge (records `BADGE_EARNED`).
    #[graphql(guard = "SelfOrAdmin::new(auth_user_id.clone())")]
    async fn create_badge(
        &self,
        ctx: &Context<'_>,
        auth_user_id: ID,
        input: CreateBadgeInput,
    ) -> async_graphql::Result<Badge> {
        let id = AuthUserId::parse(&auth_user_id).gql()?;
        let app = ctx.app();
        let now = app.clock.now();
        let badge = input.validate(now).gql()?;
        let details = app.details_if_unknown(&id).await.gql()?;
        let row = BadgeRow {
            id: Uuid::now_v7(),
            auth_user_id: id.as_str().to_owned(),
            name: badge.name,
            description: badge.description,
            icon_url: badge.icon_url,
            date_achieved: badge.date_achieved,
            created_at: now,
        };
        let mut conn = app.conn().await.gql()?;
        let row = conn
            .transaction(async |conn| {
                db::auth_users::ensure(conn, &id, details.as_ref(), now).await?;
                let row = db::badges::insert(conn, &row).await?;
                db::activity::record(
                    conn,
                    NewActivity::badge(
                        &id,
                        ActivityKind::BadgeEarned,
                        row.id,
                        format!("Earned the badge \"{}\"", row.name),
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
