//! The cost of a document, told truthfully and computed in linear time.
//!
//! Every field costs 1 (`__typename` included), and the selection under a
//! list field costs once per item the list can hold:
//!
//! | field | items counted |
//! |---|---|
//! | `users(authUserIds:)` | the list's length (literal or variable), at most [`MAX_USERS_PER_QUERY`] |
//! | `_entities(representations:)` | the list's length |
//! | `searchUsers(first:)` | `first` (default 20), at most [`MAX_SEARCH_PAGE`] |
//! | `User.activity(first:)` | `first` (default 20), at most [`MAX_ACTIVITY`] |
//! | `User.goalsConnection` / `badgesConnection` / `activityConnection` `(first:)` | `first` (default 20), at most [`MAX_PAGE`] |
//! | `User.goals` | [`MAX_GOALS_PER_USER`] |
//! | `User.badges` | [`MAX_BADGES_PER_USER`] |
//!
//! A count over a cap is left to the resolver, which refuses it with
//! `BAD_USER_INPUT` (caps are errors, not clamps). Fragments are expanded,
//! each one costed once and remembered, so a fragment spread ten times per
//! level costs ten times per level without ten times the work. Beside the
//! weighted cost, the walk counts the selections the engine's own checks
//! will visit after expansion ([`Cost::selections`], over every operation
//! of the document), which an empty list must not hide.
//!
//! List fields are recognised by name: no other type of the schema has a
//! field called `users`, `goals`, `badges`, `activity`, `searchUsers`,
//! `_entities` or one of the `*Connection`s.

use std::collections::HashMap;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Field, OperationDefinition, OperationType, Selection,
    SelectionSet,
};
use async_graphql::{Name, Positioned, Variables};
use async_graphql_value::{ConstValue, Value};

pub use crate::domain::{MAX_BADGES_PER_USER, MAX_GOALS_PER_USER};
pub use crate::graphql::pages::MAX_PAGE;
pub use crate::graphql::query::MAX_USERS_PER_QUERY;
pub use crate::graphql::search::MAX_SEARCH_PAGE;
pub use crate::graphql::types::MAX_ACTIVITY;

/// `first` when a request gives none (`searchUsers`, `User.activity`).
const DEFAULT_FIRST: u64 = 20;

/// What a document costs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cost {
    /// The weighted cost of the operation the request runs.
    pub weighted: u64,
    /// Selections (fields, spreads, inline fragments) of every operation
    /// after fragment expansion, unweighted.
    pub selections: u64,
    /// Root fields of the operation when it is a mutation (aliases
    /// included), else 0: each is a write, for the per-user quota.
    pub mutation_fields: u64,
}

/// What one selection set sums to.
#[derive(Debug, Clone, Copy, Default)]
struct SetCost {
    weighted: u64,
    selections: u64,
    /// Fields at this level, through fragments.
    fields: u64,
}

impl SetCost {
    fn add(&mut self, other: SetCost) {
        self.weighted = self.weighted.saturating_add(other.weighted);
        self.selections = self.selections.saturating_add(other.selections);
        self.fields = self.fields.saturating_add(other.fields);
    }
}

/// The cost of `document` run with `variables`; `operation_name` picks the
/// operation as execution will (when none is picked, all are counted).
pub fn document_cost(
    document: &ExecutableDocument,
    variables: &Variables,
    operation_name: Option<&str>,
) -> Cost {
    let mut walk = Walk {
        document,
        variables,
        fragments: HashMap::new(),
    };
    let operations: Vec<(Option<&Name>, &Positioned<OperationDefinition>)> =
        document.operations.iter().collect();
    let mut cost = Cost::default();
    let selected = |name: Option<&Name>| match (&document.operations, operation_name) {
        (DocumentOperations::Single(_), _) => true,
        (DocumentOperations::Multiple(_), None) => true,
        (DocumentOperations::Multiple(_), Some(wanted)) => {
            name.is_some_and(|name| name.as_str() == wanted)
        }
    };
    for (name, operation) in operations {
        let set = walk.selection_set(&operation.node.selection_set.node);
        cost.selections = cost.selections.saturating_add(set.selections);
        if selected(name) {
            cost.weighted = cost.weighted.saturating_add(set.weighted);
            if operation.node.ty == OperationType::Mutation {
                cost.mutation_fields = cost.mutation_fields.saturating_add(set.fields);
            }
        }
    }
    cost
}

