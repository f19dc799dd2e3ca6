use async_graphql::{Context, ID, Object};

use crate::domain::AuthUserId;
use crate::error::GqlResultExt;
use crate::graphql::guard::SelfOrAdmin;
use crate::graphql::inputs::UpdateProfileInput;
use crate::graphql::mutation::writer;
use crate::graphql::types::User;
use crate::service;

/// Profile mutations.
#[derive(Default)]
pub struct ProfileMutation;

#[Object(cache_control(no_cache))]
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
        service::profile::update(writer(ctx), &id, changes)
            .await
            .gql()?;
        User::load(ctx, id).await.gql()
    }
}
