//! What a platform team runs the service with: HTTP cache hints, trusted
//! documents, and GraphiQL's subscription endpoint.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `CACHE_MAX_AGE_SECS` | [`DEFAULT_CACHE_MAX_AGE`] | `max-age` of public, viewer-independent query answers (0: every answer is `no-store`) |
//! | `TRUSTED_DOCUMENTS` | [`DEFAULT_TRUSTED_DOCUMENTS`] | `off`, `log` (unknown documents logged and counted) or `enforce` (only manifest documents run) |
//! | `TRUSTED_DOCUMENTS_MANIFEST` | unset | path of the persisted-query manifest (Apollo's JSON format); required by `log` and `enforce` |
//! | `GRAPHIQL_SUBSCRIPTION_URL` | unset | WebSocket URL GraphiQL sends subscriptions to (default: `ws(s)://` the page's host `/graphql`) |

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::parse_secs;

/// `CACHE_MAX_AGE_SECS`.
pub const DEFAULT_CACHE_MAX_AGE: Duration = Duration::from_secs(60);
/// `TRUSTED_DOCUMENTS`.
pub const DEFAULT_TRUSTED_DOCUMENTS: &str = "off";

/// How the trusted-document manifest is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TrustedDocumentsMode {
    /// Any document runs; no manifest is read.
    Off,
    /// Any document runs; those not in the manifest are logged and counted.
    Log,
    /// Only documents of the manifest run (by id or by identical body),
    /// unless the request bypasses the list (router secret, admin token).
    Enforce,
}

/// Cache hints, trusted documents and GraphiQL.
#[derive(Debug, Clone, Args)]
pub struct PlatformConfig {
    /// `max-age` of public, viewer-independent query answers (the variable
    /// is in seconds; 0 sends `no-store` on every answer).
    #[arg(
        long = "cache-max-age-secs",
        env = "CACHE_MAX_AGE_SECS",
        default_value = secs_default!(DEFAULT_CACHE_MAX_AGE),
        value_parser = parse_secs,
        global = true
    )]
    pub cache_max_age: Duration,
    /// Whether and how the trusted-document manifest is applied.
    #[arg(
        long,
        env = "TRUSTED_DOCUMENTS",
        value_enum,
        default_value = DEFAULT_TRUSTED_DOCUMENTS,
        global = true
    )]
    pub trusted_documents: TrustedDocumentsMode,
    /// The persisted-query manifest (Apollo's JSON format), read at start.
    #[arg(long, env = "TRUSTED_DOCUMENTS_MANIFEST", global = true)]
    pub trusted_documents_manifest: Option<PathBuf>,
    /// Where GraphiQL opens its WebSocket for subscriptions.
    #[arg(long, env = "GRAPHIQL_SUBSCRIPTION_URL", global = true)]
    pub graphiql_subscription_url: Option<String>,
}
