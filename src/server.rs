//! Serving: [`serve`] on the configured address, [`serve_on`] /
//! [`serve_with`] a bound listener, with a header read timeout per
//! connection and graceful shutdown on SIGINT or SIGTERM bounded by a
//! deadline.
//!
//! `axum::serve` exposes neither hyper's header read timeout nor a shutdown
//! deadline, so the accept loop is here: one task per connection, served by
//! hyper's HTTP/1 connection with a timer (what `axum::serve` serves too),
//! the peer address inserted as axum's `ConnectInfo` for the rate limiter.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::config::{Config, HttpConfig, http};

/// How long a client may take to send its headers, and how long in-flight
/// connections may run after the shutdown signal.
#[derive(Debug, Clone, Copy)]
pub struct ServerTimeouts {
    /// A connection that has not sent a request's whole headers within this
    /// time is closed (`HEADER_READ_TIMEOUT_MS`).
    pub header_read: Duration,
    /// After the shutdown signal, connections still open after this long
    /// are closed and serving returns (`SHUTDOWN_TIMEOUT_MS`).
    pub shutdown: Duration,
}

impl ServerTimeouts {
    /// The timeouts `config` sets.
    pub fn from_config(config: &HttpConfig) -> Self {
        Self {
            header_read: config.header_read_timeout,
            shutdown: config.shutdown_timeout,
        }
    }
}

impl Default for ServerTimeouts {
    /// The documented defaults.
    fn default() -> Self {
        Self {
            header_read: http::DEFAULT_HEADER_READ_TIMEOUT,
            shutdown: http::DEFAULT_SHUTDOWN_TIMEOUT,
        }
    }
}

/// Serves `router` on the configured address until SIGINT or SIGTERM, then
/// lets in-flight requests finish within the shutdown deadline.
pub async fn serve(config: &Config, router: Router) -> std::io::Result<()> {
    let listener = TcpListener::bind(config.listen_addr()).await?;
    serve_with(
        listener,
        router,
        shutdown_signal(),
        ServerTimeouts::from_config(&config.http),
    )
    .await
}

/// [`serve_with`] the default timeouts.
pub async fn serve_on(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, router, shutdown, ServerTimeouts::default()).await
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops
/// accepting connections, lets in-flight requests finish for at most
/// `timeouts.shutdown`, closes the connections left and returns. The peer
/// address of each connection is available to the rate limiter.
pub async fn serve_with(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    timeouts: ServerTimeouts,
) -> std::io::Result<()> {
    tracing::info!(address = %listener.local_addr()?, "serving");
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(serve_connection(
                        stream,
                        peer,
                        router.clone(),
                        timeouts.header_read,
                        stopping.clone(),
                    ));
                }
                // Out of file descriptors and the like: wait a little
                // rather than spin (as axum::serve does).
                Err(error) => {
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            // Reap finished connections as they go.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let _ = stop.send(true);
    let drained = tokio::time::timeout(timeouts.shutdown, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = connections.len(),
            shutdown_timeout_ms = timeouts.shutdown.as_millis(),
            "the shutdown deadline passed: closing the connections left"
        );
        connections.shutdown().await;
    }
    Ok(())
}

/// Serves one connection until it closes, or, once `stopping` turns true,
/// until its request in flight is answered (the caller bounds that).
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    header_read_timeout: Duration,
    mut stopping: watch::Receiver<bool>,
) {
    let service = router.map_request(move |mut request: axum::http::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        request
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let connection = builder
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
        .with_upgrades();
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(error) = result {
                tracing::debug!(%error, %peer, "connection ended with an error");
            }
            return;
        }
        // A dropped sender means serving is over: stop as well.
        _ = stopping.wait_for(|stopping| *stopping) => {}
    }
    connection.as_mut().graceful_shutdown();
    if let Err(error) = connection.await {
        tracing::debug!(%error, %peer, "connection ended with an error during shutdown");
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
