//! The REST compatibility layer for clients of the old FastAPI
//! user-service (`crate::rest`): whether it is served, and when it goes.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `LEGACY_REST_ENABLED` | [`DEFAULT_LEGACY_REST_ENABLED`] | serve the legacy REST endpoints, `/openapi.json` and `/docs` |
//! | `LEGACY_REST_SUNSET` | [`DEFAULT_LEGACY_REST_SUNSET`] | the date (UTC) announced in every REST response's `Sunset` header |

use chrono::NaiveDate;
use clap::Args;

/// `LEGACY_REST_ENABLED`.
pub const DEFAULT_LEGACY_REST_ENABLED: bool = true;
/// `LEGACY_REST_SUNSET`.
pub const DEFAULT_LEGACY_REST_SUNSET: &str = "2027-06-30";

/// Reads a `YYYY-MM-DD` date.
fn parse_date(value: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .map_err(|error| format!("expected a date as YYYY-MM-DD: {error}"))
}

/// The legacy REST layer.
#[derive(Debug, Clone, Args)]
pub struct LegacyRestConfig {
    /// Serve the FastAPI-compatible REST endpoints, `/openapi.json` and
    /// `/docs`.
    #[arg(long, env = "LEGACY_REST_ENABLED", default_value_t = DEFAULT_LEGACY_REST_ENABLED, action = clap::ArgAction::Set, global = true)]
    pub legacy_rest_enabled: bool,
    /// The day the REST endpoints go away, announced in `Sunset`.
    #[arg(long, env = "LEGACY_REST_SUNSET", default_value = DEFAULT_LEGACY_REST_SUNSET, value_parser = parse_date, global = true)]
    pub legacy_rest_sunset: NaiveDate,
}
