//! The mutation guard: the token's user must be the `authUserId` argument,
//! or hold the `admin` role.

use async_graphql::{Context, Guard, ID};

use crate::error::AppError;
use crate::graphql::ContextExt;

/// Lets a mutation through for the user themself or an admin.
pub struct SelfOrAdmin {
    auth_user_id: ID,
}

impl SelfOrAdmin {
    pub fn new(auth_user_id: ID) -> Self {
        Self { auth_user_id }
    }
}

impl Guard for SelfOrAdmin {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let viewer = ctx.viewer();
        if viewer.user().is_none() {
            return Err(AppError::Unauthenticated("authentication required").into_graphql());
        }
        if viewer.acts_for(self.auth_user_id.as_str()) {
            Ok(())
        } else {
            Err(AppError::Forbidden("you may only change your own data").into_graphql())
        }
    }
}
