//! Running a request: the checks before and after the engine, in order.
//!
//! 1. The lexical pass of the [budget](super::budget) (tokens, nesting),
//!    before any parser: `GRAPHQL_PARSE_FAILED`.
//! 2. [Persisted documents](super::persisted): automatic persisted queries
//!    (Apollo's protocol: a hash alone is looked up, a hash with its query
//!    registers it once the hash matches) and the trusted-document list.
//! 3. Parsing (`GRAPHQL_PARSE_FAILED`), or the copy of a document parsed
//!    lately: a small cache of parsed documents, by text.
//! 4. The budget on the parsed document: required variables, cost, the
//!    per-user write quota.
//! 5. The [document rules](super::document_rules): directives per field and
//!    nesting (`GRAPHQL_PARSE_FAILED`), aliases, introspection, queries only
//!    over GET.
//! 6. [Absent variables](super::absent_variables) are taken out of the
//!    document.
//! 7. The engine validates and executes the parsed document.
//! 8. Every error gets its contract code ([`super::assign_codes`]), and the
//!    answer is serialised once, within the response budget.
//!
//! None of this is an async-graphql extension on purpose: a schema with any
//! extension resolves every field through the extension chain, which cost
//! about a third of the service's CPU on a 50-user read.

use std::collections::HashSet;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{BatchRequest, Request, Response, ServerResult};
use futures::stream::{BoxStream, FuturesOrdered, StreamExt};
use lru::LruCache;

use crate::app::ValidationSkipped;
use crate::error::code;
use crate::graphql::budget::{DocumentBudget, request_budget};
use crate::graphql::document_rules::DocumentRules;
use crate::graphql::persisted::PersistedDocuments;
use crate::graphql::validated::variables_fit;
use crate::graphql::{AppSchema, absent_variables, assign_codes, with_code};

/// The same checks for every transport that takes async-graphql's
/// executor (a subscription's stream included): nothing reaches the engine
/// around them.
impl async_graphql::Executor for Executor {
    async fn execute(&self, request: Request) -> Response {
        self.run(request).await
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<async_graphql::Data>>,
    ) -> BoxStream<'static, Response> {
        let executor = self.clone();
        futures::stream::once(async move {
            let admitted = executor
                .admit(request)
                .await
                .map(|admitted| admitted.request);
            (executor, admitted)
        })
        .flat_map(move |(executor, admitted)| match admitted {
            Ok(request) => executor
                .schema
                .execute_stream_with_session_data(request, session_data.clone().unwrap_or_default())
                .map(assign_codes)
                .boxed(),
            Err(error) => futures::stream::once(futures::future::ready(assign_codes(
                Response::from_errors(vec![error]),
            )))
            .boxed(),
        })
        .boxed()
    }
}

/// How many parsed documents [`Executor::parse`] keeps.
pub const PARSED_DOCUMENTS: usize = 256;

/// The longest document text kept parsed, in bytes.
pub const PARSED_DOCUMENT_BYTES: usize = 8 * 1024;

/// The schema with the checks that surround it.
#[derive(Clone)]
pub struct Executor {
    schema: AppSchema,
    /// The same schema validating nothing, for documents validated
    /// already ([`super::validated`]).
    validated: AppSchema,
    skipped: ValidationSkipped,
    budget: DocumentBudget,
    rules: DocumentRules,
    persisted: PersistedDocuments,
    /// Documents parsed lately, by their text (a fast hash of a few hundred
    /// bytes, where a SHA-256 cost 2.5% of a `user` request).
    parsed: Arc<Mutex<LruCache<String, Parsed>>>,
    /// Names of the schema's input types (scalars, enums, input objects).
    input_types: Arc<HashSet<String>>,
}

impl Executor {
    /// `schema` with these checks.
    pub fn new(
        schema: AppSchema,
        validated: AppSchema,
        skipped: ValidationSkipped,
        budget: DocumentBudget,
        rules: DocumentRules,
        persisted: PersistedDocuments,
    ) -> Self {
        let input_types = Arc::new(input_types(&schema));
        Self {
            schema,
            validated,
            skipped,
            budget,
            rules,
            persisted,
            parsed: Arc::new(Mutex::new(LruCache::new(
                NonZeroUsize::new(PARSED_DOCUMENTS).unwrap_or(NonZeroUsize::MIN),
            ))),
            input_types,
        }
    }

