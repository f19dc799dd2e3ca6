//! Asking the auth-service again for users first met while it could not
//! answer. Such a user's reference row was made for their token with
//! `username` null (contract §7); without this task it would stay null
//! until an event arrives.
//!
//! Every [`UsernameRefreshSettings::interval`] the task walks the rows
//! whose username is unknown (made for a token, never described by an
//! event), at most [`UsernameRefreshSettings::batch`] a round, in id order
//! and round-robin, and looks each up. While the circuit breaker is open
//! it asks nothing; it goes back to work once the breaker lets lookups
//! through. A user the auth-service does not know (404), or could not
//! answer for, is asked again with jittered exponential backoff (`backon`)
//! from one interval up to [`UsernameRefreshSettings::max_backoff`]; that
//! backoff is kept in memory, per process.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use tokio_util::sync::CancellationToken;

use crate::clients::auth_service::{AuthServiceClient, Lookup};
use crate::clock::SharedClock;
use crate::db::Pool;
use crate::db::auth_users;
use crate::domain::AuthUserId;

/// Why a round could not read or write the database.
#[derive(Debug, thiserror::Error)]
enum RefreshError {
    #[error("no database connection: {0}")]
    Pool(#[from] bb8::RunError<diesel_async::pooled_connection::PoolError>),
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
}

/// How often and how much the task asks.
#[derive(Debug, Clone)]
pub struct UsernameRefreshSettings {
    /// Pause between two rounds (also the first backoff of a user).
    pub interval: Duration,
    /// Lookups at most per round.
    pub batch: i64,
    /// Longest pause before asking again about one user.
    pub max_backoff: Duration,
}

impl Default for UsernameRefreshSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(30),
            batch: 20,
            max_backoff: Duration::from_secs(3600),
        }
    }
}

/// When one user may be asked about again.
struct Pending {
    backoff: ExponentialBackoff,
    not_before: Instant,
}

/// The background task.
pub struct UsernameRefresher {
    pool: Pool,
    client: AuthServiceClient,
    clock: SharedClock,
    settings: UsernameRefreshSettings,
    /// Users asked about without success, and when to ask next.
    pending: HashMap<String, Pending>,
    /// Where the next round starts (ids are walked in order).
    cursor: String,
}

impl UsernameRefresher {
    pub fn new(
        pool: Pool,
        client: AuthServiceClient,
        clock: SharedClock,
        settings: UsernameRefreshSettings,
    ) -> Self {
        Self {
            pool,
            client,
            clock,
            settings,
            pending: HashMap::new(),
            cursor: String::new(),
        }
    }

    /// Runs rounds until `shutdown` fires.
    pub async fn run(mut self, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                () = tokio::time::sleep(self.settings.interval) => {}
                () = shutdown.cancelled() => break,
            }
            self.round().await;
        }
        tracing::debug!("username refresher stopped");
    }

    /// One round: looks up to `batch` unknown users up. Returns how many
    /// usernames were filled in.
    #[tracing::instrument(skip_all)]
    pub async fn round(&mut self) -> usize {
        if self.client.is_open() {
            return 0;
        }
        let candidates = match self.candidates().await {
            Ok(candidates) => candidates,
            Err(error) => {
                tracing::warn!(%error, "cannot list users with an unknown username");
                return 0;
            }
        };
        let now = Instant::now();
        let mut filled = 0;
        for id in candidates {
            if self.pending.get(&id).is_some_and(|p| now < p.not_before) {
                continue;
            }
            let Ok(user) = AuthUserId::parse(&id) else {
                continue;
            };
            match self.client.fetch_user(&user).await {
                Lookup::Found(details) if details.username.is_some() => {
                    self.pending.remove(&id);
                    match self.store(&user, &details).await {
                        Ok(true) => {
                            filled += 1;
                            tracing::info!(auth_user_id = %user, "username filled in from the auth-service");
                        }
                        Ok(false) => {}
                        Err(error) => tracing::warn!(%error, "storing a looked-up username failed"),
                    }
                }
                Lookup::Found(_) | Lookup::NotFound => self.postpone(id),
                Lookup::Unavailable => {
                    // The breaker is counting: stop for this round.
                    self.postpone(id);
                    break;
                }
            }
        }
        filled
    }

    /// The next ids to consider, walking round-robin.
    async fn candidates(&mut self) -> Result<Vec<String>, RefreshError> {
        let mut conn = self.pool.get().await?;
        let ids =
            auth_users::unknown_usernames(&mut conn, &self.cursor, self.settings.batch.max(1))
                .await?;
        self.cursor = match ids.last() {
            Some(last) if ids.len() as i64 >= self.settings.batch.max(1) => last.clone(),
            // The end of the table: the next round starts over.
            _ => String::new(),
        };
        // Forget users no longer unknown (filled by an event, or deleted)
        // once a full pass is done.
        if self.cursor.is_empty() && self.pending.len() > 10 * self.settings.batch.max(1) as usize {
            let all = auth_users::unknown_usernames(&mut conn, "", i64::MAX).await?;
            self.pending.retain(|id, _| all.contains(id));
        }
        Ok(ids)
    }

    async fn store(
        &self,
        id: &AuthUserId,
        details: &auth_users::AuthUserDetails,
    ) -> Result<bool, RefreshError> {
        let mut conn = self.pool.get().await?;
        Ok(auth_users::fill_unknown_details(&mut conn, id, details, self.clock.now()).await?)
    }

    /// Asks about `id` again after its next backoff.
    fn postpone(&mut self, id: String) {
        let settings = &self.settings;
        let entry = self.pending.entry(id).or_insert_with(|| Pending {
            backoff: ExponentialBuilder::new()
                .with_min_delay(settings.interval)
                .with_max_delay(settings.max_backoff)
                .without_max_times()
                .with_jitter()
                .build(),
            not_before: Instant::now(),
        });
        let pause = entry.backoff.next().unwrap_or(settings.max_backoff);
        entry.not_before = Instant::now() + pause;
    }
}
