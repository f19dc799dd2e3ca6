//! The auth-service's JSON Web Key Set (`AUTH_JWKS_URL`): public keys,
//! fetched over HTTP and cached by `kid`.
//!
//! A token naming a `kid` the cache does not hold triggers a download (key
//! rotation), at most once per `AUTH_JWKS_MIN_REFRESH_MS`, so a flood of
//! tokens with random `kid`s costs the auth-service one request per
//! interval. The whole set is downloaded again once older than
//! `AUTH_JWKS_TTL_SECS`; should that fail, the cached keys stay in use.
//! Only keys of the pinned algorithm's family are kept: a symmetric
//! (`oct`) key or a key announcing another `alg` is ignored.
//!
//! Redirects are not followed, and the set is read into a buffer of at
//! most [`MAX_JWKS_BODY_BYTES`]: a larger answer is a failed download
//! (logged without its body), and the cached keys stay in use.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};

use crate::auth::TokenError;
use crate::clients::{BodyError, read_bounded};

/// The largest JWKS answer read. A set of a few RSA keys is a few KiB.
pub const MAX_JWKS_BODY_BYTES: usize = 256 * 1024;

/// How the key set is fetched and cached.
#[derive(Debug, Clone)]
pub struct JwksSettings {
    pub url: String,
    /// The pinned algorithm.
    pub algorithm: Algorithm,
    /// Timeout of one download.
    pub timeout: Duration,
    /// At most one download per this interval for unknown `kid`s.
    pub min_refresh: Duration,
    /// Age after which the set is downloaded again.
    pub ttl: Duration,
}

#[derive(Default)]
struct Cache {
    keys: HashMap<String, DecodingKey>,
    /// Keys published without a `kid` (used when a token names none).
    anonymous: Vec<DecodingKey>,
    fetched_at: Option<Instant>,
    attempted_at: Option<Instant>,
}

#[derive(Deserialize)]
struct KeySet {
    keys: Vec<serde_json::Value>,
}

/// Why the key set could not be downloaded.
#[derive(Debug, thiserror::Error)]
enum FetchError {
    #[error("JWKS request failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("JWKS body refused: {0}")]
    Body(#[from] BodyError),
    #[error("JWKS answered {0}; redirects are not followed")]
    Redirect(reqwest::StatusCode),
    #[error("JWKS body is not a key set: {0}")]
    Json(#[from] serde_json::Error),
}

/// The cached key set.
pub struct JwksCache {
    http: reqwest::Client,
    settings: JwksSettings,
    cache: RwLock<Cache>,
    /// One download at a time.
    refreshing: Mutex<()>,
}

impl std::fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksCache")
            .field("url", &self.settings.url)
            .field("algorithm", &self.settings.algorithm)
            .finish_non_exhaustive()
    }
}

impl JwksCache {
    pub fn new(settings: JwksSettings) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(settings.timeout)
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("user-service/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            settings,
            cache: RwLock::new(Cache::default()),
            refreshing: Mutex::new(()),
        })
    }

    /// The key a token with this `kid` must verify with: from the cache,
    /// else after a (rate-limited) download.
    pub async fn key(&self, kid: Option<&str>) -> Result<DecodingKey, TokenError> {
        let now = Instant::now();
        {
            let cache = self.cache.read().await;
            let fresh = cache
                .fetched_at
                .is_some_and(|at| now.duration_since(at) < self.settings.ttl);
            if let Some(key) = lookup(&cache, kid)
                && fresh
            {
                return Ok(key);
            }
        }
        self.refresh_if_allowed().await;
        let cache = self.cache.read().await;
        lookup(&cache, kid).ok_or(TokenError::UnknownKey)
    }

    /// Downloads the set unless another download happened within the
    /// minimum interval.
    async fn refresh_if_allowed(&self) {
        let _one_at_a_time = self.refreshing.lock().await;
        let allowed = {
            let cache = self.cache.read().await;
            cache
                .attempted_at
                .is_none_or(|at| at.elapsed() >= self.settings.min_refresh)
        };
        if !allowed {
            return;
        }
        self.cache.write().await.attempted_at = Some(Instant::now());
        match self.fetch().await {
            Ok((keys, anonymous)) => {
                tracing::info!(keys = keys.len() + anonymous.len(), "JWKS refreshed");
                let mut cache = self.cache.write().await;
                cache.keys = keys;
                cache.anonymous = anonymous;
                cache.fetched_at = Some(Instant::now());
            }
            Err(error) => tracing::warn!(%error, "JWKS download failed; keeping the cached keys"),
        }
    }

    #[tracing::instrument(skip(self), fields(url = %self.settings.url))]
    async fn fetch(&self) -> Result<(HashMap<String, DecodingKey>, Vec<DecodingKey>), FetchError> {
        let response = self
            .http
            .get(&self.settings.url)
            .send()
            .await?
            .error_for_status()?;
        if response.status().is_redirection() {
            return Err(FetchError::Redirect(response.status()));
        }
        let body = read_bounded(response, MAX_JWKS_BODY_BYTES).await?;
        let set: KeySet = serde_json::from_slice(&body)?;
        let mut keys = HashMap::new();
        let mut anonymous = Vec::new();
        for value in set.keys {
            let Ok(jwk) = serde_json::from_value::<Jwk>(value) else {
                tracing::debug!("skipping a JWK this service cannot read");
                continue;
            };
            if !fits(&jwk, self.settings.algorithm) {
                continue;
            }
            let Ok(key) = DecodingKey::from_jwk(&jwk) else {
                tracing::debug!(kid = ?jwk.common.key_id, "skipping an invalid JWK");
                continue;
            };
            match jwk.common.key_id {
                Some(kid) => {
                    keys.insert(kid, key);
                }
                None => anonymous.push(key),
            }
        }
        Ok((keys, anonymous))
    }
}

fn lookup(cache: &Cache, kid: Option<&str>) -> Option<DecodingKey> {
    match kid {
        Some(kid) => cache.keys.get(kid).cloned(),
        // No kid: acceptable only when the set holds exactly one key.
        None => match (cache.keys.len(), cache.anonymous.as_slice()) {
            (0, [only]) => Some(only.clone()),
            (1, []) => cache.keys.values().next().cloned(),
            _ => None,
        },
    }
}

/// Whether `jwk` is a key of the pinned algorithm's family (and announces
/// no other algorithm).
fn fits(jwk: &Jwk, algorithm: Algorithm) -> bool {
    // Both serialise to their JOSE names ("RS256", ...).
    if let Some(announced) = jwk.common.key_algorithm
        && serde_json::to_value(announced).ok() != serde_json::to_value(algorithm).ok()
    {
        return false;
    }
    match (&jwk.algorithm, algorithm) {
        (
            AlgorithmParameters::RSA(_),
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512,
        ) => true,
        (AlgorithmParameters::EllipticCurve(params), Algorithm::ES256) => {
            params.curve == EllipticCurve::P256
        }
        (AlgorithmParameters::EllipticCurve(params), Algorithm::ES384) => {
            params.curve == EllipticCurve::P384
        }
        (AlgorithmParameters::OctetKeyPair(params), Algorithm::EdDSA) => {
            params.curve == EllipticCurve::Ed25519
        }
        _ => false,
    }
}
