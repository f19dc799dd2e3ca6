//! The answers of the HTTP layer that are not GraphQL results: the response
//! media type ([`negotiate`] on `Accept`), and request-level refusals in the
//! GraphQL error shape `{"errors":[{"message","extensions":{"code"}}]}`,
//! each counted in `graphql_errors_total`.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::{AppError, code};
use crate::http::limits::RetryAfter;

/// The GraphQL-over-HTTP response media type.
pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// The media type of the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMedia {
    Json,
    GraphqlResponse,
}

impl ResponseMedia {
    /// The `Content-Type` of an answer in this media type.
    pub fn content_type(self) -> HeaderValue {
        match self {
            Self::Json => HeaderValue::from_static("application/json"),
            Self::GraphqlResponse => HeaderValue::from_static(GRAPHQL_RESPONSE_JSON),
        }
    }
}

/// Picks the response media type from `Accept`: `graphql-response+json`
/// when the client lists it at least as high as `application/json`,
/// `application/json` when that (or a wildcard) is acceptable or no
/// `Accept` is sent, `None` when neither is acceptable (406).
pub fn negotiate(headers: &HeaderMap) -> Option<ResponseMedia> {
    let accepts: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .collect();
    if accepts.is_empty() {
        return Some(ResponseMedia::Json);
    }
    let mut graphql_response = 0.0_f32;
    let mut json = 0.0_f32;
    for item in accepts {
        let mut parts = item.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let quality = parts
            .filter_map(|param| param.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        match media.as_str() {
            GRAPHQL_RESPONSE_JSON => graphql_response = graphql_response.max(quality),
            "application/json" | "application/*" | "*/*" => json = json.max(quality),
            _ => {}
        }
    }
    if graphql_response > 0.0 && graphql_response >= json {
        Some(ResponseMedia::GraphqlResponse)
    } else if json > 0.0 {
        Some(ResponseMedia::Json)
    } else {
        None
    }
}

/// Counts a GraphQL error by its code.
pub fn count_error(code: &str) {
    metrics::counter!("graphql_errors_total", "code" => code.to_owned()).increment(1);
}

/// A request-level refusal in the GraphQL error shape.
pub fn refusal(media: ResponseMedia, status: StatusCode, code: &str, message: &str) -> Response {
    count_error(code);
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, media.content_type());
    response
}

/// 401 with `WWW-Authenticate: Bearer` for a token that does not verify.
pub fn unauthenticated(media: ResponseMedia, error: &AppError) -> Response {
    let mut response = refusal(
        media,
        StatusCode::UNAUTHORIZED,
        error.code(),
        &error.to_string(),
    );
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// 429 with `Retry-After`, counted in `rate_limited_total` by `limiter`.
pub fn too_many_requests(
    media: ResponseMedia,
    retry: RetryAfter,
    limiter: &'static str,
) -> Response {
    metrics::counter!("rate_limited_total", "limiter" => limiter).increment(1);
    let mut response = refusal(
        media,
        StatusCode::TOO_MANY_REQUESTS,
        code::SERVICE_UNAVAILABLE,
        "too many requests: retry later",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry.seconds()));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn negotiation_follows_the_graphql_over_http_spec() {
        assert_eq!(negotiate(&HeaderMap::new()), Some(ResponseMedia::Json));
        assert_eq!(
            negotiate(&accept("application/json")),
            Some(ResponseMedia::Json)
        );
        assert_eq!(
            negotiate(&accept(
                "application/graphql-response+json, application/json;q=0.9"
            )),
            Some(ResponseMedia::GraphqlResponse)
        );
        assert_eq!(
            negotiate(&accept(
                "application/graphql-response+json;q=0.5, application/json"
            )),
            Some(ResponseMedia::Json)
        );
        assert_eq!(negotiate(&accept("*/*")), Some(ResponseMedia::Json));
        assert_eq!(negotiate(&accept("text/html")), None);
    }
}
