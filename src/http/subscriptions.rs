//! GraphQL subscriptions over WebSocket on `/graphql`: the
//! `graphql-transport-ws` protocol and the legacy `graphql-ws`
//! (subscriptions-transport-ws) one, chosen by `Sec-WebSocket-Protocol`.
//!
//! A `GET /graphql` that asks for a WebSocket upgrade is served here
//! ([`graphql_get_or_subscribe`]); any other GET is a query
//! ([`crate::http::graphql::graphql_get`]). Both pass the admission layer
//! first (the per-address rate limit and router-only mode; CSRF prevention
//! does not apply to upgrades: no credential travels with them).
//!
//! Security and limits, per connection:
//!
//! - **The token** comes in the `connection_init` payload (browsers cannot
//!   set headers on a WebSocket), as `Authorization` / `authorization`
//!   (`"Bearer <jwt>"`), also accepted under `headers`. It is checked by
//!   the same code as the HTTP header: no token is anonymous; a present but
//!   invalid one refuses the connection (close `4403`), never anonymous.
//! - **Expiry**: the connection closes (`4401`) when its token expires.
//! - **Connections** per token subject and per client address are capped
//!   (`4429` / HTTP 429); **subscriptions** per connection are capped (the
//!   extra one gets an error); each operation started takes one request
//!   from the `/graphql` rate limits (address and user), and a connection
//!   over them is closed (`4429`).
//! - **Timeouts**: `connection_init` must arrive in time (`4408`); the
//!   server pings, and a client silent for the idle timeout (no frame at
//!   all, pongs included) is closed (`4408`).
//! - **Slow clients**: one message that cannot be written within the send
//!   timeout, or a subscriber further behind than its buffer
//!   ([`crate::live`]), drops the connection (`4008`); nothing queues
//!   without bound.

use std::net::IpAddr;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_graphql::Data;
use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, WebSocketProtocols, WsMessage};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Request, State};
use axum::handler::Handler;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::{SinkExt, StreamExt};

use crate::auth::Viewer;
use crate::error::code;
use crate::graphql::Loaders;
use crate::graphql::pages::PageLoaders;
use crate::graphql::subscription::{ConnectionControl, SubscriptionSlots};
use crate::http::graphql::graphql_get;
use crate::http::limits::{ClientAddr, RetryAfter};
use crate::http::response::{ResponseMedia, refusal, too_many_requests};
use crate::http::state::HttpState;
use crate::live::ConnectionSlot;

/// Close codes (graphql-transport-ws uses 44xx for its refusals).
pub mod close {
    /// The token is invalid.
    pub const FORBIDDEN: u16 = 4403;
    /// The token expired while the connection was open.
    pub const TOKEN_EXPIRED: u16 = 4401;
    /// Too many connections for this user.
    pub const TOO_MANY: u16 = 4429;
    /// `connection_init` did not come in time, or the client went silent.
    pub const TIMEOUT: u16 = 4408;
    /// The client does not read fast enough.
    pub const SLOW: u16 = 4008;
}

fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"))
}

/// Whether a request asks for a WebSocket upgrade (the admission layer
/// spares those CSRF prevention).
pub fn is_upgrade_request(headers: &HeaderMap) -> bool {
    is_websocket_upgrade(headers)
}

/// `GET /graphql`: a WebSocket upgrade for subscriptions, else a query.
pub async fn graphql_get_or_subscribe(
    State(state): State<HttpState>,
    request: Request,
) -> Response {
    if !is_websocket_upgrade(request.headers()) {
        return graphql_get.call(request, state).await;
    }
    let (mut parts, _) = request.into_parts();
    let refuse =
        |status, message: &str| refusal(ResponseMedia::Json, status, code::BAD_USER_INPUT, message);
    if !state.app.config.subscriptions.subscriptions_enabled {
        return refuse(StatusCode::NOT_FOUND, "subscriptions are switched off");
    }
    let Ok(ClientAddr(address)) = ClientAddr::from_request_parts(&mut parts, &state).await;
    let protocol = parts
        .headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|value| value.to_str().ok())
        .and_then(|protocols| {
            protocols
                .split(',')
                .find_map(|protocol| WebSocketProtocols::from_str(protocol.trim()).ok())
        });
    let Some(protocol) = protocol else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "Sec-WebSocket-Protocol must offer graphql-transport-ws or graphql-ws",
        );
    };
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    let config = &state.app.config.subscriptions;
    let Some(address_slot) = state
        .app
        .live
        .connections()
        .hold_address(address, config.subscription_max_connections_per_ip)
    else {
        return too_many_requests(
            ResponseMedia::Json,
            RetryAfter(Duration::from_secs(1)),
            "subscriptions_ip",
        );
    };
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        // A message, and each frame of it, within the body limit of a POST:
        // nothing bigger is buffered.
        .max_message_size(state.app.config.http.max_body_bytes)
        .max_frame_size(state.app.config.http.max_body_bytes)
        .on_upgrade(move |socket| async move {
            metrics::gauge!("subscription_connections").increment(1.0);
            serve(state, socket, protocol, address).await;
            metrics::gauge!("subscription_connections").decrement(1.0);
            drop(address_slot);
        })
}

