//! `searchUsers`: PREMIUM users and admins find public profiles by
//! username, display name or skill.

use async_graphql::{Context, Object};

use crate::db;
use crate::domain::{AuthUserId, Plan};
use crate::error::{AppError, AppResult, GqlResultExt};
use crate::graphql::ContextExt;
use crate::graphql::cursor::CursorKey;
use crate::graphql::types::{PageInfo, User, UserConnection, UserEdge};

/// Largest page `searchUsers` returns.
pub const MAX_SEARCH_PAGE: i32 = 50;
/// Longest search term.
pub const MAX_SEARCH_TERM: usize = 100;

/// User search.
#[derive(Default)]
pub struct SearchQuery;

/// The search term: trimmed, 1 to 100 characters, no control characters.
fn search_term(query: &str) -> AppResult<String> {
    let term = query.trim();
    if term.is_empty() || term.chars().count() > MAX_SEARCH_TERM {
        return Err(AppError::invalid(
            "query",
            format!("query must be 1 to {MAX_SEARCH_TERM} characters"),
        ));
    }
    if term.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "query",
            "query must not contain control characters",
        ));
    }
    Ok(term.to_owned())
}

#[Object]
impl SearchQuery {
    /// Public profiles whose username, display name or a skill contains
    /// `query` (case-insensitive; `%`, `_` and `\` match literally), in
    /// pages of `first` (at most 50) after the cursor `after`. PRIVATE
    /// profiles are never returned. For PREMIUM users and admins:
    /// `UNAUTHENTICATED` without a token, `FORBIDDEN` on the FREE plan.
    #[graphql(cache_control(private))]
    async fn search_users(
        &self,
        ctx: &Context<'_>,
        query: String,
        #[graphql(default = 20, desc = "Page size, 0 to 50.")] first: i32,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<UserConnection> {
        let viewer = ctx
            .viewer()
            .user()
            .ok_or(AppError::Unauthenticated("authentication required"))
            .gql()?;
        let loaders = ctx.loaders().gql()?;
        if !viewer.admin {
            let record = loaders.users.load_one(viewer.id.clone()).await.gql()?;
            let plan = record.map_or_else(Plan::default, |record| record.profile.plan);
            if plan != Plan::Premium {
                return Err(AppError::Forbidden("searchUsers needs the PREMIUM plan")).gql();
            }
        }
        if !(0..=MAX_SEARCH_PAGE).contains(&first) {
            return Err(AppError::invalid(
                "first",
                format!("first must be between 0 and {MAX_SEARCH_PAGE}"),
            ))
            .gql();
        }
        let term = search_term(&query).gql()?;
        let app = ctx.app();
        let cursors = ctx.data_unchecked::<CursorKey>();
        let after = after
            .map(|cursor| cursors.decode(&term, &cursor))
            .transpose()
            .gql()?;
        let mut records = {
            let mut conn = app.conn().await.gql()?;
            db::search::public_users_matching(
                &mut conn,
                &term,
                after.as_ref().map(AuthUserId::as_str),
                i64::from(first) + 1,
            )
            .await
            .gql()?
        };
        let has_next_page = records.len() > usize::try_from(first).unwrap_or(0);
        records.truncate(usize::try_from(first).unwrap_or(0));
        let edges: Vec<UserEdge> = records
            .into_iter()
            .map(|record| {
                let id = record.auth.auth_user_id.clone();
                UserEdge {
                    cursor: cursors.encode(&term, &id),
                    node: User::new(ctx, id, Some(std::sync::Arc::new(record))),
                }
            })
            .collect();
        Ok(UserConnection {
            page_info: PageInfo {
                has_next_page,
                end_cursor: edges.last().map(|edge| edge.cursor.clone()),
            },
            edges,
        })
    }
}
