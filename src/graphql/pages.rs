//! Relay connections of a user's lists: `goalsConnection`,
//! `badgesConnection` and `activityConnection`, each with `totalCount`.
//!
//! Pages are keyset pages on the listing's index order, newest first (see
//! [`crate::db::pages`]); a cursor is the position (timestamp and id) of
//! its edge, HMAC-signed with [`CursorKey`] and bound to the listing, the
//! user and the filter, so a forged cursor, or one from another listing,
//! is `BAD_USER_INPUT`. Pages and counts go through the request's
//! [`PageLoaders`]: any number of users' pages cost one statement per
//! listing (and one more per listing for `totalCount`).

use std::collections::HashMap;
use std::time::Duration;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{ComplexObject, Context, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::activity::ActivityRow;
use crate::db::badges::BadgeRow;
use crate::db::goals::GoalRow;
use crate::db::pages::{self, CountQuery, Listing, PageQuery, Position};
use crate::db::{self, Pool};
use crate::domain::{ActivityKind, AuthUserId, GoalStatus};
use crate::error::{AppError, AppResult, GqlResultExt};
use crate::graphql::cursor::CursorKey;
use crate::graphql::types::{ActivityEvent, Badge, LearningGoal, PageInfo};

/// Largest page of a connection.
pub const MAX_PAGE: i32 = 100;

/// The page and count loaders of one request (or one subscription
/// connection: they cache nothing).
pub struct PageLoaders {
    goals: DataLoader<Pages<GoalRow>>,
    badges: DataLoader<Pages<BadgeRow>>,
    activity: DataLoader<Pages<ActivityRow>>,
    totals: DataLoader<Totals>,
}

impl PageLoaders {
    /// Loaders over `pool` that wait `delay` for more keys.
    pub fn new(pool: &Pool, delay: Duration) -> Self {
        Self {
            goals: pages_loader(pool, Listing::Goals, delay),
            badges: pages_loader(pool, Listing::Badges, delay),
            activity: pages_loader(pool, Listing::Activity, delay),
            totals: DataLoader::new(Totals(pool.clone()), tokio::spawn).delay(delay),
        }
    }
}

fn pages_loader<R: PagedRow>(
    pool: &Pool,
    listing: Listing,
    delay: Duration,
) -> DataLoader<Pages<R>> {
    let pages = Pages {
        pool: pool.clone(),
        listing,
        rows: std::marker::PhantomData,
    };
    DataLoader::new(pages, tokio::spawn).delay(delay)
}

/// One page asked for: the listing's owner, filter, position and size
/// (one more than the page, to know whether another follows).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    user: AuthUserId,
    filter: Option<String>,
    after: Option<Position>,
    limit: i64,
}

/// A listing whose rows a [`Pages`] loader reads.
pub trait PagedRow: Clone + Send + Sync + 'static {
    fn load<'a>(
        conn: &'a mut diesel_async::AsyncPgConnection,
        pages: &'a [PageQuery<'a>],
    ) -> impl Future<Output = diesel::QueryResult<Vec<Vec<Self>>>> + Send + 'a;
}

impl PagedRow for GoalRow {
    fn load<'a>(
        conn: &'a mut diesel_async::AsyncPgConnection,
        pages: &'a [PageQuery<'a>],
    ) -> impl Future<Output = diesel::QueryResult<Vec<Vec<Self>>>> + Send + 'a {
        db::pages::goal_pages(conn, pages)
    }
}

impl PagedRow for BadgeRow {
    fn load<'a>(
        conn: &'a mut diesel_async::AsyncPgConnection,
        pages: &'a [PageQuery<'a>],
    ) -> impl Future<Output = diesel::QueryResult<Vec<Vec<Self>>>> + Send + 'a {
        db::pages::badge_pages(conn, pages)
    }
}

