//! Integration tests: the HTTP router end to end against a real PostgreSQL
//! (a database per test) and RabbitMQ, with a stub auth-service.

mod auth_service;
mod batching;
mod caps;
mod checkins;
mod columns;
mod connections;
mod events;
mod federation;
mod graphql_http;
mod guard;
mod hardening;
mod helpers;
mod hostile;
mod hot_reads;
mod http;
mod jwks;
mod legacy_import;
mod limits;
mod migrations;
mod observability;
mod outbound;
mod privacy;
mod replicas;
mod rest;
mod schema_sdl;
mod search;
mod subscriptions;
mod tokens;
mod tracker;
mod users;
mod validation;
