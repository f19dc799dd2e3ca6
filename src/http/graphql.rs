//! GraphQL over HTTP: our own thin handlers (the stock async-graphql-axum
//! one runs mutations over GET and always answers 200).
//!
//! Every request to `/graphql` goes through, in order: the per-address rate
//! limit, router-only mode (`Router-Authorization`), CSRF prevention, media
//! type negotiation, the body limit, the batch cap, authentication, the
//! per-user rate limit and the request timeout. Request-level refusals use
//! the GraphQL error shape `{"errors":[{"message","extensions":{"code"}}]}`.
//!
//! Media types follow the GraphQL-over-HTTP spec: with `Accept:
//! application/graphql-response+json` a request error (the document does not
//! parse or validate) is 400; with `application/json` (the default) GraphQL
//! errors are 200.

use std::time::Duration;

use async_graphql::{BatchRequest, BatchResponse};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use secrecy::ExposeSecret;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::app::HttpState;
use crate::auth::Viewer;
use crate::error::{AppError, code};
use crate::graphql::Loaders;
use crate::graphql::budget::RequestBudget;
use crate::graphql::document_rules::{GET_MUTATION_MESSAGE, OperationSlot, QueriesOnly};
use crate::http::limits::{ClientAddr, RetryAfter};
use crate::http::observability::{OperationLabel, count_error};

/// The GraphQL-over-HTTP response media type.
pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

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

/// The media type of the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMedia {
    Json,
    GraphqlResponse,
}

impl ResponseMedia {
    fn content_type(self) -> HeaderValue {
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

fn boxed_refusal(
    media: ResponseMedia,
    status: StatusCode,
    code: &str,
    message: &str,
) -> Box<Response> {
    Box::new(refusal(media, status, code, message))
}

fn unauthenticated(media: ResponseMedia, error: &AppError) -> Response {
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

fn too_many_requests(media: ResponseMedia, retry: RetryAfter, limiter: &'static str) -> Response {
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
/// leaks through timing).
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

/// The checks every `/graphql` request passes before its body is read.
fn admit(
    state: &HttpState,
    headers: &HeaderMap,
    client: ClientAddr,
) -> Result<ResponseMedia, Box<Response>> {
    let media = negotiate(headers).ok_or_else(|| {
        boxed_refusal(
            ResponseMedia::Json,
            StatusCode::NOT_ACCEPTABLE,
            code::BAD_USER_INPUT,
            "Accept allows neither application/graphql-response+json nor application/json",
        )
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
        return Err(boxed_refusal(
            media,
            StatusCode::FORBIDDEN,
            code::FORBIDDEN,
            "this subgraph only answers requests from its gateway",
        ));
    }
    if state.app.config.http.csrf_prevention && csrf_suspect(headers) {
        return Err(boxed_refusal(
            media,
            StatusCode::BAD_REQUEST,
            code::BAD_USER_INPUT,
            CSRF_MESSAGE,
        ));
    }
    Ok(media)
}

/// `POST /graphql`: one operation or a batch (a JSON array).
pub async fn graphql_post(
    State(state): State<HttpState>,
    client: ClientAddr,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let media = match admit(&state, &headers, client) {
        Ok(media) => media,
        Err(response) => return *response,
    };
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim();
            mime.eq_ignore_ascii_case("application/json")
                || mime.eq_ignore_ascii_case(GRAPHQL_RESPONSE_JSON)
        });
    if !is_json {
        return refusal(
            media,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::BAD_USER_INPUT,
            "POST /graphql needs Content-Type: application/json",
        );
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            let limit = state.app.config.http.max_body_bytes;
            return refusal(
                media,
                StatusCode::PAYLOAD_TOO_LARGE,
                code::BAD_USER_INPUT,
                &format!("the request body is larger than {limit} bytes"),
            );
        }
        Err(_) => {
            return refusal(
                media,
                StatusCode::BAD_REQUEST,
                code::BAD_USER_INPUT,
                "the request body could not be read",
            );
        }
    };
    let batch: BatchRequest = match serde_json::from_slice(&body) {
        Ok(batch) => batch,
        Err(_) => {
            return refusal(
                media,
                StatusCode::BAD_REQUEST,
                code::BAD_USER_INPUT,
                "the body is not a GraphQL request in JSON",
            );
        }
    };
    let max_batch = state.app.config.http.graphql_max_batch;
    if let BatchRequest::Batch(requests) = &batch
        && (requests.len() > max_batch || requests.is_empty())
    {
        return refusal(
            media,
            StatusCode::BAD_REQUEST,
            code::GRAPHQL_VALIDATION_FAILED,
            &format!(
                "a batch holds 1 to {max_batch} operations; this one holds {}",
                requests.len()
            ),
        );
    }
    execute(&state, media, &headers, batch, None).await
}

/// Reads a GET request's parameters (`query`, `operationName`, and JSON
/// `variables` and `extensions`).
fn parse_get(query: &str) -> Option<async_graphql::Request> {
    let mut object = serde_json::Map::new();
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let value = match key.as_ref() {
            "query" | "operationName" => serde_json::Value::String(value.into_owned()),
            "variables" | "extensions" => serde_json::from_str(&value).ok()?,
            _ => continue,
        };
        object.insert(key.into_owned(), value);
    }
    serde_json::from_value(serde_json::Value::Object(object)).ok()
}

/// `GET /graphql`: queries only (a mutation, persisted or not, is refused
/// with 405 and `Allow: POST`).
pub async fn graphql_get(
    State(state): State<HttpState>,
    client: ClientAddr,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let media = match admit(&state, &headers, client) {
        Ok(media) => media,
        Err(response) => return *response,
    };
    let Some(request) = parse_get(query.as_deref().unwrap_or("")) else {
        return refusal(
            media,
            StatusCode::BAD_REQUEST,
            code::BAD_USER_INPUT,
            "the query string is not a GraphQL request",
        );
    };
    let queries_only = QueriesOnly {
        operation_name: request.operation_name.clone(),
        ..QueriesOnly::default()
    };
    execute(
        &state,
        media,
        &headers,
        BatchRequest::Single(request),
        Some(queries_only),
    )
    .await
}

/// The metric label of one operation: the operation name the request sent,
/// else the name of the document's only operation, else `anonymous`.
fn operation_label(sent: Option<&str>, slot: &OperationSlot) -> OperationLabel {
    OperationLabel::from_name(sent.or_else(|| slot.0.get().map(String::as_str)))
}

/// A request error: no data, and only errors that belong to no field.
fn is_request_error(response: &async_graphql::Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|error| error.path.is_empty())
}

