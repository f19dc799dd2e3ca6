//! Integration tests: the HTTP router end to end against a real PostgreSQL
//! (a database per test) and RabbitMQ, with a stub auth-service.

mod auth_service;
mod batching;
mod cache_hints;
mod caps;
mod checkins;
mod columns;
mod docker;
mod events;
mod federation;
mod graphiql;
mod graphql_http;
mod guard;
mod hardening;
mod helpers;
mod hostile;
mod hot_reads;
mod http;
mod jwks;
mod limits;
mod migrations;
mod observability;
mod outbound;
mod privacy;
mod replicas;
mod schema_sdl;
mod search;
mod tokens;
mod tracker;
mod trusted_documents;
mod users;
mod validation;
