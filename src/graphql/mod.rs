//! The GraphQL schema: building it, its request data, and the rule that
//! makes every error carry the contract's `extensions.code`.
//!
//! The schema registers no async-graphql extension: with one, the engine
//! sends every field and every list item through the extension chain (a
//! `ResolveInfo`, a registry lookup and boxed futures each). The checks a
//! request needs before and after the engine run in [`execution`] instead.

mod absent_variables;
pub mod budget;
pub mod cost;
pub mod cursor;
pub mod document_rules;
pub mod execution;
pub mod guard;
pub mod inputs;
pub mod lexer_guard;
pub mod loaders;
pub mod mutation;
pub mod pages;
pub mod persisted;
pub mod query;
pub mod search;
pub mod subscription;
pub mod types;
pub mod validated;

use std::sync::Arc;

use async_graphql::{Context, MergedObject, Response, Schema, SchemaBuilder, ServerError};

use crate::app::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, code};
use crate::persisted::{ApqStore, MemoryApqStore};
use crate::shared_state::RedisApqStore;

pub use execution::Executor;
pub use loaders::Loaders;

/// Reading users: `me`, `user`, `users` and `searchUsers`.
#[derive(MergedObject, Default)]
pub struct Query(query::UserQuery, search::SearchQuery);

/// The schema type.
pub type AppSchema = Schema<Query, mutation::Mutation, subscription::Subscription>;

/// Limits a schema is built with.
#[derive(Debug, Clone, Copy)]
pub struct SchemaLimits {
    pub max_depth: usize,
    /// The most a request may cost (see [`cost`]), all operations of a
    /// batch together.
    pub max_complexity: usize,
    /// Most tokens in one document; also the most selections it may expand
    /// to through fragments.
    pub max_tokens: usize,
    /// Deepest nesting of `(`, `[`, `{` in a document, and of lists and
    /// objects in its variables.
    pub max_nesting: usize,
    /// The most bytes the answers of one request may take.
    pub max_response_bytes: usize,
    /// Most aliases in one document.
    pub max_aliases: usize,
    /// Most directives on one field.
    pub max_directives: usize,
    /// Whether `__schema` / `__type` are answered (federation's `_service`
    /// always is: the gateway needs it).
    pub introspection: bool,
    /// Automatic persisted queries kept in memory; 0 turns APQ off.
    pub apq_cache_size: usize,
}

/// The schema without data, for `export-schema` and the SDL test. The
/// federated SDL includes `Subscription` (for routers that serve them).
pub fn schema_builder() -> SchemaBuilder<Query, mutation::Mutation, subscription::Subscription> {
    Schema::build(
        Query::default(),
        mutation::Mutation::default(),
        subscription::Subscription,
    )
    .enable_federation()
    .enable_subscription_in_federation()
}

/// The SDL of the subgraph, as `export-schema` prints it.
pub fn sdl() -> String {
    schema_builder()
        .finish()
        .sdl_with_options(async_graphql::SDLExportOptions::new().federation())
}

