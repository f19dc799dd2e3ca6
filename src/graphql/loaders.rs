//! Dataloaders: every nested list and every user lookup of a request goes
//! through one of these, so a request costs a fixed number of statements
//! however many users it touches. A fresh [`Loaders`] is built per request:
//! nothing cached crosses requests, and permission checks stay out of
//! `load` (they belong to the resolvers).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::dataloader::{DataLoader, Loader};

use crate::db::auth_users::UserRecord;
use crate::db::{
    self, Pool, activity::ActivityRow, badges::BadgeRow, goals::GoalRow, stats::StatsRow,
};
use crate::domain::AuthUserId;
use crate::error::AppError;

/// The loaders of one request.
pub struct Loaders {
    pub users: DataLoader<UsersById>,
    pub badges: DataLoader<BadgesByUser>,
    pub goals: DataLoader<GoalsByUser>,
    pub stats: DataLoader<StatsByUser>,
    pub activity: DataLoader<ActivityByUser>,
}

impl Loaders {
    /// Loaders over `pool` that wait `delay` for more keys before loading a
    /// batch.
    pub fn new(pool: &Pool, delay: Duration) -> Self {
        Self {
            users: loader(UsersById(pool.clone()), delay),
            badges: loader(BadgesByUser(pool.clone()), delay),
            goals: loader(GoalsByUser(pool.clone()), delay),
            stats: loader(StatsByUser(pool.clone()), delay),
            activity: loader(ActivityByUser(pool.clone()), delay),
        }
    }
}

fn loader<T>(inner: T, delay: Duration) -> DataLoader<T> {
    DataLoader::new(inner, tokio::spawn).delay(delay)
}

fn key_strs(keys: &[AuthUserId]) -> Vec<&str> {
    keys.iter().map(AuthUserId::as_str).collect()
}

/// Groups rows by their user id.
fn group_by_user<T>(
    rows: Vec<T>,
    user_of: impl Fn(&T) -> &AuthUserId,
) -> HashMap<AuthUserId, Vec<T>> {
    let mut grouped: HashMap<AuthUserId, Vec<T>> = HashMap::new();
    for row in rows {
        grouped.entry(user_of(&row).clone()).or_default().push(row);
    }
    grouped
}

/// Known users (reference row + profile) by id.
pub struct UsersById(Pool);

impl Loader<AuthUserId> for UsersById {
    type Value = Arc<UserRecord>;
    type Error = AppError;

    #[tracing::instrument(name = "load_users", skip_all, fields(keys = keys.len()))]
    async fn load(
        &self,
        keys: &[AuthUserId],
    ) -> Result<HashMap<AuthUserId, Self::Value>, Self::Error> {
        let mut conn = self.0.get().await?;
        let records = db::auth_users::find_many(&mut conn, &key_strs(keys)).await?;
        Ok(records
            .into_iter()
            .map(|record| (record.auth.auth_user_id.clone(), Arc::new(record)))
            .collect())
    }
}

/// Each user's badges, newest `dateAchieved` first.
pub struct BadgesByUser(Pool);

impl Loader<AuthUserId> for BadgesByUser {
    type Value = Vec<BadgeRow>;
    type Error = AppError;

    #[tracing::instrument(name = "load_badges", skip_all, fields(keys = keys.len()))]
    async fn load(
        &self,
        keys: &[AuthUserId],
    ) -> Result<HashMap<AuthUserId, Self::Value>, Self::Error> {
        let mut conn = self.0.get().await?;
        let rows = db::badges::for_users(&mut conn, &key_strs(keys)).await?;
        Ok(group_by_user(rows, |row| &row.auth_user_id))
    }
}

/// Each user's goals, newest first.
pub struct GoalsByUser(Pool);

impl Loader<AuthUserId> for GoalsByUser {
    type Value = Vec<GoalRow>;
    type Error = AppError;

    #[tracing::instrument(name = "load_goals", skip_all, fields(keys = keys.len()))]
    async fn load(
        &self,
        keys: &[AuthUserId],
    ) -> Result<HashMap<AuthUserId, Self::Value>, Self::Error> {
        let mut conn = self.0.get().await?;
        let rows = db::goals::for_users(&mut conn, &key_strs(keys)).await?;
        Ok(group_by_user(rows, |row| &row.auth_user_id))
    }
}

/// Each user's statistics, one aggregate statement per batch.
pub struct StatsByUser(Pool);

impl Loader<AuthUserId> for StatsByUser {
    type Value = StatsRow;
    type Error = AppError;

    #[tracing::instrument(name = "load_stats", skip_all, fields(keys = keys.len()))]
    async fn load(
        &self,
        keys: &[AuthUserId],
    ) -> Result<HashMap<AuthUserId, Self::Value>, Self::Error> {
        let mut conn = self.0.get().await?;
        let rows = db::stats::for_users(&mut conn, &key_strs(keys)).await?;
        Ok(group_by_user(rows, |row| &row.auth_user_id)
            .into_iter()
            .filter_map(|(id, mut rows)| Some((id, rows.pop()?)))
            .collect())
    }
}

/// A user and how many of their latest activity events to load.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ActivityKey {
    pub user: AuthUserId,
    pub first: i64,
}

/// Each user's latest activity events, newest first. Keys asking for
/// different counts share one statement (the largest count, cut per key).
pub struct ActivityByUser(Pool);

impl Loader<ActivityKey> for ActivityByUser {
    type Value = Vec<ActivityRow>;
    type Error = AppError;

    #[tracing::instrument(name = "load_activity", skip_all, fields(keys = keys.len()))]
    async fn load(
        &self,
        keys: &[ActivityKey],
    ) -> Result<HashMap<ActivityKey, Self::Value>, Self::Error> {
        let most = keys.iter().map(|key| key.first).max().unwrap_or(0);
        let users: Vec<&str> = keys.iter().map(|key| key.user.as_str()).collect();
        let mut conn = self.0.get().await?;
        let rows = db::activity::latest_for_users(&mut conn, &users, most).await?;
        drop(conn);
        let by_user = group_by_user(rows, |row| &row.auth_user_id);
        Ok(keys
            .iter()
            .map(|key| {
                let rows = by_user.get(&key.user).map_or_else(Vec::new, |rows| {
                    rows.iter()
                        .take(usize::try_from(key.first).unwrap_or(0))
                        .cloned()
                        .collect()
                });
                (key.clone(), rows)
            })
            .collect())
    }
}
