//! Rules checked on the parsed document before validation and execution,
//! which async-graphql does not offer itself: an alias limit (thousands of
//! aliases are refused before the quadratic field-merging validation runs),
//! introspection switched off without losing federation's `_service`, and
//! "queries only" for GET requests (persisted queries included). The
//! engine's own parse-time limits (directives per field, nesting of
//! selection sets through fragments) are checked here too, since the
//! engine only sees documents that are already parsed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{Request, ServerError, ServerResult};

use crate::error::code;
use crate::graphql::{refusal, with_code};

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

/// The rules, with their limits.
#[derive(Debug, Clone, Copy)]
pub struct DocumentRules {
    /// Most aliases in one document.
    pub max_aliases: usize,
    /// Whether `__schema` and `__type` may be asked for.
    pub introspection: bool,
    /// Most directives on one field.
    pub max_directives: usize,
}

/// Deepest nesting of selection sets, fragments expanded (async-graphql's
/// own default, which its engine applied at parse time).
pub const MAX_RECURSION_DEPTH: usize = 32;

/// What a walk over a document found.
#[derive(Debug, Default)]
struct Census<'a> {
    aliases: usize,
    introspection: bool,
    /// The most directives on one field, and where.
    directives: Option<(usize, &'a str, async_graphql::Pos)>,
}

fn walk<'a>(selection_set: &'a SelectionSet, census: &mut Census<'a>) {
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
                let directives = field.directives.len();
                if census
                    .directives
                    .as_ref()
                    .is_none_or(|(most, ..)| directives > *most)
                {
                    census.directives = Some((directives, field.name.node.as_str(), selection.pos));
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

fn census(document: &ExecutableDocument) -> Census<'_> {
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

/// Fails when a selection set sits deeper than `max_depth`, fragments
/// expanded (the walk stops at the limit, so it is bounded).
fn check_recursion(
    document: &ExecutableDocument,
    selection_set: &async_graphql::Positioned<SelectionSet>,
    depth: usize,
    max_depth: usize,
) -> ServerResult<()> {
    if depth > max_depth {
        return Err(ServerError::new(
            format!("The recursion depth of the query cannot be greater than `{max_depth}`"),
            Some(selection_set.pos),
        ));
    }
    for selection in &selection_set.node.items {
        match &selection.node {
            Selection::Field(field) => {
                if !field.node.selection_set.node.items.is_empty() {
                    check_recursion(document, &field.node.selection_set, depth + 1, max_depth)?;
                }
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node) {
                    check_recursion(document, &fragment.node.selection_set, depth + 1, max_depth)?;
                }
            }
            Selection::InlineFragment(fragment) => {
                check_recursion(document, &fragment.node.selection_set, depth + 1, max_depth)?;
            }
        }
    }
    Ok(())
}

impl DocumentRules {
    /// The rules on the parsed `document` of `request`, from one walk over
    /// it; records the name of its only operation in the request's
    /// [`OperationSlot`]. First the engine's parse-time limits, refused as
    /// `GRAPHQL_PARSE_FAILED` like the engine did (directives per field,
    /// nesting of selection sets), then aliases, introspection and queries
    /// only over GET.
    pub fn check(&self, request: &Request, document: &ExecutableDocument) -> ServerResult<()> {
        let census = census(document);
        if let Some((most, field, pos)) = census.directives
            && most > self.max_directives
        {
            return Err(refusal_at(
                format!(
                    "The number of directives on the field `{field}` cannot be greater than `{}`",
                    self.max_directives
                ),
                pos,
                code::GRAPHQL_PARSE_FAILED,
            ));
        }
        for (_, operation) in document.operations.iter() {
            check_recursion(
                document,
                &operation.node.selection_set,
                0,
                MAX_RECURSION_DEPTH,
            )
            .map_err(|error| with_code(error, code::GRAPHQL_PARSE_FAILED))?;
        }
        if let (Some(slot), DocumentOperations::Multiple(operations)) =
            (request_data::<OperationSlot>(request), &document.operations)
            && operations.len() == 1
            && let Some(name) = operations.keys().next()
        {
            let _ = slot.0.set(name.to_string());
        }
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
        if let Some(get) = request_data::<QueriesOnly>(request)
            && selects_mutation(document, get.operation_name.as_deref())
        {
            get.refused.store(true, Ordering::Relaxed);
            return Err(refusal(GET_MUTATION_MESSAGE, code::BAD_USER_INPUT));
        }
        Ok(())
    }
}

/// The request data of type `T` that `request` carries.
fn request_data<T: 'static>(request: &Request) -> Option<&T> {
    request
        .data
        .get(&std::any::TypeId::of::<T>())
        .and_then(|data| data.downcast_ref::<T>())
}

fn refusal_at(message: String, pos: async_graphql::Pos, value: &str) -> ServerError {
    with_code(ServerError::new(message, Some(pos)), value)
}