/// The number of writes a mutation document asks for (its root fields,
/// aliases and fragments included): what a per-user write quota should
/// charge. 0 for a query.
pub fn mutation_field_count(
    document: &ExecutableDocument,
    variables: &Variables,
    operation_name: Option<&str>,
) -> u64 {
    document_cost(document, variables, operation_name).mutation_fields
}

struct Walk<'a> {
    document: &'a ExecutableDocument,
    variables: &'a Variables,
    /// Each fragment's cost once computed; `None` while it is being
    /// computed (a cycle, which validation refuses, then costs nothing).
    fragments: HashMap<&'a Name, Option<SetCost>>,
}

impl<'a> Walk<'a> {
    fn selection_set(&mut self, set: &'a SelectionSet) -> SetCost {
        let mut total = SetCost::default();
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let children = self.selection_set(&field.selection_set.node);
                    let items = self.items(field);
                    total.add(SetCost {
                        weighted: items.saturating_mul(children.weighted).saturating_add(1),
                        selections: children.selections.saturating_add(1),
                        fields: 1,
                    });
                }
                Selection::InlineFragment(fragment) => {
                    let mut inner = self.selection_set(&fragment.node.selection_set.node);
                    inner.selections = inner.selections.saturating_add(1);
                    total.add(inner);
                }
                Selection::FragmentSpread(spread) => {
                    let mut inner = self.fragment(&spread.node.fragment_name.node);
                    inner.selections = inner.selections.saturating_add(1);
                    total.add(inner);
                }
            }
        }
        total
    }

    fn fragment(&mut self, name: &'a Name) -> SetCost {
        match self.fragments.get(name) {
            Some(Some(cost)) => return *cost,
            Some(None) => return SetCost::default(),
            None => {}
        }
        let Some(fragment) = self.document.fragments.get(name) else {
            // Unknown fragment: validation refuses it.
            return SetCost::default();
        };
        self.fragments.insert(name, None);
        let cost = self.selection_set(&fragment.node.selection_set.node);
        self.fragments.insert(name, Some(cost));
        cost
    }

    /// How many times the selection under `field` is answered.
    fn items(&self, field: &'a Field) -> u64 {
        let argument = |name: &str| field.get_argument(name).map(|value| &value.node);
        match field.name.node.as_str() {
            "users" => self
                .list_len(argument("authUserIds"))
                .map_or(cap(MAX_USERS_PER_QUERY), |len| {
                    len.min(cap(MAX_USERS_PER_QUERY))
                }),
            "_entities" => self.list_len(argument("representations")).unwrap_or(1),
            "searchUsers" => self.first(argument("first"), MAX_SEARCH_PAGE),
            "activity" => self.first(argument("first"), MAX_ACTIVITY),
            "goalsConnection" | "badgesConnection" | "activityConnection" => {
                self.first(argument("first"), MAX_PAGE)
            }
            "goals" => cap(MAX_GOALS_PER_USER),
            "badges" => cap(MAX_BADGES_PER_USER),
            _ => 1,
        }
    }

    fn resolve(&self, value: &'a Value) -> Resolved<'a> {
        match value {
            Value::Variable(name) => match self.variables.get(name) {
                Some(value) => Resolved::Const(value),
                None => Resolved::Absent,
            },
            other => Resolved::Literal(other),
        }
    }

    /// The length of a list argument (a single value is a list of one);
    /// `None` when it is absent or not known.
    fn list_len(&self, value: Option<&'a Value>) -> Option<u64> {
        let value = value?;
        match self.resolve(value) {
            Resolved::Literal(Value::List(items)) => Some(len(items.len())),
            Resolved::Const(ConstValue::List(items)) => Some(len(items.len())),
            Resolved::Literal(Value::Null) | Resolved::Const(ConstValue::Null) => Some(0),
            Resolved::Literal(_) | Resolved::Const(_) => Some(1),
            Resolved::Absent => None,
        }
    }

    /// A `first` argument, its default when absent, at most `max` (more is
    /// refused by the resolver).
    fn first(&self, value: Option<&'a Value>, max: i32) -> u64 {
        let number = match value.map(|value| self.resolve(value)) {
            Some(Resolved::Literal(Value::Number(number)))
            | Some(Resolved::Const(ConstValue::Number(number))) => number.as_i64(),
            None | Some(Resolved::Absent) => return DEFAULT_FIRST,
            Some(_) => None,
        };
        let max = u64::try_from(max).unwrap_or(0);
        number
            .map_or(DEFAULT_FIRST, |number| u64::try_from(number).unwrap_or(0))
            .min(max)
    }
}

