//! Dataloaders: every nested list and every user lookup of a request goes
//! through one of these, so a request costs a fixed number of statements
//! however many users it touches. A fresh [`Loaders`] is built per request:
//! nothing cached crosses requests, and permission checks stay out of
//! `load` (they belong to the resolvers).
//!
//! The hot reads (`user`, `users`, `me`, entities with their badges and
//! goals) cost one pool checkout: the root resolver says which lists its
//! selection asks for ([`Loaders::want_lists`]), and the users batch reads
//! them with the users, in one statement for one user and three pipelined
//! ones for several ([`db::auth_users::find_many_with_lists`]). Those rows wait in the request's [`Prefetched`]
//! until `User.badges` / `User.goals` take them; a list not prefetched
//! goes through its own loader.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::dataloader::{DataLoader, Loader};

use crate::db::auth_users::UserRecord;
use crate::db::{
    self, Pool, activity::ActivityRow, badges::BadgeRow, goals::GoalRow, group_by_user,
    stats::StatsRow,
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
    prefetched: Arc<Prefetched>,
}

impl Loaders {
    /// Loaders over `pool` that wait `delay` for more keys before loading a
    /// batch.
    pub fn new(pool: &Pool, delay: Duration) -> Self {
        let prefetched = Arc::new(Prefetched::default());
        Self {
            users: loader(
                UsersById {
                    pool: pool.clone(),
                    prefetched: prefetched.clone(),
                },
                delay,
            ),
            badges: loader(BadgesByUser(pool.clone()), delay),
            goals: loader(GoalsByUser(pool.clone()), delay),
            stats: loader(StatsByUser(pool.clone()), delay),
            activity: loader(ActivityByUser(pool.clone()), delay),
            prefetched,
        }
    }

    /// Asks the next users batches to fetch these lists too. Root
    /// resolvers call it (from their look-ahead) before loading users.
    pub fn want_lists(&self, badges: bool, goals: bool) {
        if badges {
            self.prefetched.want_badges.store(true, Ordering::Relaxed);
        }
        if goals {
            self.prefetched.want_goals.store(true, Ordering::Relaxed);
        }
    }

    /// The badges of `user`, newest `dateAchieved` first: prefetched with
    /// the user when the request asked for them, else through the loader.
    pub async fn badges_of(&self, user: &AuthUserId) -> Result<Vec<BadgeRow>, AppError> {
        if let Some(rows) = take(&self.prefetched.badges, user) {
            return Ok(rows);
        }
        Ok(self
            .badges
            .load_one(user.clone())
            .await?
            .unwrap_or_default())
    }

    /// The goals of `user`, newest first; prefetched like [`Self::badges_of`].
    pub async fn goals_of(&self, user: &AuthUserId) -> Result<Vec<GoalRow>, AppError> {
        if let Some(rows) = take(&self.prefetched.goals, user) {
            return Ok(rows);
        }
        Ok(self.goals.load_one(user.clone()).await?.unwrap_or_default())
    }
}

/// Lists fetched with their users, for this request only (only query
/// documents ask for them, and those change nothing). The same user asked
/// twice in one document reads the same entry.
#[derive(Default)]
struct Prefetched {
    want_badges: AtomicBool,
    want_goals: AtomicBool,
    badges: Mutex<HashMap<AuthUserId, Vec<BadgeRow>>>,
    goals: Mutex<HashMap<AuthUserId, Vec<GoalRow>>>,
}

fn take<T: Clone>(map: &Mutex<HashMap<AuthUserId, Vec<T>>>, user: &AuthUserId) -> Option<Vec<T>> {
    // A poisoned map only means another resolver panicked: fall back to
    // the loader.
    map.lock().ok()?.get(user).cloned()
}

/// Stores the lists of a users batch. Unknown users get no entry: no
/// field asks for their lists.
fn stash<T>(map: &Mutex<HashMap<AuthUserId, Vec<T>>>, lists: HashMap<AuthUserId, Vec<T>>) {
    if let Ok(mut map) = map.lock() {
        map.extend(lists);
    }
}

fn loader<T>(inner: T, delay: Duration) -> DataLoader<T> {
    DataLoader::new(inner, tokio::spawn).delay(delay)
}

fn key_strs(keys: &[AuthUserId]) -> Vec<&str> {
    keys.iter().map(AuthUserId::as_str).collect()
}

/// Known users (reference row + profile) by id, and the lists the
/// request wants with them (see [`Loaders::want_lists`]).
pub struct UsersById {
    pool: Pool,
    prefetched: Arc<Prefetched>,
}

impl Loader<AuthUserId> for UsersById {
    type Value = Arc<UserRecord>;
    type Error = AppError;

    #[tracing::instrument(name = "load_users", skip_all, fields(keys = keys.len()))]
    async fn load(
        &self,
        keys: &[AuthUserId],
    ) -> Result<HashMap<AuthUserId, Self::Value>, Self::Error> {
        let want_badges = self.prefetched.want_badges.load(Ordering::Relaxed);
        let want_goals = self.prefetched.want_goals.load(Ordering::Relaxed);
        let mut conn = self.pool.get().await?;
        let users = db::auth_users::find_many_with_lists(
            &mut conn,
            &key_strs(keys),
            want_badges,
            want_goals,
        )
        .await?;
        drop(conn);
        let mut records = HashMap::with_capacity(users.len());
        let (mut badges, mut goals) = (HashMap::new(), HashMap::new());
        for user in users {
            let id = user.record.auth.auth_user_id.clone();
            if let Some(rows) = user.badges {
                badges.insert(id.clone(), rows);
            }
            if let Some(rows) = user.goals {
                goals.insert(id.clone(), rows);
            }
            records.insert(id, Arc::new(user.record));
        }
        stash(&self.prefetched.badges, badges);
        stash(&self.prefetched.goals, goals);
        Ok(records)
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
        let conn = self.0.get().await?;
        let rows = db::badges::for_users(&conn, &key_strs(keys)).await?;
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
        let conn = self.0.get().await?;
        let rows = db::goals::for_users(&conn, &key_strs(keys)).await?;
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
