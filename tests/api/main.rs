//! Integration tests: the HTTP router end to end against a real PostgreSQL
//! (a database per test) with a stub auth-service.

mod batching;
mod checkins;
mod guard;
mod helpers;
mod http;
mod migrations;
mod privacy;
mod schema_sdl;
mod search;
mod tracker;
mod users;
mod validation;
