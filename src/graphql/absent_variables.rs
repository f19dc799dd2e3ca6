//! Input coercion for unprovided variables (GraphQL spec §6.4.1, §6.4.2):
//! an argument or input object field whose value is a variable the request
//! did not provide (and that has no default) is *absent*, not null: the
//! argument's default applies and a stored value is left unchanged.
//! async-graphql reads such a variable as null, so [`strip`] removes those
//! arguments and fields from the parsed document before execution.
//!
//! It leaves validation its say: a variable whose type is not a known input
//! type is never stripped, and a definition the document never used stays,
//! so `query($x: Nope) { __typename }` still fails validation.

use std::collections::HashSet;

use async_graphql::parser::types::{
    BaseType, DocumentOperations, ExecutableDocument, OperationDefinition, Selection, SelectionSet,
    Type,
};
use async_graphql::{Name, Variables};
use async_graphql_value::Value;

/// Removes from `document` the arguments and input object fields bound to
/// a variable `variables` does not provide, when that variable is nullable,
/// has no default and is of an input type (`is_input_type` of its base type
/// name).
pub fn strip(
    document: &mut ExecutableDocument,
    variables: &Variables,
    is_input_type: impl Fn(&str) -> bool,
) {
    let missing = missing_variables(document, variables, is_input_type);
    if missing.is_empty() {
        return;
    }
    let mut used_before = HashSet::new();
    for operation in operations_mut(&mut document.operations) {
        collect_uses(&operation.selection_set.node, &mut used_before);
    }
    for fragment in document.fragments.values() {
        collect_uses(&fragment.node.selection_set.node, &mut used_before);
    }
    for operation in operations_mut(&mut document.operations) {
        strip_selection_set(&mut operation.selection_set.node, &missing);
    }
    for fragment in document.fragments.values_mut() {
        strip_selection_set(&mut fragment.node.selection_set.node, &missing);
    }
    // A definition left without a use by the stripping would fail
    // validation ("variable is not used"): drop it, as the request never
    // gave it a value. One the document never used stays, for validation
    // to refuse.
    let mut used = HashSet::new();
    for operation in operations_mut(&mut document.operations) {
        collect_uses(&operation.selection_set.node, &mut used);
    }
    for fragment in document.fragments.values() {
        collect_uses(&fragment.node.selection_set.node, &mut used);
    }
    for operation in operations_mut(&mut document.operations) {
        operation.variable_definitions.retain(|definition| {
            let name = &definition.node.name.node;
            !missing.contains(name) || used.contains(name) || !used_before.contains(name)
        });
    }
}

fn operations_mut(
    operations: &mut DocumentOperations,
) -> Box<dyn Iterator<Item = &mut OperationDefinition> + '_> {
    match operations {
        DocumentOperations::Single(operation) => Box::new(std::iter::once(&mut operation.node)),
        DocumentOperations::Multiple(operations) => {
            Box::new(operations.values_mut().map(|operation| &mut operation.node))
        }
    }
}

/// Declared nullable variables of a known input type (`is_input_type` of
/// the base type name) that are neither provided nor defaulted (a missing
/// non-null variable, or one of an unknown type, stays, for validation to
/// refuse).
fn missing_variables(
    document: &ExecutableDocument,
    variables: &Variables,
    is_input_type: impl Fn(&str) -> bool,
) -> HashSet<Name> {
    let definitions: Vec<_> = match &document.operations {
        DocumentOperations::Single(operation) => {
            operation.node.variable_definitions.iter().collect()
        }
        DocumentOperations::Multiple(operations) => operations
            .values()
            .flat_map(|operation| operation.node.variable_definitions.iter())
            .collect(),
    };
    definitions
        .into_iter()
        .filter(|definition| {
            definition.node.default_value.is_none()
                && definition.node.var_type.node.nullable
                && !variables.contains_key(&definition.node.name.node)
                && is_input_type(base_type_name(&definition.node.var_type.node))
        })
        .map(|definition| definition.node.name.node.clone())
        .collect()
}

/// The named type at the bottom of a (list) type.
fn base_type_name(ty: &Type) -> &str {
    let mut ty = ty;
    loop {
        match &ty.base {
            BaseType::Named(name) => return name.as_str(),
            BaseType::List(inner) => ty = inner,
        }
    }
}

fn strip_selection_set(selection_set: &mut SelectionSet, missing: &HashSet<Name>) {
    for item in &mut selection_set.items {
        match &mut item.node {
            Selection::Field(field) => {
                field
                    .node
                    .arguments
                    .retain(|(_, value)| !is_missing(&value.node, missing));
                for (_, value) in &mut field.node.arguments {
                    strip_value(&mut value.node, missing);
                }
                strip_selection_set(&mut field.node.selection_set.node, missing);
            }
            Selection::InlineFragment(fragment) => {
                strip_selection_set(&mut fragment.node.selection_set.node, missing);
            }
            Selection::FragmentSpread(_) => {}
        }
    }
}

fn is_missing(value: &Value, missing: &HashSet<Name>) -> bool {
    matches!(value, Value::Variable(name) if missing.contains(name))
}

/// Removes object fields bound to missing variables, at any depth.
fn strip_value(value: &mut Value, missing: &HashSet<Name>) {
    match value {
        Value::Object(fields) => {
            fields.retain(
                |_, field| !matches!(field, Value::Variable(name) if missing.contains(name)),
            );
            for field in fields.values_mut() {
                strip_value(field, missing);
            }
        }
        Value::List(items) => {
            for item in items {
                strip_value(item, missing);
            }
        }
        _ => {}
    }
}

/// Names of the variables a selection set still uses.
fn collect_uses(selection_set: &SelectionSet, used: &mut HashSet<Name>) {
    for item in &selection_set.items {
        match &item.node {
            Selection::Field(field) => {
                for (_, value) in &field.node.arguments {
                    value_uses(&value.node, used);
                }
                for directive in &field.node.directives {
                    for (_, value) in &directive.node.arguments {
                        value_uses(&value.node, used);
                    }
                }
                collect_uses(&field.node.selection_set.node, used);
            }
            Selection::InlineFragment(fragment) => {
                collect_uses(&fragment.node.selection_set.node, used);
            }
            Selection::FragmentSpread(_) => {}
        }
    }
}

fn value_uses(value: &Value, used: &mut HashSet<Name>) {
    match value {
        Value::Variable(name) => {
            used.insert(name.clone());
        }
        Value::List(items) => items.iter().for_each(|item| value_uses(item, used)),
        Value::Object(fields) => fields.values().for_each(|field| value_uses(field, used)),
        _ => {}
    }
}
