//! The HTTP surface (contract §4) around the GraphQL schema:
//!
//! - [`state`]: [`state::HttpState`], the app with its schema and rate limiters;
//! - [`admission`]: the route layer of `/graphql` (media type negotiation,
//!   per-address rate limit, router-only mode, CSRF prevention);
//! - [`auth`]: authentication as an extractor ([`auth::MaybeAuthUser`]);
//! - [`graphql`]: the `/graphql` handlers over GET and POST (body, batch cap,
//!   per-user rate limit, request timeout, execution and response);
//! - [`response`]: the response media type and request-level refusals;
//! - [`limits`]: rate limiting per client address and per user, CORS;
//! - [`middleware`]: the layers around every route;
//! - [`observability`]: request ids, the request span, Prometheus metrics;
//! - [`status`]: `/`, `/health`, `/ready` and `/db/status`.
//!
//! [`crate::router`] puts them together.

pub mod admission;
pub mod auth;
pub mod graphql;
pub mod limits;
pub mod middleware;
pub mod observability;
pub mod response;
pub mod state;
pub mod status;
pub mod subscriptions;
