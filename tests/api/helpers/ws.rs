//! [`WsClient`]: a small GraphQL-over-WebSocket client (graphql-transport-ws
//! or the legacy graphql-ws) for the subscription tests.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The new protocol (graphql-ws library).
pub const TRANSPORT_WS: &str = "graphql-transport-ws";
/// The legacy protocol (subscriptions-transport-ws).
pub const LEGACY_WS: &str = "graphql-ws";

/// What the server did with a frame we waited for.
#[derive(Debug)]
pub enum Received {
    Json(Value),
    Closed(Option<u16>),
    Nothing,
}

/// One WebSocket connection to `/graphql`.
pub struct WsClient {
    pub socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub protocol: &'static str,
}

/// Why an upgrade was refused: the HTTP status.
#[derive(Debug)]
pub struct Refused(pub u16);

#[allow(dead_code)] // some helpers serve some tests only
impl WsClient {
    /// Opens a connection to `ws://{addr}/graphql` speaking `protocol`.
    pub async fn connect(
        addr: std::net::SocketAddr,
        protocol: &'static str,
    ) -> Result<Self, Refused> {
        let stream = TcpStream::connect(addr).await.expect("connect");
        Self::connect_on(stream, addr, protocol).await
    }

    /// As [`Self::connect`] over an already connected `stream`.
    pub async fn connect_on(
        stream: TcpStream,
        addr: std::net::SocketAddr,
        protocol: &'static str,
    ) -> Result<Self, Refused> {
        let mut request = format!("ws://{addr}/graphql")
            .into_client_request()
            .expect("request");
        request
            .headers_mut()
            .insert("sec-websocket-protocol", protocol.parse().unwrap());
        match tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream)).await {
            Ok((socket, _)) => Ok(Self { socket, protocol }),
            Err(Error::Http(response)) => Err(Refused(response.status().as_u16())),
            Err(error) => panic!("WebSocket handshake: {error}"),
        }
    }

    pub async fn send_json(&mut self, value: Value) {
        self.socket
            .send(Message::Text(value.to_string().into()))
            .await
            .expect("send");
    }

    /// The next JSON message or close within `wait` (pings are answered by
    /// the library while we read).
    pub async fn next(&mut self, wait: Duration) -> Received {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Err(_) => return Received::Nothing,
                Ok(None) => return Received::Closed(None),
                Ok(Some(Err(_))) => return Received::Closed(None),
                Ok(Some(Ok(Message::Text(text)))) => {
                    let value: Value = serde_json::from_str(&text).expect("JSON message");
                    // Keep-alives of the legacy protocol are noise here.
                    if value["type"] == "ka" {
                        continue;
                    }
                    return Received::Json(value);
                }
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return Received::Closed(frame.map(|frame: CloseFrame| frame.code.into()));
                }
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// Sends `connection_init` with `payload`; the server's answer.
    pub async fn init(&mut self, payload: Value) -> Received {
        self.send_json(json!({ "type": "connection_init", "payload": payload }))
            .await;
        self.next(Duration::from_secs(5)).await
    }

    /// `connection_init` with a bearer token; panics unless acknowledged.
    pub async fn init_with_token(&mut self, token: &str) {
        match self
            .init(json!({ "Authorization": format!("Bearer {token}") }))
            .await
        {
            Received::Json(ack) if ack["type"] == "connection_ack" => {}
            other => panic!("expected connection_ack, got {other:?}"),
        }
    }

    /// Starts the subscription `id`.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        let kind = if self.protocol == TRANSPORT_WS {
            "subscribe"
        } else {
            "start"
        };
        self.send_json(json!({
            "id": id, "type": kind,
            "payload": { "query": query, "variables": variables }
        }))
        .await;
    }

    /// The next `next`/`data` message (with its `id` and `payload`) of any
    /// subscription within `wait`; panics on anything else.
    pub async fn next_data(&mut self, wait: Duration) -> Value {
        match self.next(wait).await {
            Received::Json(message) if message["type"] == "next" || message["type"] == "data" => {
                message
            }
            other => panic!("expected a subscription event, got {other:?}"),
        }
    }

    /// Asserts nothing arrives within `wait`.
    pub async fn expect_silence(&mut self, wait: Duration) {
        match self.next(wait).await {
            Received::Nothing => {}
            other => panic!("expected nothing, got {other:?}"),
        }
    }
}
