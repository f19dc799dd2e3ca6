//! Clients of other services.

pub mod auth_service;
