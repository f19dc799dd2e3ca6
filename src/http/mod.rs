//! The HTTP surface (contract §4) around the GraphQL schema:
//!
//! - [`graphql`]: `/graphql` over GET and POST, GraphQL over HTTP media types,
//!   CSRF prevention, router-only mode, batch cap and request timeout;
//! - [`limits`]: rate limiting per client address and per user, CORS;
//! - [`observability`]: request ids, the request span, Prometheus metrics;
//! - [`status`]: `/`, `/health`, `/ready` and `/db/status`.
//!
//! [`crate::app::router`] puts them together.

pub mod graphql;
pub mod limits;
pub mod observability;
pub mod status;
