//! Rules checked on the parsed document before validation and execution,
//! which async-graphql does not offer itself: an alias limit (thousands of
//! aliases are refused before the quadratic field-merging validation runs),
//! introspection switched off without losing federation's `_service`, and
//! "queries only" for GET requests (persisted queries included).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{ServerResult, Variables};

use crate::error::code;
use crate::graphql::refusal;

/// The message of a mutation refused over GET.
pub const GET_MUTATION_MESSAGE: &str = "mutations are only accepted over POST";

/// Request data marking a GET request: only queries may run. The extension
/// raises `refused` when it refuses a mutation, so the handler answers 405.
#[derive(Debug, Clone, Default)]
pub struct QueriesOnly {
    pub operation_name: Option<String>,
    pub refused: Arc<AtomicBool>,
}

impl QueriesOnly {
    /// Whether the extension refused a mutation of this request.
    pub fn was_refused(&self) -> bool {
        self.refused.load(Ordering::Relaxed)
    }
}

/// Request data the extension fills with the name of the document's only
/// named operation, for metric labels when the request names none.
#[derive(Debug, Clone, Default)]
pub struct OperationSlot(pub Arc<std::sync::OnceLock<String>>);

/// The extension factory.
#[derive(Debug, Clone, Copy)]
pub struct DocumentRules {
    /// Most aliases in one document.
    pub max_aliases: usize,
    /// Whether `__schema` and `__type` may be asked for.
    pub introspection: bool,
}

impl ExtensionFactory for DocumentRules {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(*self)
    }
}

/// What a walk over a document found.
#[derive(Debug, Default)]
struct Census {
    aliases: usize,
    introspection: bool,
}

fn walk(selection_set: &SelectionSet, census: &mut Census) {
    for selection in &selection_set.items {
        match &selection.node {
            Selection::Field(field) => {
                let field = &field.node;
                if field.alias.is_some() {
                    census.aliases += 1;
                }
                if matches!(field.name.node.as_str(), "__schema" | "__type") {
                    census.introspection = true;
                }
                walk(&field.selection_set.node, census);
            }
            Selection::InlineFragment(fragment) => {
                walk(&fragment.node.selection_set.node, census);
            }
            Selection::FragmentSpread(_) => {}
        }
    }
}

fn census(document: &ExecutableDocument) -> Census {
    let mut census = Census::default();
    for (_, operation) in document.operations.iter() {
        walk(&operation.node.selection_set.node, &mut census);
    }
    for fragment in document.fragments.values() {
        walk(&fragment.node.selection_set.node, &mut census);
    }
    census
}

/// Whether the operation a request selects is (or, when ambiguous, may be)
/// a mutation.
fn selects_mutation(document: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => operation.node.ty == OperationType::Mutation,
        (DocumentOperations::Multiple(operations), Some(name)) => operations
            .get(name)
            .is_some_and(|operation| operation.node.ty == OperationType::Mutation),
        (DocumentOperations::Multiple(operations), None) => operations
            .values()
            .any(|operation| operation.node.ty == OperationType::Mutation),
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for DocumentRules {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        if let (Some(slot), DocumentOperations::Multiple(operations)) =
            (ctx.data_opt::<OperationSlot>(), &document.operations)
            && operations.len() == 1
            && let Some(name) = operations.keys().next()
        {
            let _ = slot.0.set(name.to_string());
        }
        let census = census(&document);
        if census.aliases > self.max_aliases {
            return Err(refusal(
                format!(
                    "the document uses {} aliases, more than the {} allowed",
                    census.aliases, self.max_aliases
                ),
                code::GRAPHQL_VALIDATION_FAILED,
            ));
        }
        if census.introspection && !self.introspection {
            return Err(refusal(
                "introspection is disabled",
                code::GRAPHQL_VALIDATION_FAILED,
            ));
        }
        if let Some(get) = ctx.data_opt::<QueriesOnly>()
            && selects_mutation(&document, get.operation_name.as_deref())
        {
            get.refused.store(true, Ordering::Relaxed);
            return Err(refusal(GET_MUTATION_MESSAGE, code::BAD_USER_INPUT));
        }
        Ok(document)
    }
}
