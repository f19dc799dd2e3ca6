//! The budget of a request, enforced at three points (by
//! [`crate::graphql::execution`]):
//!
//! 1. **Before any parser** (ahead of automatic persisted queries, which
//!    parse a query they register): the lexical pass of
//!    [`lexer_guard`] (tokens, bracket nesting) refuses with
//!    `GRAPHQL_PARSE_FAILED`; variables nested past the same bound are
//!    `BAD_USER_INPUT`.
//! 2. **After parsing, before the engine's own checks** (which expand
//!    fragments without memoising): the [`cost`] model refuses with
//!    `GRAPHQL_VALIDATION_FAILED` a document whose selections, expanded,
//!    outnumber the token cap, or whose cost (with list sizes) exceeds the
//!    complexity limit; the operations of one HTTP request (a batch) share
//!    one cost budget through [`RequestBudget`]. The document is handed on
//!    parsed, so it is not parsed twice.
//!    A required variable the request does not provide is refused here
//!    too, with `BAD_USER_INPUT`, before anything runs. So is a mutation
//!    whose root fields (aliases included) outnumber what is left of the
//!    viewer's write quota ([`MutationQuota`]), with `SERVICE_UNAVAILABLE`
//!    (the HTTP layer answers 429).
//! 3. **After execution**: an answer larger than the response
//!    budget (shared by a batch too) is replaced by a
//!    `GRAPHQL_VALIDATION_FAILED` error, so no oversized body leaves. The
//!    cost limit keeps this rare; for a mutation the writes have then
//!    happened, which is why the cost refuses first.

use std::any::TypeId;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationDefinition};
use async_graphql::{Request, Response, ServerError, ServerResult, Variables};
use async_graphql_value::ConstValue;

use crate::error::code;
use crate::graphql::cost::{self, Cost};
use crate::graphql::lexer_guard::{self, LexicalLimits};
use crate::graphql::refusal;

/// The limits the extension enforces.
#[derive(Debug, Clone, Copy)]
pub struct BudgetLimits {
    /// Tokens and nesting of a document (and nesting of its variables);
    /// `max_tokens` also caps the selections a document expands to.
    pub lexical: LexicalLimits,
    /// The most a request (all operations of a batch) may cost.
    pub max_cost: u64,
    /// The most bytes the answers of a request may take, serialised.
    pub max_response_bytes: u64,
}

/// Request data that the operations of one HTTP request share (the handler
/// gives every operation of a batch a clone): what they have spent so far.
/// Without it, each operation has a budget of its own.
#[derive(Debug, Clone, Default)]
pub struct RequestBudget(Arc<Spent>);

#[derive(Debug, Default)]
struct Spent {
    cost: AtomicU64,
    response_bytes: AtomicU64,
    mutation_fields: AtomicU64,
}

impl RequestBudget {
    /// The cost charged so far.
    pub fn cost(&self) -> u64 {
        self.0.cost.load(Ordering::Relaxed)
    }

    /// The mutation root fields (aliases included) of the operations
    /// admitted so far: the writes the request asks for. A per-user write
    /// quota should charge this many (see `http::limits`); it is known once
    /// the documents are parsed, inside execution.
    pub fn mutation_fields(&self) -> u64 {
        self.0.mutation_fields.load(Ordering::Relaxed)
    }
}

/// A per-user write quota, as the HTTP layer keeps it: takes `writes` from
/// it, or says how long to wait when it holds fewer.
#[async_trait::async_trait]
pub trait WriteQuota: Send + Sync {
    /// Takes `writes` at once (all or nothing); the wait on refusal.
    async fn take(&self, writes: u64) -> Result<(), Duration>;
}

/// Request data that charges a request's writes to the viewer's quota: each
/// mutation operation, once parsed and before it runs, takes one per root
/// field (aliases and fragments included). The request itself has already
/// paid `prepaid` (the HTTP layer charges one per request up front), which
/// the first writes use. The operations of a batch share one.
#[derive(Clone)]
pub struct MutationQuota {
    quota: Arc<dyn WriteQuota>,
    state: Arc<Mutex<QuotaState>>,
}

#[derive(Debug, Default)]
struct QuotaState {
    prepaid: u64,
    refused: Option<Duration>,
}

impl std::fmt::Debug for MutationQuota {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MutationQuota").finish_non_exhaustive()
    }
}

