//! Request limits outside the GraphQL engine: rate limiting per client
//! address and per user (governor's keyed GCRA limiters), the client address
//! itself, and CORS.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::HttpConfig;
use crate::graphql::budget::WriteQuota;

/// How many checks pass between two clean-ups of idle keys.
const CLEANUP_EVERY: u64 = 4096;

/// The keyed rate limiters of `/graphql`.
pub struct RateLimits {
    per_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    per_user: Option<DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
    checks: AtomicU64,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field("per_ip", &self.per_ip.is_some())
            .field("per_user", &self.per_user.is_some())
            .finish()
    }
}

/// A request over its quota: when to try again.
#[derive(Debug, Clone, Copy)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds, rounded up, at least 1 (the `Retry-After` value).
    pub fn seconds(&self) -> u64 {
        let secs = self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0);
        secs.max(1)
    }
}

fn per_minute(limit: u32) -> Option<Quota> {
    NonZeroU32::new(limit).map(Quota::per_minute)
}

impl RateLimits {
    /// Limiters for the configured quotas (a quota of 0 switches one off).
    pub fn new(config: &HttpConfig) -> Self {
        Self {
            per_ip: per_minute(config.rate_limit_per_ip).map(RateLimiter::keyed),
            per_user: per_minute(config.rate_limit_per_user).map(RateLimiter::keyed),
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
        }
    }

    fn cleanup(&self) {
        if self.checks.fetch_add(1, Ordering::Relaxed) % CLEANUP_EVERY == CLEANUP_EVERY - 1 {
            if let Some(limiter) = &self.per_ip {
                limiter.retain_recent();
                limiter.shrink_to_fit();
            }
            if let Some(limiter) = &self.per_user {
                limiter.retain_recent();
                limiter.shrink_to_fit();
            }
        }
    }

    /// Takes one request from the quota of `address`.
    pub fn check_ip(&self, address: IpAddr) -> Result<(), RetryAfter> {
        self.cleanup();
        match &self.per_ip {
            Some(limiter) => limiter
                .check_key(&address)
                .map_err(|not_until| RetryAfter(not_until.wait_time_from(self.clock.now()))),
            None => Ok(()),
        }
    }

    /// Takes one request from the quota of the user `sub`.
    pub fn check_user(&self, sub: &str) -> Result<(), RetryAfter> {
        self.check_user_n(sub, 1)
    }

    /// Whether a per-user quota is configured.
    pub fn limits_users(&self) -> bool {
        self.per_user.is_some()
    }

    /// Takes `n` at once (all or none) from the quota of the user `sub`:
    /// the writes of a mutation. More than the whole quota never passes.
    pub fn check_user_n(&self, sub: &str, n: u64) -> Result<(), RetryAfter> {
        let Some(limiter) = &self.per_user else {
            return Ok(());
        };
        let Some(n) = u32::try_from(n).ok().and_then(NonZeroU32::new) else {
            return Ok(());
        };
        match limiter.check_key_n(&sub.to_owned(), n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(RetryAfter(not_until.wait_time_from(self.clock.now()))),
            // More than the burst: it never fits; a minute is the quota's period.
            Err(_) => Err(RetryAfter(Duration::from_secs(60))),
        }
    }
}

/// The write quota of one user, as [`MutationQuota`] charges it.
pub struct UserQuota {
    pub limits: Arc<RateLimits>,
    pub sub: String,
}

impl WriteQuota for UserQuota {
    fn take(&self, writes: u64) -> Result<(), Duration> {
        self.limits
            .check_user_n(&self.sub, writes)
            .map_err(|retry| retry.0)
    }
}

/// The address a request comes from: the peer of the TCP connection, or,
/// when `TRUST_X_FORWARDED_FOR` is set, the last `X-Forwarded-For` entry
/// (the one the trusted proxy appended; earlier ones are client-supplied).
/// Unspecified (`0.0.0.0`) when neither is known (in-process calls).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// The client address per the rules of [`ClientAddr`].
pub fn client_addr(headers: &HeaderMap, peer: Option<SocketAddr>, trust_forwarded: bool) -> IpAddr {
    let forwarded = trust_forwarded
        .then(|| {
            headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|value| value.to_str().ok())
                .flat_map(|value| value.split(','))
                .filter_map(|entry| entry.trim().parse::<IpAddr>().ok())
                .next_back()
        })
        .flatten();
    forwarded
        .or(peer.map(|peer| peer.ip()))
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// Whether `X-Forwarded-For` is trusted (`TRUST_X_FORWARDED_FOR`), taken
/// from the state by [`ClientAddr`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustForwardedFor(pub bool);

impl<S> FromRequestParts<S> for ClientAddr
where
    S: Send + Sync,
    TrustForwardedFor: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0);
        Ok(Self(client_addr(
            &parts.headers,
            peer,
            TrustForwardedFor::from_ref(state).0,
        )))
    }
}

/// CORS for the configured origins only (exact match). A preflight from
/// another origin gets no `Access-Control-Allow-Origin`, so the browser
/// refuses the request.
pub fn cors_layer(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .map(|origin| origin.trim())
        .filter(|origin| !origin.is_empty())
        .filter_map(|origin| HeaderValue::from_str(origin).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            HeaderName::from_static("apollo-require-preflight"),
            HeaderName::from_static("x-apollo-operation-name"),
            HeaderName::from_static("apollographql-client-name"),
            HeaderName::from_static("apollographql-client-version"),
            HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([HeaderName::from_static("x-request-id"), header::RETRY_AFTER])
        .max_age(Duration::from_secs(600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_used_only_when_trusted() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 10.0.0.7"),
        );
        let peer: SocketAddr = "192.168.1.2:5000".parse().unwrap();
        assert_eq!(
            client_addr(&headers, Some(peer), false),
            peer.ip(),
            "untrusted header ignored"
        );
        assert_eq!(
            client_addr(&headers, Some(peer), true),
            "10.0.0.7".parse::<IpAddr>().unwrap(),
            "the entry the proxy appended, not the client's"
        );
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(RetryAfter(Duration::from_millis(1)).seconds(), 1);
        assert_eq!(RetryAfter(Duration::from_millis(2001)).seconds(), 3);
    }
}
