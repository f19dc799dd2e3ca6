//! The auth-service's HTTP API (contract §7): `GET /users/{id}`, asked only
//! for users the service has not learned about from events. Every failure
//! degrades to "unknown": callers carry on with local data.

use std::time::Duration;

use serde::Deserialize;

use crate::db::auth_users::AuthUserDetails;
use crate::domain::AuthUserId;

/// What the auth-service said about a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found(AuthUserDetails),
    /// The auth-service does not know the user (404).
    NotFound,
    /// No usable answer (timeout, connection refused, 5xx, bad body).
    Unavailable,
}

#[derive(Debug, Deserialize)]
struct UserBody {
    username: Option<String>,
    email: Option<String>,
}

/// The client, cheap to clone.
#[derive(Debug, Clone)]
pub struct AuthServiceClient {
    http: reqwest::Client,
    base_url: String,
}

impl AuthServiceClient {
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .timeout(timeout)
            .user_agent(concat!("user-service/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
        })
    }

    /// Looks a user up.
    #[tracing::instrument(skip(self), fields(auth_user_id = %id))]
    pub async fn fetch_user(&self, id: &AuthUserId) -> Lookup {
        let url = format!("{}/users/{}", self.base_url, id);
        let response = match self.http.get(&url).send().await {
            Ok(response) => response,
            Err(error) => {
                tracing::warn!(%error, "auth-service unreachable");
                return Lookup::Unavailable;
            }
        };
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            tracing::warn!("auth-service does not know a user holding a valid token");
            return Lookup::NotFound;
        }
        match response.error_for_status() {
            Ok(response) => match response.json::<UserBody>().await {
                Ok(body) => Lookup::Found(AuthUserDetails {
                    username: body.username,
                    email: body.email,
                }),
                Err(error) => {
                    tracing::warn!(%error, "auth-service sent an unreadable body");
                    Lookup::Unavailable
                }
            },
            Err(error) => {
                tracing::warn!(%error, "auth-service failed");
                Lookup::Unavailable
            }
        }
    }
}