/// Why `connection_init` was refused, to close with the right code.
type Refusal = Arc<Mutex<Option<(u16, String)>>>;

/// The `Authorization` value a `connection_init` payload carries, if any;
/// `Err` when one is there but is not a string.
fn payload_authorization(payload: &serde_json::Value) -> Result<Option<String>, ()> {
    let found = ["Authorization", "authorization"]
        .iter()
        .find_map(|name| payload.get(*name))
        .or_else(|| {
            let headers = payload.get("headers")?;
            ["Authorization", "authorization"]
                .iter()
                .find_map(|name| headers.get(*name))
        });
    match found {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(value)) => Ok(Some(value.clone())),
        Some(_) => Err(()),
    }
}

/// The `exp` of a token that has been verified.
fn verified_expiry(authorization: &str) -> Option<i64> {
    let token = authorization.trim().split_once(' ')?.1.trim();
    let claims = URL_SAFE_NO_PAD.decode(token.split('.').nth(1)?).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&claims).ok()?;
    claims.get("exp")?.as_f64().map(|exp| exp as i64)
}

/// What `connection_init` settled.
struct Session {
    /// When the token expires (Unix seconds), for a signed-in viewer.
    expires_at: Option<i64>,
}

/// Checks the `connection_init` payload like the HTTP guard checks the
/// header, and builds the connection's data.
async fn connection_init(
    state: HttpState,
    payload: serde_json::Value,
    control: ConnectionControl,
    refused: Refusal,
    subject: Subject,
    session: tokio::sync::oneshot::Sender<Session>,
) -> async_graphql::Result<Data> {
    let refuse = |code: u16, reason: &str| {
        if let Ok(mut refused) = refused.lock() {
            *refused = Some((code, reason.to_owned()));
        }
        async_graphql::Error::new(reason)
    };
    let authorization = payload_authorization(&payload)
        .map_err(|()| refuse(close::FORBIDDEN, "Forbidden: the token is invalid"))?;
    let mut headers = HeaderMap::new();
    if let Some(value) = &authorization {
        let value = HeaderValue::from_str(value)
            .map_err(|_| refuse(close::FORBIDDEN, "Forbidden: the token is invalid"))?;
        headers.insert(header::AUTHORIZATION, value);
    }
    let viewer = match state.app.verifier.authenticate(&headers).await {
        Ok(viewer) => viewer,
        Err(error) => {
            tracing::debug!(%error, "a WebSocket connection_init token was refused");
            metrics::counter!("subscription_refusals_total", "reason" => "token").increment(1);
            return Err(refuse(close::FORBIDDEN, "Forbidden: the token is invalid"));
        }
    };
    let config = &state.app.config.subscriptions;
    let mut data = Data::default();
    if let Some(user) = viewer.user() {
        let Some(slot) = state.app.live.connections().hold_user(
            user.id.as_str(),
            config.subscription_max_connections_per_user,
        ) else {
            metrics::counter!("subscription_refusals_total", "reason" => "user_connections")
                .increment(1);
            return Err(refuse(
                close::TOO_MANY,
                "Too many connections for this user",
            ));
        };
        data.insert(UserSlot(Arc::new(slot)));
        if let Ok(mut subject) = subject.lock() {
            *subject = Some(user.id.as_str().to_owned());
        }
    }
    let expires_at = viewer
        .user()
        .and(authorization.as_deref())
        .and_then(verified_expiry);
    let pool = &state.app.db.pool;
    let delay = state.app.config.http.graphql_loader_delay;
    data.insert(Loaders::new(pool, delay));
    data.insert(PageLoaders::new(pool, delay));
    data.insert(SubscriptionSlots::new(
        config.subscription_max_per_connection,
    ));
    data.insert(control);
    data.insert::<Viewer>(viewer);
    let _ = session.send(Session { expires_at });
    Ok(data)
}

