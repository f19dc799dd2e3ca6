//! Integration tests: the HTTP router end to end against a real PostgreSQL
//! (a database per test) with a stub auth-service.

mod batching;
mod federation;
mod graphql_http;
mod guard;
mod helpers;
mod http;
mod limits;
mod observability;
mod schema_sdl;
mod users;
mod validation;
