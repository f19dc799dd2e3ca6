//! The GraphQL schema: building it, its request data, and the extension
//! that makes every error carry the contract's `extensions.code`.

mod absent_variables;
pub mod budget;
pub mod cost;
pub mod cursor;
pub mod document_rules;
pub mod guard;
pub mod inputs;
pub mod lexer_guard;
pub mod loaders;
pub mod mutation;
pub mod pages;
pub mod query;
pub mod search;
pub mod subscription;
pub mod types;

use std::sync::Arc;

use async_graphql::extensions::apollo_persisted_queries::{
    ApolloPersistedQueries, LruCacheStorage,
};
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextRequest, NextValidation,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{
    Context, MergedObject, Response, Schema, SchemaBuilder, ServerError, ServerResult,
    ValidationResult, Variables,
};

use crate::app::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, code};

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
    .extension(ErrorCodes)
    .extension(absent_variables::AbsentVariables)
}

/// The SDL of the subgraph, as `export-schema` prints it.
pub fn sdl() -> String {
    schema_builder()
        .finish()
        .sdl_with_options(async_graphql::SDLExportOptions::new().federation())
}

/// The schema that serves requests. Introspection stays enabled in the
/// engine (async-graphql would otherwise also hide federation's `_service`);
/// [`document_rules::DocumentRules`] refuses `__schema` / `__type` instead
/// when `limits.introspection` is off.
///
/// [`budget::DocumentBudget`] takes the place of async-graphql's
/// `limit_complexity` (which counts one per field whatever the list length,
/// and expands fragments without memoising); it is registered before the
/// persisted-query extension so its lexical pass runs before any parser.
pub fn build_schema(state: AppState, limits: SchemaLimits) -> AppSchema {
    let budget = budget::BudgetLimits {
        lexical: lexer_guard::LexicalLimits {
            max_tokens: limits.max_tokens,
            max_nesting: limits.max_nesting,
        },
        max_cost: u64::try_from(limits.max_complexity).unwrap_or(u64::MAX),
        max_response_bytes: u64::try_from(limits.max_response_bytes).unwrap_or(u64::MAX),
    };
    let mut builder = schema_builder()
        .data(cursor::CursorKey::for_config(&state.config))
        .data(state)
        .limit_depth(limits.max_depth)
        .limit_directives(limits.max_directives)
        .extension(budget::DocumentBudget(budget))
        .extension(document_rules::DocumentRules {
            max_aliases: limits.max_aliases,
            introspection: limits.introspection,
        });
    if let Some(size) = std::num::NonZeroUsize::new(limits.apq_cache_size) {
        builder = builder.extension(ApolloPersistedQueries::new(LruCacheStorage::new(
            size.get(),
        )));
    }
    builder.finish()
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

/// Gives every error a contract code: parse failures
/// `GRAPHQL_PARSE_FAILED`, validation failures (limits included)
/// `GRAPHQL_VALIDATION_FAILED`, argument coercion failures
/// `BAD_USER_INPUT`; anything else without a code is an internal error whose
/// message is replaced, so no internal text reaches a client.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodes)
    }
}

fn has_code(error: &ServerError) -> bool {
    error
        .extensions
        .as_ref()
        .is_some_and(|extensions| extensions.get("code").is_some())
}

/// A request-level error (no location) with the contract `code`.
fn refusal(message: impl Into<String>, code: &str) -> ServerError {
    with_code(ServerError::new(message, None), code)
}

fn with_code(mut error: ServerError, value: &str) -> ServerError {
    if !has_code(&error) {
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", value);
    }
    error
}

#[async_graphql::async_trait::async_trait]
impl Extension for ErrorCodes {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
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
                    let mut opaque = ServerError::new("internal server error", error.locations.first().copied());
                    opaque.path = error.path;
                    with_code(opaque, code::INTERNAL_SERVER_ERROR)
                }
            })
            .collect();
        response
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        next.run(ctx, query, variables)
            .await
            .map_err(|error| with_code(error, code::GRAPHQL_PARSE_FAILED))
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|error| with_code(error, code::GRAPHQL_VALIDATION_FAILED))
                .collect()
        })
    }
}