impl PagedRow for ActivityRow {
    fn load<'a>(
        conn: &'a mut diesel_async::AsyncPgConnection,
        pages: &'a [PageQuery<'a>],
    ) -> impl Future<Output = diesel::QueryResult<Vec<Vec<Self>>>> + Send + 'a {
        db::pages::activity_pages(conn, pages)
    }
}

/// Pages of one listing, any number of them in one statement.
pub struct Pages<R> {
    pool: Pool,
    listing: Listing,
    rows: std::marker::PhantomData<fn() -> R>,
}

impl<R: PagedRow> Loader<PageKey> for Pages<R> {
    type Value = Vec<R>;
    type Error = AppError;

    #[tracing::instrument(name = "load_pages", skip_all, fields(listing = ?self.listing, keys = keys.len()))]
    async fn load(&self, keys: &[PageKey]) -> Result<HashMap<PageKey, Self::Value>, Self::Error> {
        let queries: Vec<PageQuery<'_>> = keys
            .iter()
            .map(|key| PageQuery {
                user: key.user.as_str(),
                filter: key.filter.as_deref(),
                after: key.after,
                limit: key.limit,
            })
            .collect();
        let mut conn = self.pool.get().await?;
        let pages = R::load(&mut conn, &queries).await?;
        drop(conn);
        Ok(keys.iter().cloned().zip(pages).collect())
    }
}

/// A listing's row count for a user and filter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TotalKey {
    listing: Listing,
    user: AuthUserId,
    filter: Option<String>,
}

/// Row counts, one statement per listing in a batch.
pub struct Totals(Pool);

impl Loader<TotalKey> for Totals {
    type Value = i64;
    type Error = AppError;

    #[tracing::instrument(name = "load_totals", skip_all, fields(keys = keys.len()))]
    async fn load(&self, keys: &[TotalKey]) -> Result<HashMap<TotalKey, i64>, Self::Error> {
        let mut conn = self.0.get().await?;
        let mut answers = HashMap::new();
        for listing in [Listing::Goals, Listing::Badges, Listing::Activity] {
            let of_listing: Vec<&TotalKey> =
                keys.iter().filter(|key| key.listing == listing).collect();
            if of_listing.is_empty() {
                continue;
            }
            let queries: Vec<CountQuery<'_>> = of_listing
                .iter()
                .map(|key| CountQuery {
                    user: key.user.as_str(),
                    filter: key.filter.as_deref(),
                })
                .collect();
            let totals = pages::totals(&mut conn, listing, &queries).await?;
            answers.extend(of_listing.into_iter().cloned().zip(totals));
        }
        Ok(answers)
    }
}

/// What a connection field was asked for, checked.
struct PageRequest {
    key: PageKey,
    first: usize,
    scope: String,
}

fn scope_of(listing: Listing, user: &AuthUserId, filter: Option<&str>) -> String {
    format!(
        "{listing:?}\u{0}{}\u{0}{}",
        user.as_str(),
        filter.unwrap_or("")
    )
}

fn encode_position((at, id): Position) -> String {
    format!("{}:{id}", at.timestamp_micros())
}

fn decode_position(text: &str) -> Option<Position> {
    let (micros, id) = text.split_once(':')?;
    let at = DateTime::<Utc>::from_timestamp_micros(micros.parse().ok()?)?;
    Some((at, Uuid::parse_str(id).ok()?))
}

fn page_request(
    ctx: &Context<'_>,
    listing: Listing,
    user: &AuthUserId,
    filter: Option<String>,
    first: i32,
    after: Option<&str>,
) -> AppResult<PageRequest> {
    if !(0..=MAX_PAGE).contains(&first) {
        return Err(AppError::invalid(
            "first",
            format!("first must be between 0 and {MAX_PAGE}"),
        ));
    }
    let scope = scope_of(listing, user, filter.as_deref());
    let after = match after {
        None => None,
        Some(cursor) => {
            let position = cursor_key(ctx)?.decode_position(&scope, cursor)?;
            Some(decode_position(&position).ok_or_else(|| {
                AppError::invalid("after", "the cursor is not valid for this listing")
            })?)
        }
    };
    let first = usize::try_from(first).unwrap_or(0);
    Ok(PageRequest {
        key: PageKey {
            user: user.clone(),
            filter,
            after,
            limit: i64::try_from(first).unwrap_or(0) + 1,
        },
        first,
        scope,
    })
}

