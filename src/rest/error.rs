//! FastAPI's error answers: `{"detail": "..."}` with 401, 403, 404, 413,
//! 429, 500 or 503, and 422 `{"detail": [{"loc", "msg", "type"}]}` for
//! input that does not validate. [`RestError::from_graphql`] turns the
//! contract's GraphQL error codes into them, so a refusal means the same
//! on both surfaces.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::code;
use crate::http::limits::RetryAfter;
use crate::http::response::count_error;

/// An error answer: `detail` says what went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct HttpError {
    /// What went wrong.
    #[schema(example = "Goal not found")]
    pub detail: String,
}

/// One step of the path to the input at fault: an object key or a list
/// index (`["body", "skills", 3]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum LocItem {
    Key(String),
    Index(usize),
}

/// One input that does not validate.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ValidationIssue {
    /// Where: `body`, `path` or `query`, then the field.
    pub loc: Vec<LocItem>,
    /// Why.
    pub msg: String,
    /// The kind of failure: `missing`, `json_invalid`,
    /// `model_attributes_type` (a body that is not an object),
    /// `type_error` (a JSON type) or `value_error` (a rule).
    #[serde(rename = "type")]
    pub kind: String,
}

/// The 422 answer: every input at fault.
#[derive(Debug, Serialize, ToSchema)]
pub struct ValidationErrorBody {
    pub detail: Vec<ValidationIssue>,
}

/// A refused REST request.
#[derive(Debug)]
pub enum RestError {
    /// `{"detail": "..."}` with this status (`code` is the contract code
    /// the refusal is counted under).
    Detail {
        status: StatusCode,
        code: &'static str,
        detail: String,
    },
    /// 422 with the inputs at fault.
    Validation(Vec<ValidationIssue>),
    /// 429 with `Retry-After`.
    TooManyRequests(RetryAfter),
}

/// Where an input came from, the first step of its `loc`.
#[derive(Debug, Clone, Copy)]
pub enum Source {
    Body,
    Path,
    Query,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Self::Body => "body",
            Self::Path => "path",
            Self::Query => "query",
        }
    }
}

impl RestError {
    /// 401, as FastAPI's `HTTPBearer` answers it.
    pub fn unauthenticated() -> Self {
        Self::Detail {
            status: StatusCode::UNAUTHORIZED,
            code: code::UNAUTHENTICATED,
            detail: "Not authenticated".to_owned(),
        }
    }

    /// 404 for a missing `what` ("User", "Goal").
    pub fn not_found(what: &str) -> Self {
        Self::Detail {
            status: StatusCode::NOT_FOUND,
            code: code::NOT_FOUND,
            detail: format!("{what} not found"),
        }
    }

    /// 500; the cause is logged where it happened, never sent.
    pub fn internal() -> Self {
        Self::Detail {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: code::INTERNAL_SERVER_ERROR,
            detail: "Internal Server Error".to_owned(),
        }
    }