fn error_codes(response: &async_graphql::Response) -> impl Iterator<Item = String> + '_ {
    response.errors.iter().map(|error| {
        match error.extensions.as_ref().and_then(|ext| ext.get("code")) {
            Some(async_graphql::Value::String(code)) => code.clone(),
            _ => code::INTERNAL_SERVER_ERROR.to_owned(),
        }
    })
}

async fn execute(
    state: &HttpState,
    media: ResponseMedia,
    headers: &HeaderMap,
    batch: BatchRequest,
    queries_only: Option<QueriesOnly>,
) -> Response {
    let viewer: Viewer = match state.app.verifier.authenticate(headers).await {
        Ok(viewer) => viewer,
        Err(error) => return unauthenticated(media, &error.into()),
    };
    if let Some(user) = viewer.user()
        && let Err(retry) = state.rate_limits.check_user(user.id.as_str())
    {
        return too_many_requests(media, retry, "user");
    }
    let slot = OperationSlot::default();
    // One cost and response budget for all operations of the request.
    let budget = RequestBudget::default();
    let pool = &state.app.db.pool;
    let delay = Duration::from_millis(state.app.config.http.graphql_loader_delay_ms);
    let prepare = |request: async_graphql::Request| {
        let request = request
            .data(viewer.clone())
            .data(Loaders::new(pool, delay))
            .data(slot.clone())
            .data(budget.clone());
        match &queries_only {
            Some(queries_only) => request.data(queries_only.clone()),
            None => request,
        }
    };
    let single_name = match &batch {
        BatchRequest::Single(request) => Some(request.operation_name.clone()),
        BatchRequest::Batch(_) => None,
    };
    let batch = match batch {
        BatchRequest::Single(request) => BatchRequest::Single(prepare(request)),
        BatchRequest::Batch(requests) => {
            BatchRequest::Batch(requests.into_iter().map(prepare).collect())
        }
    };
    let timeout = Duration::from_millis(state.app.config.http.request_timeout_ms);
    let executed = tokio::time::timeout(timeout, state.schema.execute_batch(batch)).await;
    let label = match single_name {
        Some(sent) => operation_label(sent.as_deref(), &slot),
        None => OperationLabel("batch".to_owned()),
    };
    tracing::Span::current().record("operation", label.0.as_str());
    let Ok(response) = executed else {
        tracing::warn!(
            timeout_ms = timeout.as_millis(),
            "GraphQL request timed out"
        );
        let mut response = refusal(
            media,
            StatusCode::SERVICE_UNAVAILABLE,
            code::SERVICE_UNAVAILABLE,
            &format!("the request took longer than {} ms", timeout.as_millis()),
        );
        response.extensions_mut().insert(label);
        return response;
    };
    if queries_only.as_ref().is_some_and(QueriesOnly::was_refused) {
        let mut response = refusal(
            media,
            StatusCode::METHOD_NOT_ALLOWED,
            code::BAD_USER_INPUT,
            GET_MUTATION_MESSAGE,
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        response.extensions_mut().insert(label);
        return response;
    }
    let status = match &response {
        BatchResponse::Single(single) => {
            error_codes(single).for_each(|code| count_error(&code));
            if media == ResponseMedia::GraphqlResponse && is_request_error(single) {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            }
        }
        BatchResponse::Batch(responses) => {
            for single in responses {
                error_codes(single).for_each(|code| count_error(&code));
            }
            StatusCode::OK
        }
    };
    let mut response = match serde_json::to_vec(&response) {
        Ok(body) => (status, [(header::CONTENT_TYPE, media.content_type())], body).into_response(),
        Err(error) => {
            let error = AppError::internal(error);
            tracing::error!(%error, "could not serialise a GraphQL response");
            refusal(
                media,
                StatusCode::INTERNAL_SERVER_ERROR,
                code::INTERNAL_SERVER_ERROR,
                "internal server error",
            )
        }
    };
    response.extensions_mut().insert(label);
    response
}

/// `GET /graphiql`: the playground, pointed at `/graphql`. Its requests
/// carry `Apollo-Require-Preflight`, so CSRF prevention lets them through.
pub async fn graphiql_page() -> Html<String> {
    Html(
        async_graphql::http::GraphiQLSource::build()
            .endpoint("/graphql")
            .header("Apollo-Require-Preflight", "true")
            .title("user-service")
            .finish(),
    )
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