impl MutationQuota {
    /// Charges to `quota`, `prepaid` writes being paid already.
    pub fn new(quota: Arc<dyn WriteQuota>, prepaid: u64) -> Self {
        Self {
            quota,
            state: Arc::new(Mutex::new(QuotaState {
                prepaid,
                refused: None,
            })),
        }
    }

    /// The wait of the first operation refused, if one was.
    pub fn refused(&self) -> Option<Duration> {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .refused
    }

    /// Takes `writes` (less what is prepaid) from the quota.
    async fn charge(&self, writes: u64) -> Result<(), Duration> {
        // The prepaid writes are reserved first (the operations of a batch
        // run concurrently) and given back when the quota refuses the rest.
        let from_prepaid = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            let from_prepaid = state.prepaid.min(writes);
            state.prepaid -= from_prepaid;
            from_prepaid
        };
        let owed = writes - from_prepaid;
        if owed > 0
            && let Err(wait) = self.quota.take(owed).await
        {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.prepaid += from_prepaid;
            state.refused.get_or_insert(wait);
            return Err(wait);
        }
        Ok(())
    }
}

fn mutation_quota(request: &Request) -> Option<MutationQuota> {
    request
        .data
        .get(&TypeId::of::<MutationQuota>())
        .and_then(|data| data.downcast_ref::<MutationQuota>())
        .cloned()
}

/// The budget's checks, run by [`crate::graphql::execution`] around the
/// engine.
#[derive(Debug, Clone, Copy)]
pub struct DocumentBudget(pub BudgetLimits);

/// The shared budget `request` carries, if any.
pub fn request_budget(request: &Request) -> Option<RequestBudget> {
    request
        .data
        .get(&TypeId::of::<RequestBudget>())
        .and_then(|data| data.downcast_ref::<RequestBudget>())
        .cloned()
}

impl DocumentBudget {
    /// Step 1: the lexical pass over the document and the variables.
    pub fn check_lexically(&self, request: &Request) -> ServerResult<()> {
        let limits = self.0.lexical;
        if !request.query.is_empty() {
            lexer_guard::scan(&request.query, limits)
                .map_err(|error| refusal(error.to_string(), code::GRAPHQL_PARSE_FAILED))?;
        }
        if lexer_guard::variables_too_deep(&request.variables, limits.max_nesting) {
            let mut error = refusal(
                format!(
                    "the variables nest lists and objects more than {} levels deep",
                    limits.max_nesting
                ),
                code::BAD_USER_INPUT,
            );
            if let Some(extensions) = error.extensions.as_mut() {
                extensions.set("field", "variables");
            }
            return Err(error);
        }
        Ok(())
    }

    /// Step 2: the cost of the parsed document, charged to the request.
    fn charge(&self, cost: Cost, budget: Option<&RequestBudget>) -> ServerResult<()> {
        let limits = self.0;
        let expansion_cap = u64::try_from(limits.lexical.max_tokens).unwrap_or(u64::MAX);
        if cost.selections > expansion_cap {
            return Err(refusal(
                format!(
                    "the query is too complex: its fragments expand to more than {expansion_cap} selections"
                ),
                code::GRAPHQL_VALIDATION_FAILED,
            ));
        }
        if cost.weighted > limits.max_cost {
            return Err(refusal(
                format!(
                    "the query is too complex: it costs {}, more than the {} allowed",
                    cost.weighted, limits.max_cost
                ),
                code::GRAPHQL_VALIDATION_FAILED,
            ));
        }
        let Some(budget) = budget else {
            return Ok(());
        };
        let before = budget.0.cost.fetch_add(cost.weighted, Ordering::Relaxed);
        let total = before.saturating_add(cost.weighted);
        if total > limits.max_cost {
            budget.0.cost.fetch_sub(cost.weighted, Ordering::Relaxed);
            return Err(refusal(
                format!(
                    "the query is too complex: with the operations before it, the batch costs {total}, more than the {} allowed",
                    limits.max_cost
                ),
                code::GRAPHQL_VALIDATION_FAILED,
            ));
        }
        budget
            .0
            .mutation_fields
            .fetch_add(cost.mutation_fields, Ordering::Relaxed);
        Ok(())
    }
}