    /// The schema itself.
    pub fn schema(&self) -> &AppSchema {
        &self.schema
    }

    /// Runs every operation of `batch`, concurrently; answers in order,
    /// serialised.
    pub async fn answer_batch(&self, batch: BatchRequest) -> Answers {
        match batch {
            BatchRequest::Single(request) => Answers::Single(self.answer(request).await),
            BatchRequest::Batch(requests) => Answers::Batch(
                requests
                    .into_iter()
                    .map(|request| self.answer(request))
                    .collect::<FuturesOrdered<_>>()
                    .collect()
                    .await,
            ),
        }
    }

    /// Runs one operation through the checks and the engine, and
    /// serialises its answer (once, within the response budget).
    pub async fn answer(&self, request: Request) -> Answer {
        let budget = request_budget(&request);
        let response = self.run(request).await;
        match self.budget.serialize(&response, budget.as_ref()) {
            Ok(body) => Answer::new(&response, body),
            Err(error) => {
                let refusal = Response::from_errors(vec![error]);
                let body = serde_json::to_vec(&refusal).unwrap_or_default();
                Answer::new(&refusal, body)
            }
        }
    }

    /// Runs one operation through the checks and the engine: its response,
    /// every error with its code.
    async fn run(&self, request: Request) -> Response {
        let response = match self.admit(request).await {
            Ok(Admitted {
                request,
                validated: Validated::Already,
            }) => {
                self.skipped.count();
                self.validated.execute(request).await
            }
            Ok(Admitted { request, validated }) => {
                let response = self.schema.execute(request).await;
                if let Validated::Unknown(query) = validated
                    && response.errors.is_empty()
                {
                    self.remember_valid(&query);
                }
                response
            }
            Err(error) => Response::from_errors(vec![error]),
        };
        assign_codes(response)
    }

    /// Steps 1 to 6: the request, parsed and checked, ready for the engine.
    async fn admit(&self, mut request: Request) -> ServerResult<Admitted> {
        self.budget.check_lexically(&request)?;
        self.persisted.resolve(&mut request).await?;
        let (mut document, valid_before) = self.parse(&request.query)?;
        self.budget.check_document(&request, &document).await?;
        self.rules.check(&request, &document)?;
        let validated = if variables_fit(&document, &request.variables) {
            // Every variable is given: nothing to strip, and the engine
            // sees the text as cached.
            match valid_before {
                Some(true) => Validated::Already,
                Some(false) => Validated::Unknown(request.query.clone()),
                None => Validated::No,
            }
        } else {
            absent_variables::strip(&mut document, &request.variables, |name| {
                self.input_types.contains(name)
            });
            Validated::No
        };
        request.set_parsed_query(document);
        Ok(Admitted { request, validated })
    }

    /// Marks the cached document of `query` as validated.
    fn remember_valid(&self, query: &str) {
        if let Ok(mut parsed) = self.parsed.lock()
            && let Some(entry) = parsed.get_mut(query)
        {
            entry.valid = true;
        }
    }

    /// Step 3: `query` parsed, or its copy from the cache of recently parsed
    /// documents (a client sends the same few documents again and again,
    /// and the parser is the costliest step of a small request). Only
    /// documents that parse, and are at most [`PARSED_DOCUMENT_BYTES`]
    /// long, are kept: the cache stays small however many distinct
    /// documents arrive.
    ///
    /// With the document, whether it passed the strict engine before
    /// (`None`: not cached, too long).
    fn parse(&self, query: &str) -> ServerResult<(ExecutableDocument, Option<bool>)> {
        let cacheable = query.len() <= PARSED_DOCUMENT_BYTES;
        // A poisoned cache only means a panic elsewhere: parse afresh.
        if cacheable
            && let Ok(mut parsed) = self.parsed.lock()
            && let Some(entry) = parsed.get(query)
        {
            return Ok((entry.document.clone(), Some(entry.valid)));
        }
        let document = async_graphql::parser::parse_query(query)
            .map_err(|error| with_code(error.into(), code::GRAPHQL_PARSE_FAILED))?;
        if cacheable && let Ok(mut parsed) = self.parsed.lock() {
            parsed.put(
                query.to_owned(),
                Parsed {
                    document: document.clone(),
                    valid: false,
                },
            );
            return Ok((document, Some(false)));
        }
        Ok((document, None))
    }
}

