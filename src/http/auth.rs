//! Authentication as an extractor: [`MaybeAuthUser`] is the [`Viewer`] of
//! a request. Absent and invalid are two outcomes: without
//! `Authorization` the viewer is anonymous; a header that does not verify
//! is refused ([`AuthRejection`], 401 `UNAUTHENTICATED` with
//! `WWW-Authenticate: Bearer`), never treated as anonymous.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use crate::auth::Viewer;
use crate::error::AppError;
use crate::http::response::{ResponseMedia, unauthenticated};
use crate::http::state::HttpState;

/// The viewer of a request: a verified user, or anonymous without a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaybeAuthUser(pub Viewer);

/// A token that does not verify, answered in the negotiated media type.
#[derive(Debug)]
pub struct AuthRejection {
    media: ResponseMedia,
    error: AppError,
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        unauthenticated(self.media, &self.error)
    }
}

impl FromRequestParts<HttpState> for MaybeAuthUser {
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &HttpState,
    ) -> Result<Self, Self::Rejection> {
        match state.app.verifier.authenticate(&parts.headers).await {
            Ok(viewer) => Ok(Self(viewer)),
            Err(error) => {
                let Ok(media) = ResponseMedia::from_request_parts(parts, state).await;
                Err(AuthRejection {
                    media,
                    error: error.into(),
                })
            }
        }
    }
}