/// The schema that serves requests, with the checks around it. Introspection
/// stays enabled in the engine (async-graphql would otherwise also hide
/// federation's `_service`); [`document_rules::DocumentRules`] refuses
/// `__schema` / `__type` instead when `limits.introspection` is off.
///
/// [`budget::DocumentBudget`] takes the place of async-graphql's
/// `limit_complexity` (which counts one per field whatever the list length,
/// and expands fragments without memoising); its lexical pass runs before
/// any parser, persisted documents ([`persisted`]: APQ and trusted
/// documents) included.
pub fn build_schema(state: AppState, limits: SchemaLimits) -> Executor {
    let budget = budget::BudgetLimits {
        lexical: lexer_guard::LexicalLimits {
            max_tokens: limits.max_tokens,
            max_nesting: limits.max_nesting,
        },
        max_cost: u64::try_from(limits.max_complexity).unwrap_or(u64::MAX),
        max_response_bytes: u64::try_from(limits.max_response_bytes).unwrap_or(u64::MAX),
    };
    let persisted = persisted::PersistedDocuments {
        // In Redis when it is configured (shared by the replicas), else
        // in this process.
        apq: std::num::NonZeroUsize::new(limits.apq_cache_size).map(|size| match &state.shared {
            Some(shared) => Arc::new(RedisApqStore(shared.clone())) as Arc<dyn ApqStore>,
            None => Arc::new(MemoryApqStore::new(size)),
        }),
        trusted: Arc::clone(&state.trusted_documents),
    };
    // Two engines over the same resolvers and data: one validating every
    // document, one for documents validated already (`validated`).
    let engine = |mode: async_graphql::ValidationMode| {
        let builder = schema_builder()
            .data(cursor::CursorKey::for_config(&state.config))
            .data(state.clone())
            .limit_depth(limits.max_depth)
            .validation_mode(mode);
        // Spans for the operation's parse, validation and fields, only
        // when traces are exported: an extension sends every field through
        // its hooks, which costs on every request.
        if crate::telemetry::enabled() {
            builder
                .extension(async_graphql::extensions::Tracing)
                .finish()
        } else {
            builder.finish()
        }
    };
    let schema = engine(async_graphql::ValidationMode::Strict);
    let validated = engine(async_graphql::ValidationMode::Fast);
    let skipped = state.validation_skipped.clone();
    Executor::new(
        schema,
        validated,
        skipped,
        budget::DocumentBudget(budget),
        document_rules::DocumentRules {
            max_aliases: limits.max_aliases,
            introspection: limits.introspection,
            max_directives: limits.max_directives,
        },
        persisted,
    )
}

/// What the resolvers read from the context.
pub trait ContextExt {
    /// Who the request acts as (anonymous when the handler put none).
    fn viewer(&self) -> &Viewer;
    /// The request's dataloaders.
    fn loaders(&self) -> Result<&Loaders, AppError>;
    /// The application state.
    fn app(&self) -> &AppState;
}

static ANONYMOUS: Viewer = Viewer::Anonymous;

impl ContextExt for Context<'_> {
    fn viewer(&self) -> &Viewer {
        self.data_opt::<Viewer>().unwrap_or(&ANONYMOUS)
    }

    fn loaders(&self) -> Result<&Loaders, AppError> {
        self.data_opt::<Loaders>()
            .ok_or_else(|| AppError::internal(MissingRequestData("loaders")))
    }

    fn app(&self) -> &AppState {
        self.data_unchecked::<AppState>()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("request data {0} is missing")]
struct MissingRequestData(&'static str);

fn has_code(error: &ServerError) -> bool {
    error
        .extensions
        .as_ref()
        .is_some_and(|extensions| extensions.get("code").is_some())
}

/// A request-level error (no location) with the contract `code`.
pub(crate) fn refusal(message: impl Into<String>, code: &str) -> ServerError {
    with_code(ServerError::new(message, None), code)
}

pub(crate) fn with_code(mut error: ServerError, value: &str) -> ServerError {
    if !has_code(&error) {
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", value);
    }
    error
}

/// Gives every error of `response` a contract code: request-level errors
/// (validation, limits) `GRAPHQL_VALIDATION_FAILED`, argument coercion
/// failures `BAD_USER_INPUT`; anything else without a code is an internal
/// error whose message is replaced, so no internal text reaches a client.
/// (Parse failures get `GRAPHQL_PARSE_FAILED` where the document is parsed,
/// in [`execution`].)
pub fn assign_codes(mut response: Response) -> Response {
    if response.errors.iter().all(has_code) {
        return response;
    }
    response.errors = std::mem::take(&mut response.errors)
        .into_iter()
        .map(|error| {
            if has_code(&error) {
                error
            } else if error.message == "PersistedQueryNotFound" {
                // Apollo clients send the full query on this code.
                with_code(error, code::PERSISTED_QUERY_NOT_FOUND)
            } else if error.path.is_empty() {
                with_code(error, code::GRAPHQL_VALIDATION_FAILED)
            } else if ["Failed to parse", "Invalid value", "Expected input type"]
                .iter()
                .any(|prefix| error.message.starts_with(prefix))
            {
                with_code(error, code::BAD_USER_INPUT)
            } else {
                tracing::error!(message = %error.message, path = ?error.path, "error without a code");
                let mut opaque =
                    ServerError::new("internal server error", error.locations.first().copied());
                opaque.path = error.path;
                with_code(opaque, code::INTERNAL_SERVER_ERROR)
            }
        })
        .collect();
    response
}