/// The token subject of a connection, once `connection_init` settled it.
type Subject = Arc<Mutex<Option<String>>>;

/// The request quotas of `/graphql` applied to the operations a connection
/// starts: each `subscribe` (`start` in the legacy protocol) takes one
/// request from the client address's quota and, when signed in, from the
/// user's. Over quota, the connection is closed (`4429`).
#[derive(Clone)]
struct Quota {
    state: HttpState,
    address: IpAddr,
    subject: Subject,
    refused: Refusal,
}

impl Quota {
    /// Whether `frame` starts an operation (and so pays the quotas).
    fn starts(frame: &[u8]) -> bool {
        #[derive(serde::Deserialize)]
        struct Kind<'a> {
            #[serde(rename = "type", borrow)]
            kind: Option<&'a str>,
        }
        serde_json::from_slice::<Kind<'_>>(frame)
            .is_ok_and(|message| matches!(message.kind, Some("subscribe" | "start")))
    }

    /// Whether an operation may start: one from each quota.
    async fn admits(self) -> bool {
        let limits = &self.state.rate_limits;
        let subject = self.subject.lock().ok().and_then(|subject| subject.clone());
        let allowed = limits.check_ip(self.address).await.is_ok()
            && match subject {
                Some(subject) => limits.check_user(&subject).await.is_ok(),
                None => true,
            };
        if !allowed {
            metrics::counter!("rate_limited_total", "limiter" => "subscriptions").increment(1);
            if let Ok(mut refused) = self.refused.lock() {
                *refused = Some((close::TOO_MANY, "Too many operations: slow down".to_owned()));
            }
        }
        allowed
    }
}

