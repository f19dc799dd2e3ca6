//! The test harness: a [`TestApp`] per test, with its own database cloned
//! from a migrated template (dropped when the test ends, even on panic), a
//! settable clock, and a wiremock stand-in for the auth-service.
//!
//! - [`database`]: the template and [`TestDatabase`];
//! - [`app`]: [`TestApp`], [`test_config`], tokens;
//! - [`response`] holds [`TestResponse`];
//! - [`served`]: [`ServedApp`] over real TCP and [`http_client`];
//! - [`ws`]: [`WsClient`], a GraphQL-over-WebSocket client for subscriptions.
//!
//! Set `TEST_LOG` (to anything) to see the service's logs on stdout, filtered
//! by `RUST_LOG` (default `info`): `TEST_LOG=1 cargo test --test api name --
//! --nocapture`. Without it the tests are silent.

use std::sync::LazyLock;

pub mod app;
pub mod database;
pub mod response;
pub mod served;
pub mod ws;

pub use app::*;
pub use database::*;
pub use response::*;
pub use served::*;
pub use ws::*;

/// The secret test tokens are signed with.
pub const TEST_SECRET: &str = "test-secret-that-is-long-enough-for-hs256-0123456789";

/// Installs the stdout subscriber when `TEST_LOG` is set, once per process.
static TEST_LOG: LazyLock<()> = LazyLock::new(|| {
    if std::env::var_os("TEST_LOG").is_some() {
        user_service::telemetry::init(false);
    }
});

/// Turns logging on (see the module doc); every harness entry point calls it.
pub fn init_test_log() {
    LazyLock::force(&TEST_LOG);
}
