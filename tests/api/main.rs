//! Integration tests: the HTTP router end to end against a real PostgreSQL
//! (a database per test) and RabbitMQ, with a stub auth-service.

mod auth_service;
mod batching;
mod checkins;
mod events;
mod federation;
mod graphql_http;
mod guard;
mod helpers;
mod hot_reads;
mod http;
mod jwks;
mod limits;
mod migrations;
mod observability;
mod privacy;
mod schema_sdl;
mod search;
mod tracker;
mod users;
mod validation;
