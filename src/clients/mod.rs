//! Clients of other services.

pub mod auth_service;
pub mod circuit_breaker;
