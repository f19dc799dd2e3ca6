//! Integration tests: the HTTP router end to end against a real PostgreSQL
//! (a database per test) and RabbitMQ, with a stub auth-service.

mod auth_service;
mod batching;
mod checkins;
mod events;
mod guard;
mod helpers;
mod http;
mod jwks;
mod migrations;
mod privacy;
mod schema_sdl;
mod search;
mod tracker;
mod users;
mod validation;