enum Resolved<'a> {
    Literal(&'a Value),
    Const(&'a ConstValue),
    Absent,
}

fn cap(count: usize) -> u64 {
    u64::try_from(count).unwrap_or(u64::MAX)
}

fn len(count: usize) -> u64 {
    cap(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    fn cost(query: &str, variables: serde_json::Value) -> Cost {
        let document = parse_query(query).unwrap();
        document_cost(&document, &Variables::from_json(variables), None)
    }

    #[test]
    fn fields_count_one_each() {
        assert_eq!(cost("{ __typename }", serde_json::json!({})).weighted, 1);
        assert_eq!(
            cost(
                "{ user(authUserId: \"a\") { authUserId displayName } }",
                serde_json::json!({})
            )
            .weighted,
            3
        );
    }

    #[test]
    fn lists_multiply_by_their_length_or_cap() {
        let query =
            "query($ids: [ID!]!) { users(authUserIds: $ids) { goals { id title } badges { id } } }";
        // 1 + 3 * ((1 + 100 * 2) + (1 + 100 * 1))
        assert_eq!(
            cost(query, serde_json::json!({ "ids": ["a", "b", "c"] })).weighted,
            1 + 3 * 302
        );
        // An unknown length counts the cap; more than the cap is left to
        // the resolver.
        assert_eq!(cost(query, serde_json::json!({})).weighted, 1 + 100 * 302);
        let many: Vec<String> = (0..500).map(|n| n.to_string()).collect();
        assert_eq!(
            cost(query, serde_json::json!({ "ids": many })).weighted,
            1 + 100 * 302
        );
        assert_eq!(
            cost(
                "{ users(authUserIds: [\"a\", \"b\"]) { authUserId } }",
                serde_json::json!({})
            )
            .weighted,
            3
        );
        assert_eq!(
            cost(
                "{ users(authUserIds: \"a\") { authUserId } }",
                serde_json::json!({})
            )
            .weighted,
            2
        );
    }

    #[test]
    fn first_counts_with_its_default() {
        assert_eq!(
            cost("{ me { activity { id } } }", serde_json::json!({})).weighted,
            1 + 1 + 20
        );
        assert_eq!(
            cost(
                "query($n: Int) { me { activity(first: $n) { id } } }",
                serde_json::json!({ "n": 7 })
            )
            .weighted,
            1 + 1 + 7
        );
        assert_eq!(
            cost(
                "{ searchUsers(query: \"a\", first: 50) { edges { node { authUserId } } } }",
                serde_json::json!({})
            )
            .weighted,
            1 + 50 * 3
        );
    }

    #[test]
    fn fragments_are_expanded_and_memoised() {
        let mut document = String::from("query { ...F20 } fragment F0 on Query { __typename }");
        for level in 1..=20 {
            document.push_str(&format!(
                " fragment F{level} on Query {{ {} }}",
                format!("...F{} ", level - 1).repeat(10)
            ));
        }
        let cost = cost(&document, serde_json::json!({}));
        // 10^20 saturates.
        assert_eq!(cost.weighted, u64::MAX);
        assert!(cost.selections >= 10_u64.pow(19));
    }

    #[test]
    fn cycles_cost_nothing_more() {
        let cost = cost(
            "query { ...A } fragment A on Query { __typename ...B } fragment B on Query { ...A }",
            serde_json::json!({}),
        );
        assert_eq!(cost.weighted, 1);
    }

    #[test]
    fn the_selected_operation_is_weighted_and_every_one_is_visited() {
        let document =
            parse_query("query A { __typename } query B { a: __typename b: __typename }").unwrap();
        let cost = document_cost(&document, &Variables::default(), Some("A"));
        assert_eq!(cost.weighted, 1);
        assert_eq!(cost.selections, 3);
    }

    #[test]
    fn mutation_aliases_are_counted_as_writes() {
        let document = parse_query(
            "mutation { a: deleteGoal(authUserId: \"u\", goalId: \"1\") b: deleteGoal(authUserId: \"u\", goalId: \"2\") ...M } fragment M on Mutation { c: deleteGoal(authUserId: \"u\", goalId: \"3\") }",
        )
        .unwrap();
        assert_eq!(
            mutation_field_count(&document, &Variables::default(), None),
            3
        );
        let query = parse_query("{ a: __typename b: __typename }").unwrap();
        assert_eq!(mutation_field_count(&query, &Variables::default(), None), 0);
    }
}
