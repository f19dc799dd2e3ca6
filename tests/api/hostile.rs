//! Hostile documents (issue 9): bounded parsing, a cost that counts list
//! sizes after fragment expansion, batch totals, duplicate ids loaded once,
//! a response size budget, and client error codes where the engine used to
//! say `INTERNAL_SERVER_ERROR` or nothing. Each refusal is checked for its
//! code, for speed, for writing nothing, and for leaving the process up
//! (a stack overflow would abort this test binary, failing every test).

use std::time::{Duration, Instant};

use axum::body::Body;
use http::{Request, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{TestApp, TestResponse};

/// Loose: every refusal here happens before execution, in milliseconds in
/// release builds; debug builds on a busy shared machine get room.
const FAST: Duration = Duration::from_secs(2);

fn message(response: &TestResponse) -> String {
    response.body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn post_json(app: &TestApp, body: &Value) -> TestResponse {
    app.request(
        Request::post("/graphql")
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

/// The service still answers a plain query.
async fn still_up(app: &TestApp) {
    let response = app.graphql("{ __typename }", json!({}), None).await;
    assert_eq!(response.ok()["__typename"], "Query");
}

/// `users(authUserIds: [[[…"x"…]]])`, `levels` deep.
fn deep_list(levels: usize) -> String {
    format!(
        "{{ users(authUserIds: {}\"x\"{}) {{ authUserId }} }}",
        "[".repeat(levels),
        "]".repeat(levels)
    )
}

/// An input object nested `levels` deep in an argument.
fn deep_object(levels: usize) -> String {
    format!(
        "mutation {{ updateProfile(authUserId: \"a\", input: {}\"x\"{}) {{ authUserId }} }}",
        "{displayName: ".repeat(levels),
        "}".repeat(levels)
    )
}

#[tokio::test]
async fn a_list_literal_nested_thousands_deep_is_refused_before_parsing() {
    let app = TestApp::spawn().await;
    for levels in [3_000, 20_000] {
        let start = Instant::now();
        let response = app.graphql(&deep_list(levels), json!({}), None).await;
        assert!(start.elapsed() < FAST, "took {:?}", start.elapsed());
        assert_eq!(
            response.error_code(),
            Some("GRAPHQL_PARSE_FAILED"),
            "{}",
            response.body
        );
        assert!(message(&response).contains("nests"), "{}", response.body);
    }
    still_up(&app).await;
}

#[tokio::test]
async fn an_input_object_nested_thousands_deep_is_refused_before_parsing() {
    let app = TestApp::spawn().await;
    let before = app.statements();
    let start = Instant::now();
    let response = app.graphql_as("a", &deep_object(5_000), json!({})).await;
    assert!(start.elapsed() < FAST, "took {:?}", start.elapsed());
    assert_eq!(
        response.error_code(),
        Some("GRAPHQL_PARSE_FAILED"),
        "{}",
        response.body
    );
    assert_eq!(app.statements(), before, "nothing ran");
    still_up(&app).await;
}

#[tokio::test]
async fn deep_literals_are_refused_on_the_persisted_query_and_batch_paths_too() {
    let app = TestApp::spawn().await;
    // APQ parses the query itself when it registers one.
    let query = deep_list(5_000);
    let hash = hex::encode(Sha256::digest(query.as_bytes()));
    let response = post_json(
        &app,
        &json!({
            "query": query,
            "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } },
        }),
    )
    .await;
    assert_eq!(
        response.error_code(),
        Some("GRAPHQL_PARSE_FAILED"),
        "{}",
        response.body
    );
    let batch = post_json(
        &app,
        &json!([{ "query": "{ __typename }" }, { "query": deep_object(5_000) }]),
    )
    .await;
    assert_eq!(batch.body[0]["data"]["__typename"], "Query");
    assert_eq!(
        batch.body[1]["errors"][0]["extensions"]["code"], "GRAPHQL_PARSE_FAILED",
        "{}",
        batch.body
    );
    still_up(&app).await;
}

#[tokio::test]
async fn nesting_within_the_bound_still_parses() {
    let app = TestApp::spawn().await;
    // 40 levels of list: within the lexical bound, so the engine answers
    // in its own words (a list of lists is not an [ID!]).
    let response = app.graphql(&deep_list(40), json!({}), None).await;
    assert_eq!(
        response.error_code(),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{}",
        response.body
    );
    assert!(
        message(&response).contains("Invalid value"),
        "{}",
        response.body
    );
}

#[tokio::test]
async fn a_document_with_too_many_tokens_is_refused() {
    let app = TestApp::spawn_with(|config| config.http.graphql_max_tokens = 1_000).await;
    let fields = "__typename ".repeat(1_000);
    let response = app
        .graphql(&format!("{{ {fields} }}"), json!({}), None)
        .await;
    assert_eq!(
        response.error_code(),
        Some("GRAPHQL_PARSE_FAILED"),
        "{}",
        response.body
    );
    assert!(
        message(&response).contains("more than 1000 tokens"),
        "{}",
        response.body
    );
    let fits = "__typename ".repeat(900);
    app.graphql(&format!("{{ {fits} }}"), json!({}), None)
        .await
        .ok();
}

/// `{"v": [[[…]]]}` nested `levels` deep inside `variables`.
fn nested_json(levels: usize) -> Value {
    let mut value = json!("x");
    for _ in 0..levels {
        value = json!([value]);
    }
    value
}

#[tokio::test]
async fn deeply_nested_variables_are_refused() {
    let app = TestApp::spawn().await;
    // Valid JSON for serde_json (within its 128 levels), deep for us.
    let response = app
        .graphql(
            "query($v: [ID!]) { users(authUserIds: $v) { authUserId } }",
            json!({ "v": nested_json(100) }),
            None,
        )
        .await;
    assert_eq!(
        response.error_code(),
        Some("BAD_USER_INPUT"),
        "{}",
        response.body
    );
    assert!(
        message(&response).contains("variables"),
        "{}",
        response.body
    );
    // Past serde_json's own limit the body is not read at all.
    let body = format!(
        "{{\"query\": \"{{ __typename }}\", \"variables\": {{\"v\": {}1{}}}}}",
        "[".repeat(5_000),
        "]".repeat(5_000)
    );
    let response = app
        .request(
            Request::post("/graphql")
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(response.error_code(), Some("BAD_USER_INPUT"));
    still_up(&app).await;
}

/// Fragments that each spread the previous one ten times.
fn exponential_fragments(levels: usize) -> String {
    let mut document = format!("query {{ ...F{levels} }} fragment F0 on Query {{ __typename }}");
    for level in 1..=levels {
        let spreads = format!("...F{} ", level - 1).repeat(10);
        document.push_str(&format!(" fragment F{level} on Query {{ {spreads} }}"));
    }
    document
}

#[tokio::test]
async fn exponential_fragments_are_refused_in_milliseconds() {
    let app = TestApp::spawn().await;
    for levels in [6, 9, 30] {
        let start = Instant::now();
        let response = app
            .graphql(&exponential_fragments(levels), json!({}), None)
            .await;
        assert!(
            start.elapsed() < FAST,
            "{levels}: took {:?}",
            start.elapsed()
        );
        assert_eq!(
            response.error_code(),
            Some("GRAPHQL_VALIDATION_FAILED"),
            "{}",
            response.body
        );
        assert!(message(&response).contains("complex"), "{}", response.body);
    }
    // Three levels (1,000 fields) is an honest document.
    let response = app
        .graphql(&exponential_fragments(3), json!({}), None)
        .await;
    assert_eq!(response.ok()["__typename"], "Query");
}

#[tokio::test]
async fn exponential_fragments_under_an_empty_list_are_refused_too() {
    let app = TestApp::spawn().await;
    // The list is empty, so the cost is small; the expansion is not.
    let mut document = exponential_fragments(7);
    document = document.replacen(
        "query { ...F7 }",
        "query { users(authUserIds: []) { ...U7 } }",
        1,
    );
    document = document
        .replace("on Query", "on User")
        .replace("...F", "...U");
    document = document.replace("fragment F", "fragment U");
    let start = Instant::now();
    let response = app.graphql(&document, json!({}), None).await;
    assert!(start.elapsed() < FAST, "took {:?}", start.elapsed());
    assert_eq!(
        response.error_code(),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{}",
        response.body
    );
}

fn ids(count: usize) -> Vec<String> {
    (0..count).map(|n| format!("user-{n}")).collect()
}

#[tokio::test]
async fn the_cost_multiplies_by_the_number_of_ids_and_the_goal_cap() {
    // users(10 ids) { goals { id } } = 1 + 10 * (1 + 100 * 1) = 1011.
    let app = TestApp::spawn_with(|config| config.http.graphql_max_complexity = 1_011).await;
    let query = "query($ids: [ID!]!) { users(authUserIds: $ids) { goals { id } } }";
    app.graphql(query, json!({ "ids": ids(10) }), None)
        .await
        .ok();
    let refused = app.graphql(query, json!({ "ids": ids(11) }), None).await;
    assert_eq!(
        refused.error_code(),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{}",
        refused.body
    );
    assert!(message(&refused).contains("1112"), "{}", refused.body);
    // A literal list counts the same, as does `first`.
    let literal = format!(
        "{{ users(authUserIds: {}) {{ goals {{ id }} }} }}",
        serde_json::to_string(&ids(11)).unwrap()
    );
    let refused = app.graphql(&literal, json!({}), None).await;
    assert_eq!(refused.error_code(), Some("GRAPHQL_VALIDATION_FAILED"));
    let activity = "{ user(authUserId: \"a\") { activity(first: 100) { id kind summary goalId badgeId occurredAt id2: id id3: id id4: id id5: id id6: id } } }";
    let refused = app.graphql(activity, json!({}), None).await;
    assert_eq!(refused.error_code(), Some("GRAPHQL_VALIDATION_FAILED"));
    let small = "{ user(authUserId: \"a\") { activity(first: 10) { id kind } } }";
    app.graphql(small, json!({}), None).await.ok();
}

#[tokio::test]
async fn every_operation_of_a_batch_counts_against_one_budget() {
    let app = TestApp::spawn_with(|config| config.http.graphql_max_complexity = 1_500).await;
    let operation = json!({
        "query": "query($ids: [ID!]!) { users(authUserIds: $ids) { goals { id } } }",
        "variables": { "ids": ids(10) },
    });
    // Each costs 1011: one fits, the other would make 2022.
    let before = app.statements();
    let response = post_json(&app, &json!([operation.clone(), operation])).await;
    let refused = refused_in_batch(&response);
    assert_eq!(refused.len(), 1, "{}", response.body);
    assert!(refused[0].contains("batch"), "{}", response.body);
    assert!(app.statements() > before, "the other one ran");
}

/// The messages of the batch answers refused with
/// `GRAPHQL_VALIDATION_FAILED`, after checking the others answered.
fn refused_in_batch(response: &TestResponse) -> Vec<String> {
    let answers = response.body.as_array().expect("a batch answer");
    let mut refused = Vec::new();
    for answer in answers {
        match answer.get("errors") {
            None => assert!(answer["data"].is_object(), "{answer}"),
            Some(_) => {
                assert_eq!(
                    answer["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
                    "{answer}"
                );
                assert_eq!(answer["data"], Value::Null, "{answer}");
                refused.push(
                    answer["errors"][0]["message"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                );
            }
        }
    }
    refused
}

#[tokio::test]
async fn the_amplification_batch_of_the_issue_is_refused_fast_and_runs_nothing() {
    let app = TestApp::spawn().await;
    app.create_goal("victim", "Goal").await;
    let same = vec!["victim"; 100];
    let aliases: String = (0..30)
        .map(|n| {
            format!(
                "a{n}: users(authUserIds: {}) {{ goals {{ id title description status }} }} ",
                serde_json::to_string(&same).unwrap()
            )
        })
        .collect();
    let operation = json!({ "query": format!("{{ {aliases} }}") });
    let batch = Value::Array(vec![operation; 10]);
    assert!(batch.to_string().len() > 300_000);
    let before = app.statements();
    let start = Instant::now();
    let response = post_json(&app, &batch).await;
    assert!(start.elapsed() < FAST, "took {:?}", start.elapsed());
    let answers = response.body.as_array().expect("a batch answer");
    assert_eq!(answers.len(), 10);
    for answer in answers {
        assert_eq!(
            answer["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
            "{answer}"
        );
    }
    assert!(response.body.to_string().len() < 10_000);
    assert_eq!(app.statements(), before, "nothing executed");
}

#[tokio::test]
async fn duplicate_ids_are_loaded_once() {
    let app = TestApp::spawn().await;
    app.create_goal("dup", "Learn SQL").await;
    app.create_badge("dup", "Starter").await;
    let query = "query($ids: [ID!]!) { users(authUserIds: $ids) { authUserId goals { title } badges { name } stats { goalCount } } }";
    let before = app.statements();
    let one = app.graphql(query, json!({ "ids": ["dup"] }), None).await;
    let once = app.statements() - before;
    assert_eq!(one.ok()["users"][0]["goals"][0]["title"], "Learn SQL");

    let before = app.statements();
    let hundred = app
        .graphql(query, json!({ "ids": vec!["dup"; 100] }), None)
        .await;
    let users = hundred.ok()["users"].as_array().expect("users").clone();
    assert_eq!(app.statements() - before, once, "the same statements");
    assert_eq!(
        users.len(),
        100,
        "one entry per id asked, as GraphQL requires"
    );
    assert!(users.iter().all(|user| user == &users[0]));
}

#[tokio::test]
async fn an_answer_over_the_response_budget_is_refused() {
    let app = TestApp::spawn_with(|config| config.http.graphql_max_response_bytes = 4_096).await;
    for n in 0..5 {
        app.create_goal("big", &format!("{n} {}", "x".repeat(150)))
            .await;
    }
    let query = "query($ids: [ID!]!) { users(authUserIds: $ids) { goals { title } } }";
    // 1 copy: about 900 bytes.
    app.graphql(query, json!({ "ids": ["big"] }), None)
        .await
        .ok();
    let response = app
        .graphql(query, json!({ "ids": vec!["big"; 20] }), None)
        .await;
    assert_eq!(
        response.error_code(),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{}",
        response.body
    );
    assert!(
        message(&response).contains("4096 bytes"),
        "{}",
        response.body
    );
    assert_eq!(response.data(), &Value::Null);
    assert!(response.body.to_string().len() < 1_000);

    // A batch shares one budget: each fits, both together do not.
    let operation = json!({ "query": query, "variables": { "ids": vec!["big"; 3] } });
    let response = post_json(&app, &json!([operation.clone(), operation])).await;
    let refused = refused_in_batch(&response);
    assert_eq!(refused.len(), 1, "{}", response.body);
    assert!(refused[0].contains("4096 bytes"), "{}", response.body);
}

#[tokio::test]
async fn a_missing_required_variable_is_a_client_error() {
    let app = TestApp::spawn().await;
    for query in [
        "query($id: ID!) { user(authUserId: $id) { authUserId } }",
        "query($ids: [ID!]!) { users(authUserIds: $ids) { authUserId } }",
    ] {
        let response = app.graphql(query, json!({}), None).await;
        let code = response.error_code();
        assert!(
            code == Some("BAD_USER_INPUT") || code == Some("GRAPHQL_VALIDATION_FAILED"),
            "{}",
            response.body
        );
        assert!(message(&response).contains("$"), "{}", response.body);
    }
    // Nothing written by a mutation missing one.
    let before = app.count("SELECT count(*) AS n FROM auth_users").await;
    let response = app
        .graphql_as(
            "writer",
            "mutation($title: String!) { createGoal(authUserId: \"writer\", input: { title: $title }) { id } }",
            json!({}),
        )
        .await;
    assert_ne!(
        response.error_code(),
        Some("INTERNAL_SERVER_ERROR"),
        "{}",
        response.body
    );
    assert!(response.error_code().is_some(), "{}", response.body);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM auth_users").await,
        before
    );
}

#[tokio::test]
async fn a_variable_of_an_unknown_type_fails_validation() {
    let app = TestApp::spawn().await;
    for query in [
        "query($x: Nope) { __typename }",
        "query($x: Nope) { user(authUserId: $x) { authUserId } }",
        "query($x: [Nope!]) { __typename }",
    ] {
        let response = app.graphql(query, json!({}), None).await;
        assert_eq!(
            response.error_code(),
            Some("GRAPHQL_VALIDATION_FAILED"),
            "{query}: {}",
            response.body
        );
    }
    // An unused variable of a known type is refused as the spec says.
    let response = app
        .graphql("query($x: String) { __typename }", json!({}), None)
        .await;
    assert_eq!(response.error_code(), Some("GRAPHQL_VALIDATION_FAILED"));
}

#[tokio::test]
async fn a_malformed_entity_id_is_bad_user_input_without_failing_the_others() {
    let app = TestApp::spawn().await;
    let response = app
        .graphql(
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { authUserId } } }",
            json!({ "r": [
                { "__typename": "User", "authUserId": "fine" },
                { "__typename": "User", "authUserId": "not valid!" },
            ]}),
            None,
        )
        .await;
    assert_eq!(response.data()["_entities"][0]["authUserId"], "fine");
    assert_eq!(response.data()["_entities"][1], Value::Null);
    assert_eq!(
        response.error_code(),
        Some("BAD_USER_INPUT"),
        "{}",
        response.body
    );
    assert_eq!(
        response.body["errors"][0]["path"],
        json!(["_entities", 1]),
        "{}",
        response.body
    );
}

/// Generated hostile requests: every answer is data or errors that all
/// carry a contract code (never `INTERNAL_SERVER_ERROR`), the process
/// never panics or aborts, and each case finishes within a bound.
mod generated {
    use std::time::{Duration, Instant};

    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestCaseError, TestRunner};
    use serde_json::{Value, json};

    use crate::helpers::TestApp;

    /// Per case, debug build, busy machine.
    const BOUND: Duration = Duration::from_secs(2);

    const CODES: [&str; 8] = [
        "UNAUTHENTICATED",
        "FORBIDDEN",
        "NOT_FOUND",
        "BAD_USER_INPUT",
        "SERVICE_UNAVAILABLE",
        "GRAPHQL_PARSE_FAILED",
        "GRAPHQL_VALIDATION_FAILED",
        "PERSISTED_QUERY_NOT_FOUND",
    ];

    /// Pieces of GraphQL, good and bad, for a token soup.
    const TOKENS: [&str; 44] = [
        "{",
        "}",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        "[",
        "]",
        "...",
        "...F0",
        "...F1",
        "fragment F0 on Query",
        "fragment F1 on User",
        "on",
        "query",
        "mutation",
        "query($v: [ID!])",
        "users",
        "user",
        "authUserIds:",
        "authUserId:",
        "\"x\"",
        "$v",
        "$w",
        "goals",
        "badges",
        "activity(first: 5)",
        "id",
        "__typename",
        "a:",
        "b:",
        "@include(if: true)",
        "@skip(if: $v)",
        ":",
        "!",
        "=",
        "1",
        "-1.5e3",
        "\"\"\"b\\\"\"\"\"",
        "#c\n",
        "é",
        "\"",
    ];

    fn soup() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(&TOKENS[..]), 0..300)
            .prop_map(|tokens| tokens.join(" "))
    }

    /// A selection set: fields (some aliased, some with list arguments
    /// nested up to 100 deep), spreads and inline fragments.
    fn selection() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("__typename".to_owned()),
            Just("authUserId".to_owned()),
            Just("...F0".to_owned()),
            Just("id".to_owned()),
            (0_usize..100).prop_map(|depth| format!(
                "users(authUserIds: {}\"x\"{}) {{ authUserId }}",
                "[".repeat(depth),
                "]".repeat(depth)
            )),
        ];
        leaf.prop_recursive(6, 64, 8, |inner| {
            (
                prop::sample::select(
                    &[
                        "users(authUserIds: $v)",
                        "user(authUserId: \"u\")",
                        "me",
                        "goals",
                        "badges",
                        "activity(first: 100)",
                        "stats",
                        "... on User",
                        "... on Query",
                    ][..],
                ),
                prop::option::of(prop::sample::select(&["a:", "b:", "c:"][..])),
                prop::collection::vec(inner, 1..8),
            )
                .prop_map(|(field, alias, children)| {
                    let alias = if field.starts_with("...") {
                        None
                    } else {
                        alias
                    };
                    format!(
                        "{} {field} {{ {} }}",
                        alias.unwrap_or(""),
                        children.join(" ")
                    )
                })
        })
    }

    fn document() -> impl Strategy<Value = String> {
        (
            prop::sample::select(&["query($v: [ID!])", "query", "mutation", ""][..]),
            selection(),
            prop::collection::vec(selection(), 0..3),
            0_usize..4,
        )
            .prop_map(|(head, body, fragments, repeat)| {
                let mut document = format!("{head} {{ {body} }}");
                // F0 spreads F1 `repeat` times, F1 spreads nothing: a small
                // expansion chain; cycles come from generated spreads.
                document.push_str(&format!(
                    " fragment F0 on Query {{ __typename {} }}",
                    "...F1 ".repeat(repeat)
                ));
                document.push_str(" fragment F1 on Query { __typename }");
                for (n, fragment) in fragments.into_iter().enumerate() {
                    document.push_str(&format!(" fragment G{n} on User {{ {fragment} }}"));
                }
                document
            })
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "[a-z0-9!_-]{0,8}".prop_map(Value::from),
            (0_usize..120).prop_map(|depth| {
                let mut value = json!("x");
                for _ in 0..depth {
                    value = json!([value]);
                }
                value
            }),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
                prop::collection::btree_map("[a-z]{1,3}", inner, 0..4)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    fn request() -> impl Strategy<Value = (String, Value, bool)> {
        (
            prop_oneof![soup(), document()],
            prop::option::of(json_value()),
            json_value(),
            any::<bool>(),
        )
            .prop_map(|(query, v, w, batch)| {
                let mut variables = serde_json::Map::new();
                if let Some(v) = v {
                    variables.insert("v".to_owned(), v);
                }
                variables.insert("w".to_owned(), w);
                (query, Value::Object(variables), batch)
            })
    }

    fn check_answer(answer: &Value) -> Result<(), TestCaseError> {
        match answer.get("errors") {
            None => prop_assert!(
                answer.get("data").is_some(),
                "neither data nor errors: {answer}"
            ),
            Some(errors) => {
                let errors = errors.as_array().cloned().unwrap_or_default();
                prop_assert!(!errors.is_empty(), "{answer}");
                for error in errors {
                    let code = error["extensions"]["code"].as_str().unwrap_or("none");
                    prop_assert!(CODES.contains(&code), "code {code}: {answer}");
                }
            }
        }
        Ok(())
    }

    #[test]
    fn generated_requests_get_a_contract_answer_within_a_bound() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let app = runtime.block_on(TestApp::spawn());
        let mut runner = TestRunner::new(Config {
            cases: 64,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&request(), |(query, variables, batch)| {
                let start = Instant::now();
                let body = json!({ "query": query, "variables": variables });
                let body = if batch {
                    json!([body, { "query": "{ __typename }" }])
                } else {
                    body
                };
                let response = runtime.block_on(super::post_json(&app, &body));
                let elapsed = start.elapsed();
                prop_assert!(elapsed < BOUND, "took {elapsed:?}: {query}");
                prop_assert!(
                    [200, 400].contains(&response.status.as_u16()),
                    "status {}: {}",
                    response.status,
                    response.body
                );
                match &response.body {
                    Value::Array(answers) => {
                        for answer in answers {
                            check_answer(answer)?;
                        }
                    }
                    answer => check_answer(answer)?,
                }
                Ok(())
            })
            .unwrap();
        // Still serving.
        let response = runtime.block_on(app.graphql("{ __typename }", json!({}), None));
        assert_eq!(response.ok()["__typename"], "Query");
        runtime.block_on(async move { drop(app) });
    }
}
