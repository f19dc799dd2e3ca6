//! Queries and mutations of the core service.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::TestApp;

const PROFILE_FIELDS: &str = "authUserId username displayName bio skills headline location websiteUrl avatarUrl plan email createdAt";

#[tokio::test]
async fn me_creates_a_new_user_from_the_token_and_the_auth_service() {
    let app = TestApp::spawn().await;
    Mock::given(method("GET"))
        .and(path("/users/ada"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({ "id": "ada", "username": "ada", "email": "ada@example.com" }),
            ),
        )
        .expect(1)
        .mount(&app.auth_service)
        .await;

    let query = format!(
        "{{ me {{ {PROFILE_FIELDS} badges {{ id }} goals {{ id }} preferences {{ timezone profileVisibility emailNotifications weeklyGoalTarget }} }} }}"
    );
    let me = app.graphql_as("ada", &query, json!({})).await.ok()["me"].clone();
    assert_eq!(me["authUserId"], "ada");
    assert_eq!(me["username"], "ada");
    assert_eq!(me["email"], "ada@example.com");
    assert_eq!(me["plan"], "FREE");
    assert_eq!(me["skills"], json!([]));
    assert_eq!(me["badges"], json!([]));
    assert_eq!(me["displayName"], Value::Null);
    assert_eq!(me["createdAt"], "2026-11-21T10:00:00Z");
    assert_eq!(
        me["preferences"],
        json!({ "timezone": "UTC", "profileVisibility": "PUBLIC", "emailNotifications": true, "weeklyGoalTarget": null })
    );
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM auth_users WHERE auth_user_id = 'ada' AND username = 'ada'"
        )
        .await,
        1
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM profiles WHERE auth_user_id = 'ada'")
            .await,
        1
    );

    // Known now: the auth-service is not asked again (`expect(1)`).
    let again = app
        .graphql_as("ada", "{ me { username } }", json!({}))
        .await;
    assert_eq!(again.ok()["me"]["username"], "ada");
}

#[tokio::test]
async fn user_is_null_when_unknown_and_found_when_known() {
    let app = TestApp::spawn().await;
    app.create_goal("bob", "Learn Go").await;
    let query = "query($id: ID!) { user(authUserId: $id) { authUserId email preferences { timezone } goals { title } } }";
    let response = app.graphql(query, json!({ "id": "nobody" }), None).await;
    assert_eq!(response.ok()["user"], Value::Null);
    let response = app.graphql(query, json!({ "id": "bob" }), None).await;
    let user = &response.ok()["user"];
    assert_eq!(user["authUserId"], "bob");
    assert_eq!(user["goals"], json!([{ "title": "Learn Go" }]));
    // Private fields are for the user themself.
    assert_eq!(user["email"], Value::Null);
    assert_eq!(user["preferences"], Value::Null);
    let own = app.graphql_as("bob", query, json!({ "id": "bob" })).await;
    assert_eq!(own.ok()["user"]["preferences"]["timezone"], "UTC");

    let response = app
        .graphql(query, json!({ "id": "not valid!" }), None)
        .await;
    assert_eq!(response.error_code(), Some("BAD_USER_INPUT"));
    assert_eq!(response.error_field(), Some("authUserId"));
}

#[tokio::test]
async fn users_keeps_the_order_asked_with_nulls_for_unknown_ids() {
    let app = TestApp::spawn().await;
    for id in ["u1", "u2", "u3"] {
        app.create_goal(id, "Goal").await;
    }
    let query = "query($ids: [ID!]!) { users(authUserIds: $ids) { authUserId } }";
    let response = app
        .graphql(
            query,
            json!({ "ids": ["u3", "missing", "u1", "u2", "u3"] }),
            None,
        )
        .await;
    assert_eq!(
        response.ok()["users"],
        json!([{ "authUserId": "u3" }, null, { "authUserId": "u1" }, { "authUserId": "u2" }, { "authUserId": "u3" }])
    );
    let response = app.graphql(query, json!({ "ids": [] }), None).await;
    assert_eq!(response.ok()["users"], json!([]));
}

