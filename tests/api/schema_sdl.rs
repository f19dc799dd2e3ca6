//! `schema.graphql` is generated from the code and must not drift.

#[test]
fn schema_graphql_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let generated = user_service::graphql::sdl();
    assert!(
        committed == generated,
        "schema.graphql is out of date: run `cargo run -- export-schema > schema.graphql`"
    );
}

#[test]
fn schema_names_the_contract_types() {
    let sdl = user_service::graphql::sdl();
    for needle in [
        "type User @key(fields: \"authUserId\")",
        "scalar Date",
        "scalar DateTime",
        "enum GoalStatus",
        "users(authUserIds: [ID!]!): [User]!",
        "updateProfile(authUserId: ID!, input: UpdateProfileInput!): User!",
        "deleteGoal(authUserId: ID!, goalId: ID!): ID!",
    ] {
        assert!(sdl.contains(needle), "SDL lacks {needle:?}");
    }
}
