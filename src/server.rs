//! Serving: [`serve`] on the configured address, [`serve_on`] a bound
//! listener, and graceful shutdown on SIGINT or SIGTERM.

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;

use crate::config::Config;

/// Serves `router` on the configured address until SIGINT or SIGTERM, then
/// lets in-flight requests finish.
pub async fn serve(config: &Config, router: Router) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen_addr()).await?;
    serve_on(listener, router, shutdown_signal()).await
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops
/// accepting connections and waits for in-flight requests to finish. The
/// peer address of each connection is available to the rate limiter.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    tracing::info!(address = %listener.local_addr()?, "serving");
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
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