#[tokio::test]
async fn users_accepts_100_ids_and_refuses_101() {
    let app = TestApp::spawn().await;
    let query = "query($ids: [ID!]!) { users(authUserIds: $ids) { authUserId } }";
    let hundred: Vec<String> = (0..100).map(|n| format!("id{n}")).collect();
    let response = app.graphql(query, json!({ "ids": hundred }), None).await;
    assert_eq!(response.ok()["users"].as_array().unwrap().len(), 100);
    let hundred_and_one: Vec<String> = (0..101).map(|n| format!("id{n}")).collect();
    let response = app
        .graphql(query, json!({ "ids": hundred_and_one }), None)
        .await;
    assert_eq!(response.error_code(), Some("BAD_USER_INPUT"));
    assert_eq!(response.error_field(), Some("authUserIds"));
    let response = app
        .graphql(query, json!({ "ids": ["ok", "not ok"] }), None)
        .await;
    assert_eq!(response.error_code(), Some("BAD_USER_INPUT"));
}

const UPDATE_PROFILE: &str = "mutation($id: ID!, $input: UpdateProfileInput!) { updateProfile(authUserId: $id, input: $input) { displayName bio skills headline location websiteUrl avatarUrl } }";

#[tokio::test]
async fn update_profile_leaves_absent_fields_and_clears_explicit_nulls() {
    let app = TestApp::spawn().await;
    let full = json!({
        "displayName": "  Ada Lovelace ", "bio": "Mathematician", "skills": ["Rust", "rust", " SQL "],
        "headline": "First programmer", "location": "London",
        "websiteUrl": "https://ada.example.com", "avatarUrl": "http://img.example.com/a.png"
    });
    let response = app
        .graphql_as("ada", UPDATE_PROFILE, json!({ "id": "ada", "input": full }))
        .await;
    assert_eq!(
        response.ok()["updateProfile"],
        json!({
            "displayName": "Ada Lovelace", "bio": "Mathematician", "skills": ["Rust", "SQL"],
            "headline": "First programmer", "location": "London",
            "websiteUrl": "https://ada.example.com", "avatarUrl": "http://img.example.com/a.png"
        })
    );

    // Only bio is given (null): the rest stays.
    let response = app
        .graphql_as(
            "ada",
            UPDATE_PROFILE,
            json!({ "id": "ada", "input": { "bio": null, "skills": null } }),
        )
        .await;
    let profile = &response.ok()["updateProfile"];
    assert_eq!(profile["bio"], Value::Null);
    assert_eq!(profile["skills"], json!([]));
    assert_eq!(profile["displayName"], "Ada Lovelace");
    assert_eq!(profile["websiteUrl"], "https://ada.example.com");

    // A variable the request does not provide is absent, not null.
    let with_variable = "mutation($id: ID!, $headline: String) { updateProfile(authUserId: $id, input: { headline: $headline }) { headline location } }";
    let response = app
        .graphql_as("ada", with_variable, json!({ "id": "ada" }))
        .await;
    assert_eq!(
        response.ok()["updateProfile"],
        json!({ "headline": "First programmer", "location": "London" })
    );
    let response = app
        .graphql_as(
            "ada",
            with_variable,
            json!({ "id": "ada", "headline": null }),
        )
        .await;
    assert_eq!(response.ok()["updateProfile"]["headline"], Value::Null);
    // The same text again (the parsed-document cache answers it now): the
    // absent variable was taken out of that request's copy, not the cache's.
    let response = app
        .graphql_as(
            "ada",
            with_variable,
            json!({ "id": "ada", "headline": "Analyst" }),
        )
        .await;
    assert_eq!(response.ok()["updateProfile"]["headline"], "Analyst");

    assert_eq!(
        app.count("SELECT count(*) AS n FROM activity_events WHERE kind = 'PROFILE_UPDATED'")
            .await,
        4,
        "one event per update that changed something"
    );
}

