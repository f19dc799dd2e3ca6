//! [`ServedApp`]: a router served over real TCP, for the tests that need
//! sockets (graceful shutdown, the event consumer beside the server), and a
//! loopback HTTP client.

use axum::Router;

/// A router served over real TCP on a loopback port, stopped (gracefully)
/// when dropped.
pub struct ServedApp {
    pub addr: std::net::SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    pub task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

#[allow(dead_code)] // used by some test modules only
impl ServedApp {
    /// Serves `router` on `127.0.0.1:0`.
    pub async fn start(router: Router) -> Self {
        Self::start_with(router, user_service::server::ServerTimeouts::default()).await
    }

    /// Serves `router` on `127.0.0.1:0` with `timeouts`.
    pub async fn start_with(
        router: Router,
        timeouts: user_service::server::ServerTimeouts,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let (shutdown, signal) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(user_service::server::serve_with(
            listener,
            router,
            async move {
                let _ = signal.await;
            },
            timeouts,
        ));
        Self {
            addr,
            shutdown: Some(shutdown),
            task: Some(task),
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Starts the graceful shutdown (in-flight requests still finish).
    pub fn begin_shutdown(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

impl Drop for ServedApp {
    fn drop(&mut self) {
        self.begin_shutdown();
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// An HTTP client for loopback servers (no proxy from the environment).
#[allow(dead_code)] // used by some test modules only
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client")
}
