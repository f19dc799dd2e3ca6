//! Persisted documents: automatic persisted queries (APQ, Apollo's
//! `extensions.persistedQuery`) and trusted documents, in one step
//! ([`PersistedDocuments::resolve`]) that the executor runs before parsing.
//!
//! 1. A request that names a document by hash without sending it gets the
//!    manifest's body for that id (trusted documents on), else the APQ
//!    store's document, else `PERSISTED_QUERY_NOT_FOUND` (the client resends
//!    with the query). A request that sends both has its hash checked
//!    against the SHA-256 of the query.
//! 2. Trusted documents: a document that is neither a manifest id's body
//!    nor identical to a manifest body is logged and counted
//!    (`trusted_documents_unknown_total`) in `log` mode and refused with
//!    `PERSISTED_QUERY_NOT_IN_LIST` in `enforce` mode, unless the request
//!    bypasses the list ([`TrustedBypass`]: the router secret, an admin
//!    token). This check applies to the document APQ resolved too, so APQ
//!    cannot smuggle a document past the list, and in `enforce` mode an
//!    unlisted document is refused before it is registered.
//! 3. Only then is a sent query registered in the APQ store.
//!
//! Documents stay text (the engine parses them once, after the lexical
//! guard of [`crate::graphql::budget`] has seen them on registration).

use std::any::TypeId;
use std::sync::Arc;

use async_graphql::{Request, ServerError, ServerResult};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::config::TrustedDocumentsMode;
use crate::error::code;
use crate::persisted::{ApqStore, TrustedDocuments};

/// Request data: whether this request may run documents outside the
/// trusted list (it carries the router secret, or an admin token).
#[derive(Debug, Clone, Copy, Default)]
pub struct TrustedBypass(pub bool);

/// The step: run it before anything that parses.
#[derive(Clone)]
pub struct PersistedDocuments {
    /// `None` when APQ is off (`APQ_CACHE_SIZE=0`).
    pub apq: Option<Arc<dyn ApqStore>>,
    pub trusted: Arc<TrustedDocuments>,
}

#[derive(Deserialize)]
struct PersistedQuery {
    version: i32,
    #[serde(rename = "sha256Hash")]
    sha256_hash: String,
}

fn error(message: impl Into<String>, value: &str) -> ServerError {
    let mut error = ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", value);
    error
}

fn bypasses(request: &Request) -> bool {
    request
        .data
        .get(&TypeId::of::<TrustedBypass>())
        .and_then(|data| data.downcast_ref::<TrustedBypass>())
        .is_some_and(|bypass| bypass.0)
}

impl PersistedDocuments {
    /// Step 2: the trusted-document list.
    fn check_trusted(&self, request: &Request, listed_by_id: bool) -> ServerResult<()> {
        let mode = self.trusted.mode();
        if mode == TrustedDocumentsMode::Off
            || listed_by_id
            || self.trusted.contains_body(&request.query)
        {
            return Ok(());
        }
        let bypass = bypasses(request);
        let operation = request.operation_name.as_deref().unwrap_or("");
        metrics::counter!(
            "trusted_documents_unknown_total",
            "outcome" => match (mode, bypass) {
                (TrustedDocumentsMode::Enforce, false) => "refused",
                (TrustedDocumentsMode::Enforce, true) => "bypassed",
                _ => "logged",
            }
        )
        .increment(1);
        match mode {
            TrustedDocumentsMode::Enforce if !bypass => {
                tracing::info!(operation, "refused a document outside the trusted list");
                Err(error(
                    "PersistedQueryNotInList: this service only runs its trusted documents",
                    code::PERSISTED_QUERY_NOT_IN_LIST,
                ))
            }
            _ => {
                let hash = format!("{:x}", Sha256::digest(request.query.as_bytes()));
                tracing::warn!(
                    operation,
                    sha256 = %hash,
                    bypass,
                    "a document outside the trusted list ran"
                );
                Ok(())
            }
        }
    }
}

impl PersistedDocuments {
    /// Puts in `request.query` the document a persisted-query request names
    /// (and registers one it sends), and applies the trusted-document list.
    pub async fn resolve(&self, request: &mut Request) -> ServerResult<()> {
        let persisted = match request.extensions.remove("persistedQuery") {
            None => None,
            Some(value) => {
                let persisted: PersistedQuery = async_graphql::from_value(value).map_err(|_| {
                    error("Invalid \"persistedQuery\" extension", code::BAD_USER_INPUT)
                })?;
                if persisted.version != 1 {
                    return Err(error(
                        "only version 1 of the \"persistedQuery\" extension is supported",
                        code::BAD_USER_INPUT,
                    ));
                }
                Some(persisted.sha256_hash)
            }
        };
        let mut listed_by_id = false;
        let mut register = None;
        if let Some(hash) = persisted {
            if request.query.is_empty() {
                let listed = (self.trusted.mode() != TrustedDocumentsMode::Off)
                    .then(|| self.trusted.body(&hash))
                    .flatten();
                if let Some(body) = listed {
                    request.query = body.to_string();
                    listed_by_id = true;
                } else {
                    let Some(apq) = &self.apq else {
                        return Err(error(
                            "PersistedQueryNotSupported",
                            code::PERSISTED_QUERY_NOT_SUPPORTED,
                        ));
                    };
                    let Some(query) = apq.get(&hash).await else {
                        return Err(error(
                            "PersistedQueryNotFound",
                            code::PERSISTED_QUERY_NOT_FOUND,
                        ));
                    };
                    request.query = query.to_string();
                }
            } else if format!("{:x}", Sha256::digest(request.query.as_bytes())) != hash {
                return Err(error(
                    "provided sha does not match query",
                    code::BAD_USER_INPUT,
                ));
            } else {
                register = Some(hash);
            }
        }
        self.check_trusted(request, listed_by_id)?;
        if let (Some(hash), Some(apq)) = (register, &self.apq)
            && async_graphql::parser::parse_query(&request.query).is_ok()
        {
            apq.put(&hash, &request.query).await;
        }
        Ok(())
    }
}