    /// 503.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::Detail {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: code::SERVICE_UNAVAILABLE,
            detail: detail.into(),
        }
    }

    /// 413.
    pub fn too_large(limit: usize) -> Self {
        Self::Detail {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: code::BAD_USER_INPUT,
            detail: format!("Request body is larger than {limit} bytes"),
        }
    }

    /// 422 for one input.
    pub fn invalid(loc: Vec<LocItem>, msg: impl Into<String>, kind: &str) -> Self {
        Self::Validation(vec![ValidationIssue {
            loc,
            msg: msg.into(),
            kind: kind.to_owned(),
        }])
    }

    /// The REST answer to a GraphQL error with the contract `code`, the
    /// input `field` it names (camelCase, as GraphQL names it) and its
    /// message. `fields` maps the GraphQL argument names of the operation
    /// to where the REST request carried them (`authUserId` → path
    /// `user_id`); any other field is a body field, in snake_case.
    pub fn from_graphql(
        code: &str,
        field: Option<&str>,
        message: &str,
        fields: &[(&str, Source, &str)],
    ) -> Self {
        let detail_of = |status: StatusCode, code: &'static str| Self::Detail {
            status,
            code,
            detail: capitalised(message),
        };
        match code {
            code::UNAUTHENTICATED => Self::unauthenticated(),
            code::FORBIDDEN => detail_of(StatusCode::FORBIDDEN, code::FORBIDDEN),
            code::NOT_FOUND => detail_of(StatusCode::NOT_FOUND, code::NOT_FOUND),
            code::BAD_USER_INPUT | code::GRAPHQL_VALIDATION_FAILED => {
                let loc = match field {
                    Some(field) => match fields.iter().find(|(name, _, _)| *name == field) {
                        Some((_, source, name)) => {
                            vec![source_key(*source), LocItem::Key((*name).to_owned())]
                        }
                        // `input` is the whole body (a cap was reached).
                        None if field == "input" => vec![source_key(Source::Body)],
                        None => vec![source_key(Source::Body), LocItem::Key(snake_case(field))],
                    },
                    None => vec![source_key(Source::Body)],
                };
                Self::invalid(loc, message, "value_error")
            }
            code::SERVICE_UNAVAILABLE => Self::unavailable("Service unavailable"),
            _ => Self::internal(),
        }
    }
}

fn source_key(source: Source) -> LocItem {
    LocItem::Key(source.as_str().to_owned())
}

/// `message` with its first letter upper-cased ("goal not found" →
/// "Goal not found"), as FastAPI applications phrase `detail`.
fn capitalised(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `displayName` → `display_name`.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        match self {
            Self::Detail {
                status,
                code,
                detail,
            } => {
                count_error(code);
                let mut response = (status, axum::Json(HttpError { detail })).into_response();
                if status == StatusCode::UNAUTHORIZED {
                    response
                        .headers_mut()
                        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                }
                response
            }
            Self::Validation(detail) => {
                count_error(code::BAD_USER_INPUT);
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    axum::Json(ValidationErrorBody { detail }),
                )
                    .into_response()
            }
            Self::TooManyRequests(retry) => {
                metrics::counter!("rate_limited_total", "limiter" => "rest").increment(1);
                count_error(code::SERVICE_UNAVAILABLE);
                let body = HttpError {
                    detail: "Too many requests: retry later".to_owned(),
                };
                let mut response =
                    (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry.seconds()));
                response
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphql_fields_become_fastapi_locations() {
        let fields = [("authUserId", Source::Path, "user_id")];
        let RestError::Validation(issues) =
            RestError::from_graphql(code::BAD_USER_INPUT, Some("websiteUrl"), "bad", &fields)
        else {
            panic!("not a validation error");
        };
        assert_eq!(
            issues[0].loc,
            [
                LocItem::Key("body".into()),
                LocItem::Key("website_url".into())
            ]
        );
        let RestError::Validation(issues) =
            RestError::from_graphql(code::BAD_USER_INPUT, Some("authUserId"), "bad", &fields)
        else {
            panic!("not a validation error");
        };
        assert_eq!(
            issues[0].loc,
            [LocItem::Key("path".into()), LocItem::Key("user_id".into())]
        );
    }

    #[test]
    fn codes_map_to_fastapi_statuses() {
        for (code, status) in [
            (code::FORBIDDEN, StatusCode::FORBIDDEN),
            (code::NOT_FOUND, StatusCode::NOT_FOUND),
            (code::UNAUTHENTICATED, StatusCode::UNAUTHORIZED),
            (code::SERVICE_UNAVAILABLE, StatusCode::SERVICE_UNAVAILABLE),
            (
                code::INTERNAL_SERVER_ERROR,
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
        ] {
            let response = RestError::from_graphql(code, None, "x", &[]).into_response();
            assert_eq!(response.status(), status, "{code}");
        }
    }
}