fn cursor_key<'c>(ctx: &Context<'c>) -> AppResult<&'c CursorKey> {
    ctx.data_opt::<CursorKey>()
        .ok_or_else(|| AppError::internal(MissingPageData("cursor key")))
}

fn page_loaders<'c>(ctx: &Context<'c>) -> AppResult<&'c PageLoaders> {
    ctx.data_opt::<PageLoaders>()
        .ok_or_else(|| AppError::internal(MissingPageData("page loaders")))
}

#[derive(Debug, thiserror::Error)]
#[error("request data {0} is missing")]
struct MissingPageData(&'static str);

/// The rows of a page, its edges' cursors and its page info.
async fn load_page<R: PagedRow>(
    ctx: &Context<'_>,
    loader: &DataLoader<Pages<R>>,
    request: PageRequest,
    visible: bool,
    position: impl Fn(&R) -> Position,
) -> AppResult<(Vec<(String, R)>, PageInfo)> {
    let mut rows = if visible {
        loader
            .load_one(request.key.clone())
            .await?
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let has_next_page = rows.len() > request.first;
    rows.truncate(request.first);
    let cursors = cursor_key(ctx)?;
    let edges: Vec<(String, R)> = rows
        .into_iter()
        .map(|row| {
            let cursor = cursors.encode_position(&request.scope, &encode_position(position(&row)));
            (cursor, row)
        })
        .collect();
    let page_info = PageInfo {
        has_next_page,
        end_cursor: edges.last().map(|(cursor, _)| cursor.clone()),
    };
    Ok((edges, page_info))
}

fn total_key(listing: Listing, request: &PageRequest, visible: bool) -> Option<TotalKey> {
    visible.then(|| TotalKey {
        listing,
        user: request.key.user.clone(),
        filter: request.key.filter.clone(),
    })
}

async fn total_count(ctx: &Context<'_>, key: Option<&TotalKey>) -> async_graphql::Result<i32> {
    let Some(key) = key else { return Ok(0) };
    let total = page_loaders(ctx)
        .gql()?
        .totals
        .load_one(key.clone())
        .await
        .gql()?
        .unwrap_or(0);
    Ok(i32::try_from(total).unwrap_or(i32::MAX))
}

/// A page of `user`'s goals, newest first, optionally only those with
/// `status`; empty (and counted 0) when not `visible`.
pub async fn goals(
    ctx: &Context<'_>,
    user: &AuthUserId,
    visible: bool,
    first: i32,
    after: Option<&str>,
    status: Option<GoalStatus>,
) -> AppResult<GoalConnection> {
    let filter = status.map(|status| status.as_db().to_owned());
    let request = page_request(ctx, Listing::Goals, user, filter, first, after)?;
    let total = total_key(Listing::Goals, &request, visible);
    let loader = &page_loaders(ctx)?.goals;
    let (edges, page_info) = load_page(ctx, loader, request, visible, |row| {
        (row.created_at, row.id)
    })
    .await?;
    Ok(GoalConnection {
        edges: edges
            .into_iter()
            .map(|(cursor, row)| GoalEdge {
                cursor,
                node: row.into(),
            })
            .collect(),
        page_info,
        total,
    })
}

/// A page of `user`'s badges, newest `dateAchieved` first.
pub async fn badges(
    ctx: &Context<'_>,
    user: &AuthUserId,
    visible: bool,
    first: i32,
    after: Option<&str>,
) -> AppResult<BadgeConnection> {
    let request = page_request(ctx, Listing::Badges, user, None, first, after)?;
    let total = total_key(Listing::Badges, &request, visible);
    let loader = &page_loaders(ctx)?.badges;
    let (edges, page_info) = load_page(ctx, loader, request, visible, |row| {
        (row.date_achieved, row.id)
    })
    .await?;
    Ok(BadgeConnection {
        edges: edges
            .into_iter()
            .map(|(cursor, row)| BadgeEdge {
                cursor,
                node: row.into(),
            })
            .collect(),
        page_info,
        total,
    })
}

/// A page of `user`'s activity, newest first, optionally only `kinds`.
pub async fn activity(
    ctx: &Context<'_>,
    user: &AuthUserId,
    visible: bool,
    first: i32,
    after: Option<&str>,
    kinds: Option<Vec<ActivityKind>>,
) -> AppResult<ActivityConnection> {
    let filter = kinds.map(|kinds| {
        let mut names: Vec<&str> = kinds.iter().map(|kind| kind.as_db()).collect();
        names.sort_unstable();
        names.dedup();
        names.join(",")
    });
    let request = page_request(ctx, Listing::Activity, user, filter, first, after)?;
    let total = total_key(Listing::Activity, &request, visible);
    let loader = &page_loaders(ctx)?.activity;
    let (edges, page_info) = load_page(ctx, loader, request, visible, |row| {
        (row.occurred_at, row.id)
    })
    .await?;
    Ok(ActivityConnection {
        edges: edges
            .into_iter()
            .map(|(cursor, row)| ActivityEdge {
                cursor,
                node: row.into(),
            })
            .collect(),
        page_info,
        total,
    })
}

/// A goal in a page, with its cursor.
#[derive(SimpleObject)]
pub struct GoalEdge {
    /// Opaque position of this edge.
    pub cursor: String,
    /// The goal.
    pub node: LearningGoal,
}

/// A page of a user's goals, newest first.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct GoalConnection {
    /// The goals of this page.
    pub edges: Vec<GoalEdge>,
    /// How to get the next page.
    pub page_info: PageInfo,
    #[graphql(skip)]
    total: Option<TotalKey>,
}

#[ComplexObject]
impl GoalConnection {
    /// How many goals the listing (with its filter) holds in all.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        total_count(ctx, self.total.as_ref()).await
    }
}