/// The per-user count a connection holds, kept in its data.
#[derive(Clone)]
struct UserSlot(#[allow(dead_code)] Arc<ConnectionSlot>);

/// Serves one upgraded connection until it closes or is closed.
async fn serve(state: HttpState, socket: WebSocket, protocol: WebSocketProtocols, address: IpAddr) {
    let config = state.app.config.subscriptions.clone();
    let (mut sink, mut source) = socket.split();
    let control = ConnectionControl::default();
    let refused: Refusal = Arc::default();
    let (session_tx, mut session_rx) = tokio::sync::oneshot::channel::<Session>();
    let last_heard = Arc::new(Mutex::new(Instant::now()));

    let heard = last_heard.clone();
    let subject: Subject = Arc::default();
    let quota = Quota {
        state: state.clone(),
        address,
        subject: subject.clone(),
        refused: refused.clone(),
    };
    let input = async_stream_input(&mut source, heard).take_while(move |frame| {
        let quota = Quota::starts(frame).then(|| quota.clone());
        async move {
            match quota {
                Some(quota) => quota.admits().await,
                None => true,
            }
        }
    });
    let on_init = {
        let (state, control, refused) = (state.clone(), control.clone(), refused.clone());
        move |payload| connection_init(state, payload, control, refused, subject, session_tx)
    };
    let mut messages = std::pin::pin!(
        async_graphql::http::WebSocket::new(state.schema.clone(), input, protocol)
            .on_connection_init(on_init)
    );

    let started = Instant::now();
    let mut session: Option<Session> = None;
    let mut ping = tokio::time::interval(
        config
            .subscription_ping_interval
            .max(Duration::from_millis(10)),
    );
    ping.tick().await;
    let send_timeout = config.subscription_send_timeout;
    let closing: Option<(u16, String)> = loop {
        let expiry = session
            .as_ref()
            .and_then(|session| session.expires_at)
            .map(until_unix);
        let init_deadline = (session.is_none()).then(|| {
            config
                .subscription_init_timeout
                .saturating_sub(started.elapsed())
        });
        tokio::select! {
            message = messages.next() => match message {
                Some(WsMessage::Text(text)) => {
                    if send(&mut sink, Message::Text(text.into()), send_timeout).await.is_err() {
                        break None;
                    }
                }
                Some(WsMessage::Close(code, reason)) => {
                    let refusal = refused.lock().ok().and_then(|mut refused| refused.take());
                    break Some(refusal.unwrap_or((code, reason)));
                }
                None => {
                    let refusal = refused.lock().ok().and_then(|mut refused| refused.take());
                    break refusal;
                }
            },
            Ok(settled) = &mut session_rx, if session.is_none() => session = Some(settled),
            () = control.0.cancelled() => {
                break Some((close::SLOW, "the client does not keep up".to_owned()));
            }
            () = sleep_opt(expiry) => {
                metrics::counter!("subscription_closes_total", "reason" => "token_expired").increment(1);
                break Some((close::TOKEN_EXPIRED, "the token expired".to_owned()));
            }
            () = sleep_opt(init_deadline) => {
                break Some((close::TIMEOUT, "connection_init did not arrive in time".to_owned()));
            }
            _ = ping.tick() => {
                let silent = last_heard.lock().map(|at| at.elapsed()).unwrap_or_default();
                if silent >= config.subscription_idle_timeout {
                    break Some((close::TIMEOUT, "the client went silent".to_owned()));
                }
                if send(&mut sink, Message::Ping(Default::default()), send_timeout).await.is_err() {
                    break None;
                }
            }
        }
    };
    if let Some((code, reason)) = closing {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = send(&mut sink, Message::Close(Some(frame)), send_timeout).await;
    }
}

/// The client's text and binary frames as bytes; every frame (pings and
/// pongs too) counts as the client being alive. Ends at a close frame or
/// an error.
fn async_stream_input<'a>(
    source: &'a mut futures::stream::SplitStream<WebSocket>,
    heard: Arc<Mutex<Instant>>,
) -> impl futures::Stream<Item = Vec<u8>> + Send + 'a {
    source
        .take_while(|frame| {
            std::future::ready(matches!(frame, Ok(frame) if !matches!(frame, Message::Close(_))))
        })
        .filter_map(move |frame| {
            if let Ok(mut at) = heard.lock() {
                *at = Instant::now();
            }
            std::future::ready(match frame {
                Ok(Message::Text(text)) => Some(text.as_bytes().to_vec()),
                Ok(Message::Binary(bytes)) => Some(bytes.to_vec()),
                _ => None,
            })
        })
}

/// Sends one message within `timeout`; `Err` when the client is gone or
/// too slow (the connection is then dropped).
async fn send(
    sink: &mut futures::stream::SplitSink<WebSocket, Message>,
    message: Message,
    timeout: Duration,
) -> Result<(), ()> {
    match tokio::time::timeout(timeout, sink.send(message)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(()),
        Err(_) => {
            metrics::counter!("subscribers_dropped_total", "reason" => "send_timeout").increment(1);
            tracing::warn!("dropping a WebSocket client that does not read");
            Err(())
        }
    }
}

/// How long until the Unix time `at` (zero when past).
fn until_unix(at: i64) -> Duration {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let at = Duration::from_secs(u64::try_from(at).unwrap_or(0));
    at.saturating_sub(now)
}

async fn sleep_opt(duration: Option<Duration>) {
    match duration {
        Some(duration) => tokio::time::sleep(duration).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_read_from_the_payload_or_its_headers() {
        let bearer = Ok(Some("Bearer x".to_owned()));
        for payload in [
            serde_json::json!({ "Authorization": "Bearer x" }),
            serde_json::json!({ "authorization": "Bearer x" }),
            serde_json::json!({ "headers": { "Authorization": "Bearer x" } }),
        ] {
            assert_eq!(payload_authorization(&payload), bearer, "{payload}");
        }
        assert_eq!(payload_authorization(&serde_json::json!({})), Ok(None));
        assert_eq!(payload_authorization(&serde_json::Value::Null), Ok(None));
        assert_eq!(
            payload_authorization(&serde_json::json!({ "Authorization": 42 })),
            Err(())
        );
    }
}