/// A cached parse.
struct Parsed {
    document: ExecutableDocument,
    /// The strict engine answered it once without any error.
    valid: bool,
}

/// A request ready for the engine.
struct Admitted {
    request: Request,
    validated: Validated,
}

/// Whether the engine needs to validate the request's document.
enum Validated {
    /// Validated before, and the request's variables fit
    /// ([`super::validated`]).
    Already,
    /// Cached but not validated yet: the text to mark once the strict
    /// engine answers without an error.
    Unknown(String),
    /// Not cached, or variables missing or not of the simple kinds.
    No,
}

/// One operation's answer, in JSON, with what the HTTP layer needs to know
/// of it.
#[derive(Debug)]
pub struct Answer {
    /// The answer, serialised.
    pub body: Vec<u8>,
    /// The `extensions.code` of each of its errors.
    pub error_codes: Vec<String>,
    /// A request error: no data, and only errors that belong to no field.
    pub request_error: bool,
    /// The cache policy the engine computed from the schema's hints.
    pub cache_control: async_graphql::CacheControl,
}

impl Answer {
    fn new(response: &Response, body: Vec<u8>) -> Self {
        let error_codes = response
            .errors
            .iter()
            .map(
                |error| match error.extensions.as_ref().and_then(|ext| ext.get("code")) {
                    Some(async_graphql::Value::String(code)) => code.clone(),
                    _ => code::INTERNAL_SERVER_ERROR.to_owned(),
                },
            )
            .collect();
        let request_error = response.data == async_graphql::Value::Null
            && !response.errors.is_empty()
            && response.errors.iter().all(|error| error.path.is_empty());
        Self {
            body,
            error_codes,
            request_error,
            cache_control: response.cache_control,
        }
    }
}

/// The answers to a request: one, or one per operation of a batch.
#[derive(Debug)]
pub enum Answers {
    Single(Answer),
    Batch(Vec<Answer>),
}

impl Answers {
    /// Every answer of the request.
    pub fn iter(&self) -> impl Iterator<Item = &Answer> {
        let answers: &[Answer] = match self {
            Self::Single(answer) => std::slice::from_ref(answer),
            Self::Batch(answers) => answers,
        };
        answers.iter()
    }

    /// The body of the HTTP answer: the one answer, or a JSON array of them.
    pub fn into_body(self) -> Vec<u8> {
        match self {
            Self::Single(answer) => answer.body,
            Self::Batch(answers) => {
                let length: usize = answers.iter().map(|answer| answer.body.len() + 1).sum();
                let mut body = Vec::with_capacity(length + 2);
                body.push(b'[');
                for (index, answer) in answers.into_iter().enumerate() {
                    if index > 0 {
                        body.push(b',');
                    }
                    body.extend_from_slice(&answer.body);
                }
                body.push(b']');
                body
            }
        }
    }
}

/// The names of the input types of `schema`, read once through
/// introspection (the registry is not public).
fn input_types(schema: &AppSchema) -> HashSet<String> {
    let response =
        futures::executor::block_on(schema.execute("{ __schema { types { name kind } } }"));
    let Ok(value) = response.data.into_json() else {
        return HashSet::new();
    };
    value["__schema"]["types"]
        .as_array()
        .map(|types| {
            types
                .iter()
                .filter(|ty| {
                    matches!(
                        ty["kind"].as_str(),
                        Some("SCALAR" | "ENUM" | "INPUT_OBJECT")
                    )
                })
                .filter_map(|ty| ty["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
