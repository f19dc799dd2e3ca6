//! The route layer of `/graphql` ([`admit`]): the checks every request
//! passes before its body is read, in order: the response media type
//! (406), the per-address rate limit (429), router-only mode (403, the
//! `Router-Authorization` secret) and CSRF prevention (400). An admitted
//! request carries its [`ResponseMedia`] for the handler to extract.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::code;
use crate::http::limits::ClientAddr;
use crate::http::response::{ResponseMedia, negotiate, refusal, too_many_requests};
use crate::http::state::HttpState;

/// The header a gateway sends the shared secret in (router-only mode).
pub const ROUTER_AUTHORIZATION: &str = "router-authorization";

/// Headers that force a CORS preflight, so their presence proves the request
/// is not a simple cross-site one (as Apollo's `csrfPrevention`).
const PREFLIGHT_HEADERS: [&str; 2] = ["apollo-require-preflight", "x-apollo-operation-name"];

/// Content types a browser may send cross-site without a preflight.
const SIMPLE_CONTENT_TYPES: [&str; 3] = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
];

const CSRF_MESSAGE: &str = "This operation has been blocked as a potential Cross-Site Request \
     Forgery (CSRF). Please either specify a 'content-type' header (with a type that is not one of \
     application/x-www-form-urlencoded, multipart/form-data, text/plain) or provide a non-empty \
     value for one of the following headers: x-apollo-operation-name, apollo-require-preflight";

/// Whether the request could have been sent cross-site without a preflight
/// (a simple or absent content type and no preflight-forcing header).
fn csrf_suspect(headers: &HeaderMap) -> bool {
    let forces_preflight = PREFLIGHT_HEADERS.iter().any(|name| {
        headers
            .get(*name)
            .is_some_and(|value| !value.as_bytes().is_empty())
    });
    if forces_preflight {
        return false;
    }
    match headers.get(header::CONTENT_TYPE) {
        None => true,
        Some(value) => {
            let essence = value
                .to_str()
                .unwrap_or("")
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            SIMPLE_CONTENT_TYPES.contains(&essence.as_str())
        }
    }
}

/// Whether `Router-Authorization` carries the configured secret (compared
/// as SHA-256 digests in constant time, so neither content nor length
/// leaks through timing); `None` when no secret is configured.
fn router_authorized(state: &HttpState, headers: &HeaderMap) -> Option<bool> {
    let secret = state.app.config.http.router_secret.as_ref()?;
    let presented = headers
        .get(ROUTER_AUTHORIZATION)
        .map(HeaderValue::as_bytes)
        .unwrap_or_default();
    let expected = Sha256::digest(secret.expose_secret().as_bytes());
    let presented = Sha256::digest(presented);
    Some(bool::from(expected.ct_eq(&presented)))
}

/// The checks, in order; the media type to answer in when they pass.
fn check(
    state: &HttpState,
    headers: &HeaderMap,
    client: ClientAddr,
) -> Result<ResponseMedia, Box<Response>> {
    let media = negotiate(headers).ok_or_else(|| {
        Box::new(refusal(
            ResponseMedia::Json,
            StatusCode::NOT_ACCEPTABLE,
            code::BAD_USER_INPUT,
            "Accept allows neither application/graphql-response+json nor application/json",
        ))
    })?;
    let from_router = router_authorized(state, headers);
    // The gateway is one address for every user: requests that prove they
    // come from it are limited per user only.
    if from_router != Some(true)
        && let Err(retry) = state.rate_limits.check_ip(client.0)
    {
        return Err(Box::new(too_many_requests(media, retry, "ip")));
    }
    if from_router == Some(false) {
        return Err(Box::new(refusal(
            media,
            StatusCode::FORBIDDEN,
            code::FORBIDDEN,
            "this subgraph only answers requests from its gateway",
        )));
    }
    // A WebSocket upgrade carries no credential (the token comes in
    // `connection_init`), so a cross-site one gains nothing.
    if state.app.config.http.csrf_prevention
        && csrf_suspect(headers)
        && !crate::http::subscriptions::is_upgrade_request(headers)
    {
        return Err(Box::new(refusal(
            media,
            StatusCode::BAD_REQUEST,
            code::BAD_USER_INPUT,
            CSRF_MESSAGE,
        )));
    }
    Ok(media)
}

/// The route layer of `/graphql`: refuses what [`check`] refuses, else
/// passes the request on with its [`ResponseMedia`].
pub async fn admit(
    State(state): State<HttpState>,
    client: ClientAddr,
    mut request: Request,
    next: Next,
) -> Response {
    match check(&state, request.headers(), client) {
        Ok(media) => {
            request.extensions_mut().insert(media);
            next.run(request).await
        }
        Err(refused) => *refused,
    }
}

/// The media type [`admit`] negotiated (`application/json` on a route
/// without the layer).
impl<S: Send + Sync> FromRequestParts<S> for ResponseMedia {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ResponseMedia>()
            .copied()
            .unwrap_or(ResponseMedia::Json))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_requests_are_csrf_suspects() {
        let mut headers = HeaderMap::new();
        assert!(csrf_suspect(&headers), "no content type");
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain;charset=utf-8"),
        );
        assert!(csrf_suspect(&headers));
        headers.insert("apollo-require-preflight", HeaderValue::from_static("true"));
        assert!(!csrf_suspect(&headers));
        let mut json = HeaderMap::new();
        json.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        assert!(!csrf_suspect(&json));
    }
}
