//! PRIVATE profiles show only the public card to others, wherever a User
//! is reached; email and preferences are for the user themself or an admin.

use serde_json::{Value, json};

use crate::helpers::TestApp;

const FIELDS: &str = "authUserId username displayName avatarUrl plan createdAt bio headline location websiteUrl skills email badges { id } goals { id } activity { id } preferences { timezone } stats { badgeCount goalCount goalsCompleted goalsInProgress longestStreak lastActiveAt }";

async fn private_user(app: &TestApp) {
    app.graphql_as(
        "priv",
        "mutation { updateProfile(authUserId: \"priv\", input: { displayName: \"Private Person\", bio: \"secret bio\", headline: \"h\", location: \"l\", websiteUrl: \"https://p.example.com\", avatarUrl: \"https://p.example.com/a.png\", skills: [\"stealth\"] }) { bio } }",
        json!({}),
    )
    .await
    .ok();
    app.create_badge("priv", "Hidden badge").await;
    app.create_goal("priv", "Hidden goal").await;
    app.graphql_as(
        "priv",
        "mutation { updatePreferences(authUserId: \"priv\", input: { profileVisibility: PRIVATE }) { profileVisibility } }",
        json!({}),
    )
    .await
    .ok();
}

fn assert_public_card_only(user: &Value) {
    assert_eq!(user["authUserId"], "priv");
    assert_eq!(user["displayName"], "Private Person");
    assert_eq!(user["avatarUrl"], "https://p.example.com/a.png");
    assert_eq!(user["plan"], "FREE");
    assert!(user["createdAt"].is_string());
    for hidden in [
        "bio",
        "headline",
        "location",
        "websiteUrl",
        "email",
        "preferences",
    ] {
        assert_eq!(user[hidden], Value::Null, "{hidden} leaks: {user}");
    }
    for empty in ["skills", "badges", "goals", "activity"] {
        assert_eq!(user[empty], json!([]), "{empty} leaks: {user}");
    }
    assert_eq!(
        user["stats"],
        json!({ "badgeCount": 0, "goalCount": 0, "goalsCompleted": 0, "goalsInProgress": 0, "longestStreak": 0, "lastActiveAt": null })
    );
}

#[tokio::test]
async fn others_see_only_the_public_card_through_user_users_and_entities() {
    let app = TestApp::spawn().await;
    private_user(&app).await;

    for token in [None, Some(app.token("stranger"))] {
        let query = format!(
            "{{ user(authUserId: \"priv\") {{ {FIELDS} }} users(authUserIds: [\"priv\"]) {{ {FIELDS} }} }}"
        );
        let response = app.graphql(&query, json!({}), token.as_deref()).await;
        let data = response.ok();
        assert_public_card_only(&data["user"]);
        assert_public_card_only(&data["users"][0]);

        let entities = format!(
            "query($r: [_Any!]!) {{ _entities(representations: $r) {{ ... on User {{ {FIELDS} }} }} }}"
        );
        let response = app
            .graphql(
                &entities,
                json!({ "r": [{ "__typename": "User", "authUserId": "priv" }] }),
                token.as_deref(),
            )
            .await;
        assert_public_card_only(&response.ok()["_entities"][0]);
    }
}

#[tokio::test]
async fn the_user_and_admins_see_everything() {
    let app = TestApp::spawn().await;
    private_user(&app).await;
    let query = format!("{{ user(authUserId: \"priv\") {{ {FIELDS} }} }}");
    for token in [app.token("priv"), app.admin_token()] {
        let response = app.graphql(&query, json!({}), Some(&token)).await;
        let user = &response.ok()["user"];
        assert_eq!(user["bio"], "secret bio");
        assert_eq!(user["skills"], json!(["stealth"]));
        assert_eq!(user["badges"].as_array().unwrap().len(), 1);
        assert_eq!(user["goals"].as_array().unwrap().len(), 1);
        assert_eq!(user["preferences"]["timezone"], "UTC");
        assert_eq!(user["stats"]["goalCount"], 1);
        assert!(!user["activity"].as_array().unwrap().is_empty());
    }
}

#[tokio::test]
async fn public_profiles_hide_only_email_and_preferences_from_others() {
    let app = TestApp::spawn().await;
    app.create_goal("pub", "Open goal").await;
    let query = format!("{{ user(authUserId: \"pub\") {{ {FIELDS} }} }}");
    let response = app
        .graphql(&query, json!({}), Some(&app.token("stranger")))
        .await;
    let user = &response.ok()["user"];
    assert_eq!(user["goals"].as_array().unwrap().len(), 1);
    assert_eq!(user["stats"]["goalCount"], 1);
    assert_eq!(user["email"], Value::Null);
    assert_eq!(user["preferences"], Value::Null);
}
