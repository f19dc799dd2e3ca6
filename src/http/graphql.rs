//! GraphQL over HTTP: our own thin handlers (the stock async-graphql-axum
//! one runs mutations over GET and always answers 200).
//!
//! Every request to `/graphql` goes through, in order: the per-address rate
//! limit, router-only mode (`Router-Authorization`) and CSRF prevention (the
//! route layer [`crate::http::admission::admit`], which negotiates the
//! media type first), then the extractors of the handler: the media type
//! and body limit and batch cap of a POST ([`PostedBatch`]) or the query
//! string of a GET ([`GetRequest`]), and authentication
//! ([`MaybeAuthUser`]); the handler itself applies the per-user rate limit
//! and the request timeout, executes and answers. Request-level refusals use
//! the GraphQL error shape `{"errors":[{"message","extensions":{"code"}}]}`
//! ([`crate::http::response`]).
//!
//! Media types follow the GraphQL-over-HTTP spec: with `Accept:
//! application/graphql-response+json` a request error (the document does not
//! parse or validate) is 400; with `application/json` (the default) GraphQL
//! errors are 200.

use std::sync::Arc;

use async_graphql::BatchRequest;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, RawQuery, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::auth::Viewer;
use crate::error::code;
use crate::graphql::Loaders;
use crate::graphql::budget::{MutationQuota, RequestBudget};
use crate::graphql::document_rules::{GET_MUTATION_MESSAGE, OperationSlot, QueriesOnly};
use crate::graphql::execution::Answers;
use crate::graphql::pages::PageLoaders;
use crate::http::auth::{AuthRejection, MaybeAuthUser};
use crate::http::limits::{RetryAfter, UserQuota};
use crate::http::observability::OperationLabel;
use crate::http::response::{
    GRAPHQL_RESPONSE_JSON, ResponseMedia, count_error, refusal, too_many_requests,
};
use crate::http::state::HttpState;

/// The body of `POST /graphql`: one operation or a batch (a JSON array),
/// sent as `application/json` (415 otherwise), within the body limit (413),
/// in JSON (400) and holding 1 to `GRAPHQL_MAX_BATCH` operations (400).
pub struct PostedBatch(pub BatchRequest);

impl FromRequest<HttpState> for PostedBatch {
    type Rejection = Response;

    async fn from_request(request: Request, state: &HttpState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let Ok(media) = ResponseMedia::from_request_parts(&mut parts, state).await;
        let is_json = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime.eq_ignore_ascii_case("application/json")
                    || mime.eq_ignore_ascii_case(GRAPHQL_RESPONSE_JSON)
            });
        if !is_json {
            return Err(refusal(
                media,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                code::BAD_USER_INPUT,
                "POST /graphql needs Content-Type: application/json",
            ));
        }
        let request = Request::from_parts(parts, body);
        // The whole body within `BODY_READ_TIMEOUT_MS`, however slowly it
        // trickles in.
        let read_timeout = state.app.config.http.body_read_timeout;
        let Ok(read) =
            tokio::time::timeout(read_timeout, Bytes::from_request(request, state)).await
        else {
            return Err(refusal(
                media,
                StatusCode::REQUEST_TIMEOUT,
                code::BAD_USER_INPUT,
                &format!(
                    "the request body did not arrive within {} ms",
                    read_timeout.as_millis()
                ),
            ));
        };
        let body = match read {
            Ok(body) => body,
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                let limit = state.app.config.http.max_body_bytes;
                return Err(refusal(
                    media,
                    StatusCode::PAYLOAD_TOO_LARGE,
                    code::BAD_USER_INPUT,
                    &format!("the request body is larger than {limit} bytes"),
                ));
            }
            Err(_) => {
                return Err(refusal(
                    media,
                    StatusCode::BAD_REQUEST,
                    code::BAD_USER_INPUT,
                    "the request body could not be read",
                ));
            }
        };
        let Ok(batch) = serde_json::from_slice::<BatchRequest>(&body) else {
            return Err(refusal(
                media,
                StatusCode::BAD_REQUEST,
                code::BAD_USER_INPUT,
                "the body is not a GraphQL request in JSON",
            ));
        };
        let max_batch = state.app.config.http.graphql_max_batch;
        if let BatchRequest::Batch(requests) = &batch
            && (requests.len() > max_batch || requests.is_empty())
        {
            return Err(refusal(
                media,
                StatusCode::BAD_REQUEST,
                code::GRAPHQL_VALIDATION_FAILED,
                &format!(
                    "a batch holds 1 to {max_batch} operations; this one holds {}",
                    requests.len()
                ),
            ));
        }
        Ok(Self(batch))
    }
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

