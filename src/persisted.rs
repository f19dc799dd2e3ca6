//! Documents known ahead of the request: the trusted-document manifest
//! ([`TrustedDocuments`], read once at start) and the store of automatic
//! persisted queries ([`ApqStore`]: in memory, [`MemoryApqStore`], or shared
//! by the replicas). The GraphQL extension that applies both is
//! `crate::graphql::persisted`.
//!
//! The manifest is Apollo's persisted-query manifest, as written by
//! `@apollo/generate-persisted-query-manifest` and read by Apollo Router:
//!
//! ```json
//! {"format": "apollo-persisted-query-manifest", "version": 1,
//!  "operations": [{"id": "<sha256 of body>", "name": "Me", "type": "query",
//!                  "body": "query Me { me { authUserId } }"}]}
//! ```

use std::collections::{HashMap, HashSet};
use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::Deserialize;

use crate::config::TrustedDocumentsMode;

/// The manifest's `format`.
pub const MANIFEST_FORMAT: &str = "apollo-persisted-query-manifest";

/// Why the manifest cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("TRUSTED_DOCUMENTS={0:?} needs TRUSTED_DOCUMENTS_MANIFEST")]
    Missing(TrustedDocumentsMode),
    #[error("the trusted-document manifest {path} cannot be read: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the trusted-document manifest is not valid: {0}")]
    Invalid(String),
}

#[derive(Deserialize)]
struct Manifest {
    format: String,
    version: u32,
    operations: Vec<ManifestOperation>,
}

#[derive(Deserialize)]
struct ManifestOperation {
    id: String,
    body: String,
}

/// The trusted documents: manifest id → body, and the set of bodies.
#[derive(Debug)]
pub struct TrustedDocuments {
    mode: TrustedDocumentsMode,
    by_id: HashMap<String, Arc<str>>,
    bodies: HashSet<Arc<str>>,
}

impl TrustedDocuments {
    /// No list: every document runs.
    pub fn off() -> Self {
        Self {
            mode: TrustedDocumentsMode::Off,
            by_id: HashMap::new(),
            bodies: HashSet::new(),
        }
    }

    /// Reads the manifest at `path` for `mode` (nothing is read when the
    /// mode is `off`).
    pub fn load(mode: TrustedDocumentsMode, path: Option<&Path>) -> Result<Self, ManifestError> {
        if mode == TrustedDocumentsMode::Off {
            return Ok(Self::off());
        }
        let path = path.ok_or(ManifestError::Missing(mode))?;
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(mode, &text)
    }

    /// Reads a manifest from its JSON text.
    pub fn parse(mode: TrustedDocumentsMode, json: &str) -> Result<Self, ManifestError> {
        let manifest: Manifest = serde_json::from_str(json)
            .map_err(|error| ManifestError::Invalid(error.to_string()))?;
        if manifest.format != MANIFEST_FORMAT || manifest.version != 1 {
            return Err(ManifestError::Invalid(format!(
                "expected format {MANIFEST_FORMAT:?} version 1, found {:?} version {}",
                manifest.format, manifest.version
            )));
        }
        let mut by_id = HashMap::new();
        let mut bodies = HashSet::new();
        for operation in manifest.operations {
            if operation.id.is_empty() || operation.body.trim().is_empty() {
                return Err(ManifestError::Invalid(
                    "an operation has an empty id or body".to_owned(),
                ));
            }
            let body: Arc<str> = Arc::from(operation.body);
            bodies.insert(Arc::clone(&body));
            if by_id.insert(operation.id.clone(), body).is_some() {
                return Err(ManifestError::Invalid(format!(
                    "the id {} appears twice",
                    operation.id
                )));
            }
        }
        Ok(Self {
            mode,
            by_id,
            bodies,
        })
    }

    pub fn mode(&self) -> TrustedDocumentsMode {
        self.mode
    }

    /// The body of the manifest operation `id`.
    pub fn body(&self, id: &str) -> Option<&Arc<str>> {
        self.by_id.get(id)
    }

    /// Whether `body` is, character for character, a manifest document.
    pub fn contains_body(&self, body: &str) -> bool {
        self.bodies.contains(body)
    }

    /// How many operations the manifest holds.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// Where automatic persisted queries are kept: SHA-256 (hex) → document.
#[async_trait::async_trait]
pub trait ApqStore: Send + Sync {
    /// The document registered under `hash`, if any.
    async fn get(&self, hash: &str) -> Option<Arc<str>>;
    /// Registers `query` under `hash` (its SHA-256, checked by the caller).
    async fn put(&self, hash: &str, query: &str);
}

/// The store of one process: the `capacity` most recently used documents.
pub struct MemoryApqStore(Mutex<lru::LruCache<String, Arc<str>>>);

impl MemoryApqStore {
    pub fn new(capacity: NonZeroUsize) -> Self {
        Self(Mutex::new(lru::LruCache::new(capacity)))
    }
}

#[async_trait::async_trait]
impl ApqStore for MemoryApqStore {
    async fn get(&self, hash: &str) -> Option<Arc<str>> {
        let mut cache = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.get(hash).cloned()
    }

    async fn put(&self, hash: &str, query: &str) {
        let mut cache = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.put(hash.to_owned(), Arc::from(query));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"{"format":"apollo-persisted-query-manifest","version":1,
        "operations":[{"id":"abc","name":"Me","type":"query","body":"query Me { me { authUserId } }"}]}"#;

    #[test]
    fn a_manifest_maps_ids_to_bodies() {
        let trusted = TrustedDocuments::parse(TrustedDocumentsMode::Enforce, MANIFEST).unwrap();
        assert_eq!(trusted.len(), 1);
        assert_eq!(
            trusted.body("abc").map(|body| &**body),
            Some("query Me { me { authUserId } }")
        );
        assert!(trusted.contains_body("query Me { me { authUserId } }"));
        assert!(!trusted.contains_body("query Me { me { authUserId email } }"));
    }

    #[test]
    fn a_wrong_format_or_a_missing_manifest_is_refused() {
        let wrong = MANIFEST.replace("apollo-persisted-query-manifest", "relay");
        assert!(TrustedDocuments::parse(TrustedDocumentsMode::Log, &wrong).is_err());
        assert!(matches!(
            TrustedDocuments::load(TrustedDocumentsMode::Enforce, None),
            Err(ManifestError::Missing(_))
        ));
        assert!(
            TrustedDocuments::load(TrustedDocumentsMode::Off, None)
                .unwrap()
                .is_empty()
        );
    }
}
