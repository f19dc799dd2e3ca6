//! How a REST request runs: who calls ([`Caller`]: the same token
//! verification and per-user rate limit as `/graphql`), what it sends
//! ([`Body`] and [`QueryParams`], refused with FastAPI's 422), and
//! [`Caller::run`], which executes one fixed GraphQL operation as the
//! caller through the same [`Executor`](crate::graphql::Executor) as
//! `/graphql` (its checks, then the engine, then the error codes), so the
//! guard, validation, privacy, activity and errors are GraphQL's own.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::auth::{AuthenticatedUser, Viewer};
use crate::graphql::Loaders;
use crate::graphql::budget::RequestBudget;
use crate::http::auth::MaybeAuthUser;
use crate::http::state::HttpState;
use crate::rest::error::{LocItem, RestError, Source};

/// The viewer of a REST request. A present but invalid token is 401, never
/// anonymous; an authenticated caller pays one request of the per-user
/// rate limit.
pub struct Caller(pub Viewer);

impl FromRequestParts<HttpState> for Caller {
    type Rejection = RestError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &HttpState,
    ) -> Result<Self, Self::Rejection> {
        let Ok(MaybeAuthUser(viewer)) = MaybeAuthUser::from_request_parts(parts, state).await
        else {
            return Err(RestError::Detail {
                status: StatusCode::UNAUTHORIZED,
                code: crate::error::code::UNAUTHENTICATED,
                detail: "Could not validate credentials".to_owned(),
            });
        };
        if let Some(user) = viewer.user() {
            state
                .rate_limits
                .check_user(user.id.as_str())
                .await
                .map_err(RestError::TooManyRequests)?;
        }
        Ok(Self(viewer))
    }
}

/// A caller who must be authenticated: anonymous is 401 before the body
/// is read (as FastAPI resolves its security dependency before the body).
pub struct Authenticated(pub Caller);

impl FromRequestParts<HttpState> for Authenticated {
    type Rejection = RestError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &HttpState,
    ) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        caller.user()?;
        Ok(Self(caller))
    }
}

impl Caller {
    /// The authenticated user; 401 for an anonymous caller.
    pub fn user(&self) -> Result<&AuthenticatedUser, RestError> {
        self.0.user().ok_or_else(RestError::unauthenticated)
    }

    /// Runs `document` with `variables` as this caller and returns its
    /// `data`. A GraphQL error becomes the REST error of its code;
    /// `fields` says where the request carried each GraphQL argument (see
    /// [`RestError::from_graphql`]).
    pub async fn run(
        &self,
        state: &HttpState,
        document: &str,
        variables: Value,
        fields: &[(&str, Source, &str)],
    ) -> Result<Value, RestError> {
        let app = &state.app;
        let request = async_graphql::Request::new(document)
            .variables(async_graphql::Variables::from_json(variables))
            .data(self.0.clone())
            .data(Loaders::new(
                &app.db.pool,
                app.config.http.graphql_loader_delay,
            ))
            .data(RequestBudget::default());
        let timeout = app.config.http.request_timeout;
        let Ok(response) = tokio::time::timeout(
            timeout,
            async_graphql::Executor::execute(&state.schema, request),
        )
        .await
        else {
            tracing::warn!(timeout_ms = timeout.as_millis(), "REST request timed out");
            return Err(RestError::unavailable(format!(
                "The request took longer than {} ms",
                timeout.as_millis()
            )));
        };
        if let Some(error) = response.errors.first() {
            let extension = |name: &str| match error.extensions.as_ref()?.get(name)? {
                async_graphql::Value::String(value) => Some(value.clone()),
                _ => None,
            };
            let code = extension("code").unwrap_or_default();
            return Err(RestError::from_graphql(
                &code,
                extension("field").as_deref(),
                &error.message,
                fields,
            ));
        }
        response.data.into_json().map_err(|error| {
            tracing::error!(%error, "a GraphQL answer is not JSON");
            RestError::internal()
        })
    }
}

/// Reads the answer's `data` into the REST shape `T`.
pub fn shape<T: DeserializeOwned>(data: Value) -> Result<T, RestError> {
    serde_json::from_value(data).map_err(|error| {
        tracing::error!(%error, "a GraphQL answer does not fit its REST shape");
        RestError::internal()
    })
}

/// The locations and message of a serde error at `path`.
fn issue_at(source: Source, path: &serde_path_to_error::Path, message: String) -> RestError {
    let mut loc = vec![LocItem::Key(
        match source {
            Source::Body => "body",
            Source::Path => "path",
            Source::Query => "query",
        }
        .to_owned(),
    )];
    for segment in path.iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => loc.push(LocItem::Index(*index)),
            serde_path_to_error::Segment::Map { key } => loc.push(LocItem::Key(key.clone())),
            serde_path_to_error::Segment::Enum { variant } => {
                loc.push(LocItem::Key(variant.clone()));
            }
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    // serde names a missing field in its message, not in the path.
    if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or_default();
        loc.push(LocItem::Key(name.to_owned()));
        return RestError::invalid(loc, "Field required", "missing");
    }
    RestError::invalid(loc, message, "type_error")
}

/// A JSON request body of type `T`, read within the body limit (413) and
/// the body read timeout (408 as 422 would mislead: 503), parsed with the
/// path of the first field at fault (422 `loc: ["body", field, ...]`).
/// The body's `Content-Type` is not checked, as FastAPI does not.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned> FromRequest<HttpState> for Body<T> {
    type Rejection = RestError;

    async fn from_request(request: Request, state: &HttpState) -> Result<Self, Self::Rejection> {
        let read_timeout = state.app.config.http.body_read_timeout;
        let Ok(read) =
            tokio::time::timeout(read_timeout, Bytes::from_request(request, state)).await
        else {
            return Err(RestError::Detail {
                status: StatusCode::REQUEST_TIMEOUT,
                code: crate::error::code::BAD_USER_INPUT,
                detail: format!(
                    "The request body did not arrive within {} ms",
                    read_timeout.as_millis()
                ),
            });
        };
        let bytes = match read {
            Ok(bytes) => bytes,
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(RestError::too_large(state.app.config.http.max_body_bytes));
            }
            Err(_) => {
                return Err(RestError::invalid(
                    vec![LocItem::Key("body".to_owned())],
                    "The request body could not be read",
                    "value_error",
                ));
            }
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(RestError::invalid(
                vec![LocItem::Key("body".to_owned())],
                "Field required",
                "missing",
            ));
        }
        let json_invalid = |error: &serde_json::Error| {
            RestError::invalid(
                vec![LocItem::Key("body".to_owned())],
                format!("JSON decode error: {error}"),
                "json_invalid",
            )
        };
        let value: Value = serde_json::from_slice(&bytes).map_err(|error| json_invalid(&error))?;
        if !value.is_object() {
            return Err(RestError::invalid(
                vec![LocItem::Key("body".to_owned())],
                "Input should be a JSON object",
                "model_attributes_type",
            ));
        }
        let parsed = serde_path_to_error::deserialize(value).map_err(|error| {
            let path = error.path().clone();
            issue_at(Source::Body, &path, error.into_inner().to_string())
        })?;
        Ok(Self(parsed))
    }
}

/// The query string read into `T` (422 `loc: ["query", name]`).
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = RestError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let deserializer =
            serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(Self)
            .map_err(|error| {
                let path = error.path().clone();
                issue_at(Source::Query, &path, error.into_inner().to_string())
            })
    }
}
