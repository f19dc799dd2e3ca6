//! Documents the engine has validated already.
//!
//! async-graphql validates every request's document against the schema
//! (about a quarter of a `user` request's CPU), though clients send the
//! same few documents again and again. A document's validity depends on
//! its text alone, except for one rule: arguments bound to variables are
//! checked against the values the request gives. So the executor runs a
//! second engine in async-graphql's `Fast` validation mode (no rule that
//! reports errors; cost, depth and cache hints still computed) for a
//! request when all of these hold:
//!
//! - its document text was validated by the strict engine before, without
//!   an error of any kind in that answer;
//! - every variable the document defines is given, so that nothing was
//!   stripped as absent (the engine sees the text it validated);
//! - every value given [`fits`] its variable's type, by the rules
//!   async-graphql's own validation applies to `ID`, `String` and
//!   `Boolean` values; any other variable type, or any `null`, goes to the
//!   strict engine.
//!
//! Everything else goes to the strict engine, so a wrong or missing
//! variable is refused exactly as before, with the same error.

use async_graphql::Variables;
use async_graphql::parser::types::{BaseType, DocumentOperations, ExecutableDocument, Type};
use async_graphql_value::ConstValue;

/// Whether every variable `document` defines is given in `variables`, with
/// a value that [`fits`] its type.
pub fn variables_fit(document: &ExecutableDocument, variables: &Variables) -> bool {
    let fit = |definitions: &[async_graphql::Positioned<
        async_graphql::parser::types::VariableDefinition,
    >]| {
        definitions.iter().all(|definition| {
            variables
                .get(&definition.node.name.node)
                .is_some_and(|value| fits(&definition.node.var_type.node, value))
        })
    };
    match &document.operations {
        DocumentOperations::Single(operation) => fit(&operation.node.variable_definitions),
        DocumentOperations::Multiple(operations) => operations
            .values()
            .all(|operation| fit(&operation.node.variable_definitions)),
    }
}

/// Whether `value` is a valid, non-null value of `ty`, for the types built
/// on `ID`, `String` and `Boolean` only (async-graphql's `is_valid` of
/// those scalars, with its coercion of a single value to a list); `false`
/// for any other type.
pub fn fits(ty: &Type, value: &ConstValue) -> bool {
    match (&ty.base, value) {
        (_, ConstValue::Null) => false,
        (BaseType::List(item), ConstValue::List(items)) => {
            items.iter().all(|value| fits(item, value))
        }
        (BaseType::List(item), single) => fits(item, single),
        (BaseType::Named(name), value) => match (name.as_str(), value) {
            ("ID", ConstValue::Number(number)) => number.is_i64(),
            ("ID" | "String", ConstValue::String(_)) => true,
            ("Boolean", ConstValue::Boolean(_)) => true,
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;
    use serde_json::json;

    use super::*;

    fn fit(query: &str, variables: serde_json::Value) -> bool {
        let document = parse_query(query).expect("parses");
        variables_fit(&document, &Variables::from_json(variables))
    }

    #[test]
    fn only_given_non_null_values_of_id_string_and_boolean_fit() {
        let one = "query($id: ID!) { user(authUserId: $id) { authUserId } }";
        assert!(fit(one, json!({ "id": "u1" })));
        assert!(fit(one, json!({ "id": 42 })));
        assert!(!fit(one, json!({ "id": 4.5 })), "not an ID");
        assert!(!fit(one, json!({ "id": null })));
        assert!(!fit(one, json!({ "id": true })));
        assert!(!fit(one, json!({ "id": ["u1"] })), "a list is not an ID");
        assert!(!fit(one, json!({})), "missing");

        let many = "query($ids: [ID!]!) { users(authUserIds: $ids) { authUserId } }";
        assert!(fit(many, json!({ "ids": ["a", "b"] })));
        assert!(fit(many, json!({ "ids": "a" })), "a single value coerces");
        assert!(fit(many, json!({ "ids": [] })));
        assert!(!fit(many, json!({ "ids": ["a", null] })));
        assert!(!fit(many, json!({ "ids": [["a"]] })));
        assert!(!fit(many, json!({ "ids": [{ "a": 1 }] })));

        let other = "query($n: Int, $s: String, $b: Boolean!) { __typename }";
        assert!(
            !fit(other, json!({ "n": 1, "s": "x", "b": true })),
            "Int goes to the engine"
        );
        let flags = "query($s: String, $b: Boolean!) { __typename }";
        assert!(fit(flags, json!({ "s": "x", "b": false })));
        assert!(!fit(flags, json!({ "s": 1, "b": false })));
        assert!(fit("{ __typename }", json!({})), "no variables");
        let status = "query($s: GoalStatus) { __typename }";
        assert!(
            !fit(status, json!({ "s": "COMPLETED" })),
            "enums go to the engine"
        );
    }
}