/// A badge in a page, with its cursor.
#[derive(SimpleObject)]
pub struct BadgeEdge {
    /// Opaque position of this edge.
    pub cursor: String,
    /// The badge.
    pub node: Badge,
}

/// A page of a user's badges, newest `dateAchieved` first.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct BadgeConnection {
    /// The badges of this page.
    pub edges: Vec<BadgeEdge>,
    /// How to get the next page.
    pub page_info: PageInfo,
    #[graphql(skip)]
    total: Option<TotalKey>,
}

#[ComplexObject]
impl BadgeConnection {
    /// How many badges the user holds in all.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        total_count(ctx, self.total.as_ref()).await
    }
}

/// An activity event in a page, with its cursor.
#[derive(SimpleObject)]
pub struct ActivityEdge {
    /// Opaque position of this edge.
    pub cursor: String,
    /// The event.
    pub node: ActivityEvent,
}

/// A page of a user's activity, newest first.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ActivityConnection {
    /// The events of this page.
    pub edges: Vec<ActivityEdge>,
    /// How to get the next page.
    pub page_info: PageInfo,
    #[graphql(skip)]
    total: Option<TotalKey>,
}

#[ComplexObject]
impl ActivityConnection {
    /// How many events the listing (with its filter) holds in all.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        total_count(ctx, self.total.as_ref()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_to_the_microsecond() {
        let at = DateTime::<Utc>::from_timestamp_micros(1_790_000_000_123_456).unwrap();
        let id = Uuid::now_v7();
        assert_eq!(decode_position(&encode_position((at, id))), Some((at, id)));
        for bad in ["", "1", "x:y", "1:not-a-uuid", ":"] {
            assert_eq!(decode_position(bad), None, "{bad:?}");
        }
    }
}