/// The query string of `GET /graphql` as a GraphQL request (400 when it is
/// not one).
pub struct GetRequest(pub async_graphql::Request);

impl<S: Send + Sync> FromRequestParts<S> for GetRequest {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Ok(media) = ResponseMedia::from_request_parts(parts, state).await;
        let Ok(RawQuery(query)) = RawQuery::from_request_parts(parts, state).await;
        parse_get(query.as_deref().unwrap_or(""))
            .map(Self)
            .ok_or_else(|| {
                refusal(
                    media,
                    StatusCode::BAD_REQUEST,
                    code::BAD_USER_INPUT,
                    "the query string is not a GraphQL request",
                )
            })
    }
}

/// `POST /graphql`: one operation or a batch (a JSON array).
pub async fn graphql_post(
    State(state): State<HttpState>,
    media: ResponseMedia,
    auth: Result<MaybeAuthUser, AuthRejection>,
    PostedBatch(batch): PostedBatch,
) -> Response {
    execute(&state, media, auth, batch, None).await
}

/// `GET /graphql`: queries only (a mutation, persisted or not, is refused
/// with 405 and `Allow: POST`).
pub async fn graphql_get(
    State(state): State<HttpState>,
    media: ResponseMedia,
    auth: Result<MaybeAuthUser, AuthRejection>,
    GetRequest(request): GetRequest,
) -> Response {
    let queries_only = QueriesOnly {
        operation_name: request.operation_name.clone(),
        ..QueriesOnly::default()
    };
    execute(
        &state,
        media,
        auth,
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

/// Authentication (its refusal comes after those of the extractors that
/// read the request, which is why it is extracted as a `Result`), the
/// per-user rate limit, then execution within the request timeout.
async fn execute(
    state: &HttpState,
    media: ResponseMedia,
    auth: Result<MaybeAuthUser, AuthRejection>,
    batch: BatchRequest,
    queries_only: Option<QueriesOnly>,
) -> Response {
    let viewer = match auth {
        Ok(MaybeAuthUser(viewer)) => viewer,
        Err(rejection) => return rejection.into_response(),
    };
    if let Some(user) = viewer.user()
        && let Err(retry) = state.rate_limits.check_user(user.id.as_str())
    {
        return too_many_requests(media, retry, "user");
    }
    // A mutation then pays one per root field (aliases included), the one
    // just taken counting as the first.
    let quota = viewer
        .user()
        .filter(|_| state.rate_limits.limits_users())
        .map(|user| {
            let quota = UserQuota {
                limits: Arc::clone(&state.rate_limits),
                sub: user.id.as_str().to_owned(),
            };
            MutationQuota::new(Arc::new(quota), 1)
        });
    let single = matches!(batch, BatchRequest::Single(_));
    let slot = OperationSlot::default();
    let label = match &batch {
        BatchRequest::Single(request) => {
            LabelFrom::Sent(request.operation_name.clone(), slot.clone())
        }
        BatchRequest::Batch(_) => LabelFrom::Batch,
    };
    let batch = prepare(
        state,
        batch,
        &viewer,
        &slot,
        queries_only.as_ref(),
        quota.as_ref(),
    );
    let timeout = state.app.config.http.request_timeout;
    let executed = tokio::time::timeout(timeout, state.schema.answer_batch(batch)).await;
    let label = label.resolve();
    tracing::Span::current().record("operation", label.0.as_str());
    let mut response = match executed {
        Err(_) => {
            tracing::warn!(
                timeout_ms = timeout.as_millis(),
                "GraphQL request timed out"
            );
            refusal(
                media,
                StatusCode::SERVICE_UNAVAILABLE,
                code::SERVICE_UNAVAILABLE,
                &format!("the request took longer than {} ms", timeout.as_millis()),
            )
        }
        // A single mutation over the write quota ran nothing: 429. In a
        // batch, the operations before it may have run; each answers.
        Ok(_) if single && let Some(wait) = quota.as_ref().and_then(MutationQuota::refused) => {
            too_many_requests(media, RetryAfter(wait), "user")
        }
        Ok(_) if queries_only.as_ref().is_some_and(QueriesOnly::was_refused) => {
            let mut response = refusal(
                media,
                StatusCode::METHOD_NOT_ALLOWED,
                code::BAD_USER_INPUT,
                GET_MUTATION_MESSAGE,
            );
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            response
        }
        Ok(answers) => respond(media, answers),
    };
    response.extensions_mut().insert(label);
    response
}

/// Where the metric label of a request comes from, known once it ran.
enum LabelFrom {
    Sent(Option<String>, OperationSlot),
    Batch,
}

impl LabelFrom {
    fn resolve(self) -> OperationLabel {
        match self {
            Self::Sent(sent, slot) => operation_label(sent.as_deref(), &slot),
            Self::Batch => OperationLabel("batch".to_owned()),
        }
    }
}

/// The request data every operation of a batch gets: the viewer, fresh
/// dataloaders, the operation slot and, over GET, the queries-only rule.
fn prepare(
    state: &HttpState,
    batch: BatchRequest,
    viewer: &Viewer,
    slot: &OperationSlot,
    queries_only: Option<&QueriesOnly>,
    quota: Option<&MutationQuota>,
) -> BatchRequest {
    let pool = &state.app.db.pool;
    let delay = state.app.config.http.graphql_loader_delay;
    // One cost and response budget for all operations of the request.
    let budget = RequestBudget::default();
    let prepare = |request: async_graphql::Request| {
        let mut request = request
            .data(viewer.clone())
            .data(Loaders::new(pool, delay))
            .data(PageLoaders::new(pool, delay))
            .data(slot.clone())
            .data(budget.clone());
        if let Some(quota) = quota {
            request = request.data(quota.clone());
        }
        match queries_only {
            Some(queries_only) => request.data(queries_only.clone()),
            None => request,
        }
    };
    match batch {
        BatchRequest::Single(request) => BatchRequest::Single(prepare(request)),
        BatchRequest::Batch(requests) => {
            BatchRequest::Batch(requests.into_iter().map(prepare).collect())
        }
    }
}

/// The answer to an executed request: its errors counted, 400 for a request
/// error in `graphql-response+json`, else 200.
fn respond(media: ResponseMedia, answers: Answers) -> Response {
    for answer in answers.iter() {
        answer.error_codes.iter().for_each(|code| count_error(code));
    }
    let status = match &answers {
        Answers::Single(answer)
            if media == ResponseMedia::GraphqlResponse && answer.request_error =>
        {
            StatusCode::BAD_REQUEST
        }
        _ => StatusCode::OK,
    };
    (
        status,
        [(header::CONTENT_TYPE, media.content_type())],
        answers.into_body(),
    )
        .into_response()
}

/// `GET /graphiql`: the playground, pointed at `/graphql` (subscriptions
/// over WebSocket on the same path). Its requests
/// carry `Apollo-Require-Preflight`, so CSRF prevention lets them through.
pub async fn graphiql_page() -> Html<String> {
    Html(
        async_graphql::http::GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql")
            .header("Apollo-Require-Preflight", "true")
            .title("user-service")
            .finish(),
    )
}