/// The operation execution will run, as async-graphql picks it.
fn selected_operation<'a>(
    document: &'a ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<&'a OperationDefinition> {
    match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => Some(&operation.node),
        (DocumentOperations::Multiple(operations), Some(name)) => {
            operations.get(name).map(|operation| &operation.node)
        }
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next().map(|operation| &operation.node)
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// The message for a required variable (non-null, no default) the request
/// does not provide, or provides as null (GraphQL spec §6.4.1; graphql-js's
/// wording). The engine would otherwise fail inside execution with an
/// internal error.
fn unprovided_required_variable(
    document: &ExecutableDocument,
    variables: &Variables,
    operation_name: Option<&str>,
) -> Option<String> {
    let operation = selected_operation(document, operation_name)?;
    operation
        .variable_definitions
        .iter()
        .find_map(|definition| {
            let definition = &definition.node;
            let ty = &definition.var_type.node;
            if ty.nullable || definition.default_value.is_some() {
                return None;
            }
            let name = &definition.name.node;
            match variables.get(name) {
                None => Some(format!(
                    "Variable \"${name}\" of required type \"{ty}\" was not provided."
                )),
                Some(ConstValue::Null) => Some(format!(
                    "Variable \"${name}\" of non-null type \"{ty}\" must not be null."
                )),
                Some(_) => None,
            }
        })
}

/// A buffer that refuses to grow past `limit` bytes.
struct CappedBuffer {
    bytes: Vec<u8>,
    limit: usize,
}

/// Inlined into serde_json's writer: it writes every token on its own
/// (about 400 writes for a `user` answer), so a call per write cost 5% of
/// the request.
impl std::io::Write for CappedBuffer {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if self.bytes.len().saturating_add(buf.len()) > self.limit {
            return Err(std::io::Error::other("over the response budget"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `response` in JSON, or `None` past `limit` bytes (serialisation stops
/// there).
fn serialize_within(response: &Response, limit: u64) -> Option<Vec<u8>> {
    let mut buffer = CappedBuffer {
        bytes: Vec::with_capacity(4096),
        limit: usize::try_from(limit).unwrap_or(usize::MAX),
    };
    serde_json::to_writer(&mut buffer, response).ok()?;
    Some(buffer.bytes)
}

impl DocumentBudget {
    /// Step 2, on the parsed `document` of `request`: required variables,
    /// the cost charged to the request's budget, and a mutation's writes
    /// charged to the viewer's quota.
    pub async fn check_document(
        &self,
        request: &Request,
        document: &ExecutableDocument,
    ) -> ServerResult<()> {
        let operation_name = request.operation_name.as_deref();
        let cost = cost::document_cost(document, &request.variables, operation_name);
        if let Some(message) =
            unprovided_required_variable(document, &request.variables, operation_name)
        {
            return Err(refusal(message, code::BAD_USER_INPUT));
        }
        self.charge(cost, request_budget(request).as_ref())?;
        if cost.mutation_fields > 0
            && let Some(quota) = mutation_quota(request)
            && quota.charge(cost.mutation_fields).await.is_err()
        {
            return Err(refusal(
                format!(
                    "too many requests: the {} writes of this mutation exceed the per-user quota; retry later",
                    cost.mutation_fields
                ),
                code::SERVICE_UNAVAILABLE,
            ));
        }
        Ok(())
    }

    /// Step 3: `response` in JSON, serialised once, if it fits in what is
    /// left of the response budget of the request (`budget`, shared by a
    /// batch); else the refusal to answer in its place.
    pub fn serialize(
        &self,
        response: &Response,
        budget: Option<&RequestBudget>,
    ) -> Result<Vec<u8>, ServerError> {
        let max = self.0.max_response_bytes;
        let spent = budget.map_or(0, |budget| budget.0.response_bytes.load(Ordering::Relaxed));
        let remaining = max.saturating_sub(spent);
        match serialize_within(response, remaining) {
            Some(body) => {
                if let Some(budget) = budget {
                    let size = u64::try_from(body.len()).unwrap_or(u64::MAX);
                    budget.0.response_bytes.fetch_add(size, Ordering::Relaxed);
                }
                Ok(body)
            }
            None => {
                tracing::warn!(
                    max_response_bytes = max,
                    "a GraphQL answer exceeded the response budget"
                );
                Err(refusal(
                    format!("the answer is larger than the {max} bytes a response may hold"),
                    code::GRAPHQL_VALIDATION_FAILED,
                ))
            }
        }
    }
}
