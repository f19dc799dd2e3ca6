//! State the replicas share, in Redis (`REDIS_URL`): the rate-limit buckets
//! ([`SharedState::take`], GCRA in one Lua script, so a limit of N a minute
//! holds across every process) and the APQ cache ([`RedisApqStore`], so a
//! query registered on one replica is found on the others).
//!
//! Keys start with `REDIS_KEY_PREFIX` and all expire on their own (a bucket
//! when it is full again, a persisted query after [`APQ_TTL`] unused).
//! Redis is a shared cache, not a dependency the service stands on: when
//! it does not answer within `REDIS_TIMEOUT_MS`, a rate limit lets the
//! request through and an APQ lookup is a miss (both logged), rather than
//! every request failing.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManager;
use secrecy::{ExposeSecret, SecretString};

use crate::persisted::ApqStore;

/// How long a persisted query stays registered without being used.
pub const APQ_TTL: Duration = Duration::from_secs(24 * 3600);

/// GCRA (the algorithm of the in-memory `governor` limiters): the bucket
/// is its "theoretical arrival time" in microseconds of Redis's own clock,
/// so replicas with skewed clocks agree. KEYS[1] the bucket, ARGV[1] the
/// emission interval (µs per request), ARGV[2] the burst (the whole quota),
/// ARGV[3] the requests taken. Returns 0 when allowed, else the wait in µs.
const GCRA: &str = r"
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now_us)
if tat < now_us then tat = now_us end
local new_tat = tat + n * interval
local allow_at = new_tat - burst * interval
if allow_at > now_us then
  return allow_at - now_us
end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now_us) / 1000) + 1000)
return 0
";

/// The shared Redis (one multiplexed, reconnecting connection, opened on
/// first use or by [`SharedState::ping`] at start-up) and the key prefix.
#[derive(Clone)]
pub struct SharedState {
    client: redis::Client,
    connection: Arc<tokio::sync::OnceCell<ConnectionManager>>,
    prefix: Arc<str>,
    gcra: Arc<redis::Script>,
    timeout: Duration,
}

impl std::fmt::Debug for SharedState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedState")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl SharedState {
    /// The state at `url` (checked here; connected on first use), whose
    /// calls may take `timeout` each.
    pub fn new(
        url: &SecretString,
        prefix: &str,
        timeout: Duration,
    ) -> Result<Self, redis::RedisError> {
        Ok(Self {
            client: redis::Client::open(url.expose_secret())?,
            connection: Arc::default(),
            prefix: Arc::from(prefix),
            gcra: Arc::new(redis::Script::new(GCRA)),
            timeout,
        })
    }

    async fn connection(&self) -> Result<ConnectionManager, redis::RedisError> {
        self.connection
            .get_or_try_init(|| ConnectionManager::new(self.client.clone()))
            .await
            .cloned()
    }

    /// Connects and pings, within 5 s (start-up: a wrong `REDIS_URL` fails
    /// fast with the real reason).
    pub async fn ping(&self) -> Result<(), redis::RedisError> {
        let ping = async {
            let mut connection = self.connection().await?;
            redis::cmd("PING").query_async::<()>(&mut connection).await
        };
        tokio::time::timeout(Duration::from_secs(5), ping)
            .await
            .map_err(|_| {
                redis::RedisError::from((redis::ErrorKind::Io, "Redis did not answer within 5 s"))
            })?
    }

    /// Runs `command` within the timeout.
    async fn run<T: redis::FromRedisValue>(
        &self,
        command: impl AsyncFnOnce(&mut ConnectionManager) -> redis::RedisResult<T>,
    ) -> Result<T, String> {
        let call = async {
            let mut connection = self.connection().await?;
            command(&mut connection).await
        };
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err(format!("no answer within {} ms", self.timeout.as_millis())),
        }
    }

    fn key(&self, kind: &str, id: &str) -> String {
        format!("{}:{kind}:{id}", self.prefix)
    }

    /// Takes `n` requests from the bucket `limiter:id` of `per_minute` a
    /// minute (a burst of the whole quota, as in memory). `Err(wait)` when
    /// the bucket holds fewer; `Ok` also when Redis does not answer.
    pub async fn take(
        &self,
        limiter: &str,
        id: &str,
        per_minute: u32,
        n: u32,
    ) -> Result<(), Duration> {
        let interval_us = 60_000_000 / u64::from(per_minute.max(1));
        let key = self.key(limiter, id);
        let answer = self
            .run(async |connection| {
                self.gcra
                    .key(&key)
                    .arg(interval_us)
                    .arg(per_minute)
                    .arg(n)
                    .invoke_async::<u64>(connection)
                    .await
            })
            .await;
        match answer {
            Ok(0) => Ok(()),
            Ok(wait_us) => Err(Duration::from_micros(wait_us)),
            Err(error) => {
                tracing::warn!(%error, limiter, "Redis failed a rate-limit check; letting the request through");
                Ok(())
            }
        }
    }
}

/// The APQ cache in Redis: `<prefix>:apq:<sha256>` → the document.
pub struct RedisApqStore(pub SharedState);

#[async_trait::async_trait]
impl ApqStore for RedisApqStore {
    async fn get(&self, hash: &str) -> Option<Arc<str>> {
        let key = self.0.key("apq", hash);
        let found = self
            .0
            .run(async |connection| {
                redis::cmd("GETEX")
                    .arg(&key)
                    .arg("EX")
                    .arg(APQ_TTL.as_secs())
                    .query_async::<Option<String>>(connection)
                    .await
            })
            .await;
        found
            .unwrap_or_else(|error| {
                tracing::warn!(%error, "Redis failed an APQ lookup; answering it as a miss");
                None
            })
            .map(Arc::from)
    }

    async fn put(&self, hash: &str, query: &str) {
        let key = self.0.key("apq", hash);
        let stored = self
            .0
            .run(async |connection| {
                redis::cmd("SET")
                    .arg(&key)
                    .arg(query)
                    .arg("EX")
                    .arg(APQ_TTL.as_secs())
                    .query_async::<()>(connection)
                    .await
            })
            .await;
        if let Err(error) = stored {
            tracing::warn!(%error, "could not register a persisted query in Redis");
        }
    }
}