#[tokio::test]
async fn badges_are_created_and_listed_newest_first() {
    let app = TestApp::spawn().await;
    let create = "mutation($id: ID!, $input: CreateBadgeInput!) { createBadge(authUserId: $id, input: $input) { id name description iconUrl dateAchieved } }";
    let old = json!({ "name": " Early bird ", "description": "Joined early", "iconUrl": "https://icons.example.com/bird.svg", "dateAchieved": "2025-01-02T03:04:05Z" });
    let response = app
        .graphql_as("cy", create, json!({ "id": "cy", "input": old }))
        .await;
    let badge = response.ok()["createBadge"].clone();
    assert_eq!(badge["name"], "Early bird");
    assert_eq!(badge["description"], "Joined early");
    assert_eq!(badge["dateAchieved"], "2025-01-02T03:04:05Z");
    let response = app
        .graphql_as(
            "cy",
            create,
            json!({ "id": "cy", "input": { "name": "Fresh" } }),
        )
        .await;
    assert_eq!(
        response.ok()["createBadge"]["dateAchieved"],
        "2026-11-21T10:00:00Z"
    );

    let response = app
        .graphql(
            "{ user(authUserId: \"cy\") { badges { name } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        response.ok()["user"]["badges"],
        json!([{ "name": "Fresh" }, { "name": "Early bird" }])
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM activity_events WHERE kind = 'BADGE_EARNED'")
            .await,
        2
    );
}

const UPDATE_GOAL: &str = "mutation($id: ID!, $goal: ID!, $input: UpdateGoalInput!) { updateGoal(authUserId: $id, goalId: $goal, input: $input) { id title description status streakCount } }";

#[tokio::test]
async fn goals_are_created_updated_filtered_and_deleted() {
    let app = TestApp::spawn().await;
    let create = "mutation($id: ID!, $input: CreateGoalInput!) { createGoal(authUserId: $id, input: $input) { id title description status streakCount lastCheckInOn createdAt updatedAt } }";
    let response = app
        .graphql_as("dee", create, json!({ "id": "dee", "input": { "title": "Read SICP", "description": "All of it", "status": "NOT_STARTED" } }))
        .await;
    let goal = response.ok()["createGoal"].clone();
    assert_eq!(goal["title"], "Read SICP");
    assert_eq!(goal["status"], "NOT_STARTED");
    assert_eq!(goal["streakCount"], 0);
    assert_eq!(goal["lastCheckInOn"], Value::Null);
    let first = goal["id"].as_str().unwrap().to_owned();
    let second = app.create_goal("dee", "Learn Haskell").await;

    let goals = "query($status: GoalStatus) { user(authUserId: \"dee\") { goals(status: $status) { title status } } }";
    let response = app.graphql(goals, json!({}), None).await;
    assert_eq!(
        response.ok()["user"]["goals"],
        json!([{ "title": "Learn Haskell", "status": "IN_PROGRESS" }, { "title": "Read SICP", "status": "NOT_STARTED" }]),
        "newest first, default status IN_PROGRESS"
    );
    let response = app
        .graphql(goals, json!({ "status": "NOT_STARTED" }), None)
        .await;
    assert_eq!(
        response.ok()["user"]["goals"],
        json!([{ "title": "Read SICP", "status": "NOT_STARTED" }])
    );

    let response = app
        .graphql_as("dee", UPDATE_GOAL, json!({ "id": "dee", "goal": first, "input": { "title": "Read SICP twice", "description": null, "streakCount": 3 } }))
        .await;
    assert_eq!(
        response.ok()["updateGoal"],
        json!({ "id": first, "title": "Read SICP twice", "description": null, "status": "NOT_STARTED", "streakCount": 3 })
    );
    let response = app
        .graphql_as(
            "dee",
            UPDATE_GOAL,
            json!({ "id": "dee", "goal": first, "input": { "status": "COMPLETED" } }),
        )
        .await;
    assert_eq!(response.ok()["updateGoal"]["status"], "COMPLETED");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM activity_events WHERE kind = 'GOAL_UPDATED'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM activity_events WHERE kind = 'GOAL_COMPLETED'")
            .await,
        1
    );

    let delete = "mutation($id: ID!, $goal: ID!) { deleteGoal(authUserId: $id, goalId: $goal) }";
    let response = app
        .graphql_as("dee", delete, json!({ "id": "dee", "goal": second }))
        .await;
    assert_eq!(response.ok()["deleteGoal"], second.as_str());
    let response = app
        .graphql_as("dee", delete, json!({ "id": "dee", "goal": second }))
        .await;
    assert_eq!(response.error_code(), Some("NOT_FOUND"), "already deleted");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM learning_goals").await,
        1
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM activity_events WHERE kind = 'GOAL_DELETED'")
            .await,
        1
    );
}

