//! The read side: `me`, `user`, `users`.

use async_graphql::{Context, ID, Object};

use crate::domain::AuthUserId;
use crate::error::{AppError, GqlResultExt};
use crate::graphql::ContextExt;
use crate::graphql::types::User;

/// Most ids `users` accepts.
pub const MAX_USERS_PER_QUERY: usize = 100;

/// User lookups.
#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// The user the token belongs to. A user the service has not met yet is
    /// created from the token (and the auth-service, when it answers).
    /// `UNAUTHENTICATED` without a token.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        let viewer = ctx
            .viewer()
            .user()
            .ok_or(AppError::Unauthenticated("authentication required"))
            .gql()?;
        let id = viewer.id.clone();
        User::want_lists(ctx).gql()?;
        let user = User::load(ctx, id.clone()).await.gql()?;
        if user.is_known() {
            return Ok(user);
        }
        ctx.app().ensure_user(&id).await.gql()?;
        User::load(ctx, id).await.gql()
    }

    /// The user with this id, or null when the service does not know them.
    async fn user(
        &self,
        ctx: &Context<'_>,
        auth_user_id: ID,
    ) -> async_graphql::Result<Option<User>> {
        let id = AuthUserId::parse(&auth_user_id).gql()?;
        User::want_lists(ctx).gql()?;
        let user = User::load(ctx, id).await.gql()?;
        Ok(user.is_known().then_some(user))
    }

    /// The users with these ids, in the order asked, null for unknown ids.
    /// At most 100 ids.
    async fn users(
        &self,
        ctx: &Context<'_>,
        auth_user_ids: Vec<ID>,
    ) -> async_graphql::Result<Vec<Option<User>>> {
        if auth_user_ids.len() > MAX_USERS_PER_QUERY {
            return Err(AppError::invalid(
                "authUserIds",
                format!("at most {MAX_USERS_PER_QUERY} ids are allowed"),
            ))
            .gql();
        }
        let ids = auth_user_ids
            .iter()
            .map(|id| AuthUserId::parse_field(id, "authUserIds"))
            .collect::<Result<Vec<_>, _>>()
            .gql()?;
        User::want_lists(ctx).gql()?;
        let records = ctx
            .loaders()
            .gql()?
            .users
            .load_many(ids.iter().cloned())
            .await
            .gql()?;
        Ok(ids
            .into_iter()
            .map(|id| {
                let record = records.get(&id).cloned();
                record.map(|record| User::new(ctx, id, Some(record)))
            })
            .collect())
    }

    /// Federation: the `User` entity for a gateway reference. Any
    /// well-formed `authUserId` resolves (an unknown one to a user with
    /// defaults, since the gateway vouches for it); a malformed one is null
    /// rather than failing the whole `_entities` batch. Batched through the
    /// same loader as `users`.
    #[graphql(entity)]
    async fn find_user_by_auth_user_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(key)] auth_user_id: ID,
    ) -> async_graphql::Result<Option<User>> {
        let Ok(id) = AuthUserId::parse(&auth_user_id) else {
            return Ok(None);
        };
        User::want_lists(ctx).gql()?;
        User::load(ctx, id).await.map(Some).gql()
    }
}
