//! HTTP cache hints on GraphQL answers ([`cache_control`]), from the
//! policy async-graphql computes out of the schema's `cache_control` hints
//! (`User.email`, `User.preferences`, `me` and `searchUsers` are `private`;
//! mutations `no_cache`), so that a CDN, a browser or the gateway (Apollo's
//! `honorSubgraphCacheControlHeader`) can cache what is safe to cache:
//!
//! - a public, viewer-independent answer (no token, no private field, no
//!   error, one operation) gets `public, max-age=N`, `N` being
//!   `CACHE_MAX_AGE_SECS` (or a smaller `max_age` hint), and
//!   `Vary: Authorization` so that no cache hands it to a signed-in viewer;
//! - an answer for a signed-in viewer, or with a private field in it, gets
//!   `private, no-store`;
//! - anything else (mutations, errors, batches, `CACHE_MAX_AGE_SECS=0`)
//!   gets `no-store`.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, header};

use crate::auth::Viewer;
use crate::graphql::execution::Answers;

const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");
const PRIVATE: HeaderValue = HeaderValue::from_static("private, no-store");

/// The `Cache-Control` value of an executed request.
pub fn cache_control(answers: &Answers, viewer: &Viewer, max_age: Duration) -> HeaderValue {
    let Answers::Single(single) = answers else {
        return NO_STORE;
    };
    let policy = single.cache_control;
    if !single.error_codes.is_empty() || policy.max_age < 0 {
        return NO_STORE;
    }
    if !policy.public || viewer.user().is_some() {
        return PRIVATE;
    }
    let configured = max_age.as_secs();
    let hinted = u64::try_from(policy.max_age).unwrap_or(0);
    let seconds = if hinted > 0 {
        hinted.min(configured)
    } else {
        configured
    };
    if seconds == 0 {
        return NO_STORE;
    }
    HeaderValue::from_str(&format!("public, max-age={seconds}")).unwrap_or(NO_STORE)
}

/// Sets `Cache-Control` (and `Vary: Authorization` on a public answer).
pub fn apply(headers: &mut HeaderMap, value: HeaderValue) {
    if value.as_bytes().starts_with(b"public") {
        headers.append(header::VARY, HeaderValue::from_static("authorization"));
    }
    headers.insert(header::CACHE_CONTROL, value);
}

#[cfg(test)]
mod tests {
    use async_graphql::CacheControl;

    use super::*;
    use crate::graphql::execution::Answer;

    fn answer(public: bool, max_age: i32) -> Answers {
        Answers::Single(Answer {
            body: b"{}".to_vec(),
            error_codes: Vec::new(),
            request_error: false,
            cache_control: CacheControl { public, max_age },
        })
    }

    #[test]
    fn the_policy_follows_hints_viewer_and_configuration() {
        let minute = Duration::from_secs(60);
        let anonymous = Viewer::Anonymous;
        assert_eq!(
            cache_control(&answer(true, 0), &anonymous, minute),
            "public, max-age=60"
        );
        assert_eq!(
            cache_control(&answer(true, 10), &anonymous, minute),
            "public, max-age=10"
        );
        assert_eq!(
            cache_control(&answer(false, 0), &anonymous, minute),
            "private, no-store"
        );
        assert_eq!(
            cache_control(&answer(true, -1), &anonymous, minute),
            "no-store"
        );
        assert_eq!(
            cache_control(&answer(true, 0), &anonymous, Duration::ZERO),
            "no-store"
        );
    }
}