#[tokio::test]
async fn another_users_goal_is_not_found_and_untouched() {
    let app = TestApp::spawn().await;
    let goal = app.create_goal("owner", "Private plans").await;
    app.create_goal("other", "Mine").await;
    let response = app
        .graphql_as(
            "other",
            UPDATE_GOAL,
            json!({ "id": "other", "goal": goal, "input": { "title": "Hijacked" } }),
        )
        .await;
    assert_eq!(response.error_code(), Some("NOT_FOUND"));
    let delete = "mutation($id: ID!, $goal: ID!) { deleteGoal(authUserId: $id, goalId: $goal) }";
    let response = app
        .graphql_as("other", delete, json!({ "id": "other", "goal": goal }))
        .await;
    assert_eq!(response.error_code(), Some("NOT_FOUND"));
    let response = app
        .graphql_as(
            "other",
            delete,
            json!({ "id": "other", "goal": "not-a-uuid" }),
        )
        .await;
    assert_eq!(response.error_code(), Some("NOT_FOUND"));
    assert_eq!(
        app.count("SELECT count(*) AS n FROM learning_goals WHERE title = 'Private plans' AND auth_user_id = 'owner'").await,
        1
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM activity_events WHERE auth_user_id = 'other'")
            .await,
        1
    );
}

#[tokio::test]
async fn a_mutation_by_a_new_user_creates_the_reference_row_with_auth_service_details() {
    let app = TestApp::spawn().await;
    Mock::given(method("GET"))
        .and(path("/users/42"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({ "id": "42", "username": "ada", "email": "ada@example.com" }),
            ),
        )
        .mount(&app.auth_service)
        .await;
    app.create_goal("42", "First").await;
    assert_eq!(
        app.count("SELECT count(*) AS n FROM auth_users WHERE auth_user_id = '42' AND username = 'ada' AND email = 'ada@example.com'").await,
        1
    );
}

#[tokio::test]
async fn an_unreachable_database_is_service_unavailable_without_details() {
    let app = TestApp::spawn_with(|config| {
        config.database.database_url = "postgres://postgres:hunter2@127.0.0.1:1/nowhere"
            .to_owned()
            .into();
        config.database.database_pool_timeout = std::time::Duration::from_secs(1);
    })
    .await;
    let response = app
        .graphql(
            "{ user(authUserId: \"x\") { authUserId } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        response.error_code(),
        Some("SERVICE_UNAVAILABLE"),
        "{:?}",
        response.body
    );
    let text = response.body.to_string();
    assert!(
        !text.contains("hunter2") && !text.contains("127.0.0.1:1"),
        "{text}"
    );
    let response = app
        .graphql_as(
            "x",
            "mutation { createGoal(authUserId: \"x\", input: { title: \"t\" }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(response.error_code(), Some("SERVICE_UNAVAILABLE"));
}

#[tokio::test]
async fn a_deleted_users_token_does_not_bring_them_back() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn().await;
    use diesel_async::RunQueryDsl;
    diesel::sql_query(
        "INSERT INTO auth_user_tombstones (auth_user_id, deleted_at) VALUES ('gone', now())",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let response = app
        .graphql_as("gone", "{ me { authUserId } }", json!({}))
        .await;
    assert_eq!(response.error_code(), Some("UNAUTHENTICATED"));
    let response = app
        .graphql_as(
            "gone",
            "mutation { createGoal(authUserId: \"gone\", input: { title: \"Back\" }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(response.error_code(), Some("UNAUTHENTICATED"));
    assert_eq!(app.count("SELECT count(*) AS n FROM auth_users").await, 0);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM learning_goals").await,
        0
    );
}
