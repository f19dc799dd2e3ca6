use async_graphql::{Context, ID, Object};

use crate::domain::AuthUserId;
use crate::error::GqlResultExt;
use crate::graphql::ContextExt;
use crate::graphql::guard::SelfOrAdmin;
use crate::graphql::inputs::CreateBadgeInput;
use crate::graphql::mutation::writer;
use crate::graphql::types::Badge;
use crate::service;

/// Badge mutations.
#[derive(Default)]
pub struct BadgeMutation;

#[Object(cache_control(no_cache))]
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
        let badge = input.validate(ctx.app().clock.now()).gql()?;
        let row = service::badges::create(writer(ctx), &id, badge)
            .await
            .gql()?;
        Ok(row.into())
    }
}
