//! Integration tests: the HTTP router end to end against a real PostgreSQL
//! (a database per test) with a stub auth-service.

mod auth_service;
mod batching;
mod events;
mod guard;
mod helpers;
mod http;
mod jwks;
mod schema_sdl;
mod users;
mod validation;
