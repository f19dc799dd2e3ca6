//! The read side: `me`, `user`, `users`.

use std::collections::{HashMap, HashSet};

use async_graphql::{Context, ID, Object};

use crate::domain::AuthUserId;
use crate::error::{AppError, GqlResultExt};
use crate::graphql::ContextExt;
use crate::graphql::mutation::writer;
use crate::graphql::types::User;
use crate::service;

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
    #[graphql(cache_control(private))]
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
        service::users::ensure(writer(ctx), &id).await.gql()?;
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
        // Each distinct id is loaded once, however often it is asked for,
        // and its duplicates share one `User` (clones share what it loads).
        let distinct: HashSet<&AuthUserId> = ids.iter().collect();
        let records = ctx
            .loaders()
            .gql()?
            .users
            .load_many(distinct.into_iter().cloned())
            .await
            .gql()?;
        let mut users: HashMap<&AuthUserId, Option<User>> = HashMap::new();
        Ok(ids
            .iter()
            .map(|id| {
                users
                    .entry(id)
                    .or_insert_with(|| {
                        records
                            .get(id)
                            .cloned()
                            .map(|record| User::new(ctx, id.clone(), Some(record)))
                    })
                    .clone()
            })
            .collect())
    }

    /// Federation: the `User` entity for a gateway reference. Any
    /// well-formed `authUserId` resolves (an unknown one to a user with
    /// defaults, since the gateway vouches for it). A malformed one is null
    /// in the list, with a `BAD_USER_INPUT` error at its index, rather than
    /// failing the whole `_entities` batch. Batched through the same loader
    /// as `users`.
    #[graphql(entity)]
    async fn find_user_by_auth_user_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(key)] auth_user_id: ID,
    ) -> async_graphql::Result<Option<User>> {
        let id = match AuthUserId::parse_field(&auth_user_id, "authUserId") {
            Ok(id) => id,
            Err(error) => {
                report_malformed_entity(ctx, &auth_user_id, error);
                return Ok(None);
            }
        };
        User::want_lists(ctx).gql()?;
        User::load(ctx, id).await.map(Some).gql()
    }
}

/// Adds a `BAD_USER_INPUT` error for a malformed entity key, with the path
/// of its representation (`["_entities", index]`), while the other entities
/// are answered.
fn report_malformed_entity(ctx: &Context<'_>, auth_user_id: &ID, error: AppError) {
    let index = ctx
        .param_value::<Vec<async_graphql::Any>>("representations", None)
        .ok()
        .and_then(|(_, representations)| {
            representations.iter().position(|representation| {
                matches!(
                    &representation.0,
                    async_graphql::Value::Object(fields)
                        if fields.get("authUserId")
                            == Some(&async_graphql::Value::String(auth_user_id.to_string()))
                )
            })
        });
    let mut server_error =
        async_graphql::ErrorExtensions::extend(&error).into_server_error(ctx.item.pos);
    server_error.path = vec![async_graphql::PathSegment::Field("_entities".to_owned())];
    if let Some(index) = index {
        server_error
            .path
            .push(async_graphql::PathSegment::Index(index));
    }
    ctx.add_error(server_error);
}
