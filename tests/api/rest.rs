//! The legacy REST layer: FastAPI's paths, snake_case shapes, status codes
//! and `{"detail": ...}` errors, over the same rules as GraphQL.

use axum::body::Body;
use http::{Request, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestResponse};

/// Sends a REST request, with a JSON body when `body` is not null.
async fn rest(
    app: &TestApp,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Value,
) -> TestResponse {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let body = if body.is_null() {
        Body::empty()
    } else {
        request = request.header("content-type", "application/json");
        Body::from(body.to_string())
    };
    app.request(request.body(body).unwrap()).await
}

async fn raw(
    app: &TestApp,
    method: &str,
    uri: &str,
    token: &str,
    body: &'static str,
) -> TestResponse {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    app.request(request).await
}

async fn raw_anonymous(app: &TestApp, method: &str, uri: &str, body: &'static str) -> TestResponse {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    app.request(request).await
}

/// The first 422 issue's `loc` and `type`.
fn issue(response: &TestResponse) -> (Value, Value) {
    assert_eq!(
        response.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        response.body
    );
    let issue = &response.body["detail"][0];
    assert!(issue["msg"].is_string(), "{}", response.body);
    (issue["loc"].clone(), issue["type"].clone())
}

async fn activity_count(app: &TestApp) -> i64 {
    app.count("SELECT count(*) AS n FROM activity_events").await
}

#[tokio::test]
async fn a_rest_profile_write_is_visible_through_graphql() {
    let app = TestApp::spawn().await;
    let token = app.token("42");
    let response = rest(
        &app,
        "PUT",
        "/users/42",
        Some(&token),
        json!({ "display_name": "  Ada  ", "skills": ["Rust", "rust", "SQL"], "website_url": "https://ada.example.com", "bio": null }),
    )
    .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let user = &response.body;
    assert_eq!(user["auth_user_id"], "42");
    assert_eq!(user["display_name"], "Ada", "trimmed as GraphQL trims");
    assert_eq!(user["skills"], json!(["Rust", "SQL"]), "duplicates dropped");
    assert_eq!(user["website_url"], "https://ada.example.com");
    assert_eq!(user["plan"], "free");
    assert_eq!(user["preferences"]["profile_visibility"], "public");
    assert_eq!(user["stats"]["badge_count"], 0);
    assert!(user.get("displayName").is_none(), "snake_case only: {user}");

    let graphql = app
        .graphql(
            "{ user(authUserId: \"42\") { displayName skills websiteUrl activity { kind } } }",
            json!({}),
            None,
        )
        .await;
    let seen = &graphql.ok()["user"];
    assert_eq!(seen["displayName"], "Ada");
    assert_eq!(seen["skills"], json!(["Rust", "SQL"]));
    assert_eq!(
        seen["activity"],
        json!([{ "kind": "PROFILE_UPDATED" }]),
        "the same activity event as the mutation records"
    );

    // Absent fields stay, null clears.
    let response = rest(
        &app,
        "PUT",
        "/users/42",
        Some(&token),
        json!({ "website_url": null }),
    )
    .await;
    assert_eq!(response.body["website_url"], Value::Null);
    assert_eq!(response.body["display_name"], "Ada");
}

#[tokio::test]
async fn graphql_writes_are_visible_through_rest() {
    let app = TestApp::spawn().await;
    let goal = app.create_goal("7", "Learn Rust").await;
    let badge = app.create_badge("7", "First steps").await;

    let goals = rest(&app, "GET", "/users/7/goals", None, Value::Null).await;
    assert_eq!(goals.status, StatusCode::OK);
    assert_eq!(goals.body[0]["id"], goal.as_str());
    assert_eq!(goals.body[0]["title"], "Learn Rust");
    assert_eq!(goals.body[0]["status"], "in-progress");
    assert_eq!(goals.body[0]["streak_count"], 0);
    assert_eq!(goals.body[0]["last_check_in_on"], Value::Null);

    let badges = rest(&app, "GET", "/users/7/badges", None, Value::Null).await;
    assert_eq!(badges.body[0]["id"], badge.as_str());
    assert_eq!(badges.body[0]["date_achieved"], "2026-11-21T10:00:00Z");
    assert_eq!(badges.body[0]["icon_url"], Value::Null);

    let completed = rest(
        &app,
        "GET",
        "/users/7/goals?status=completed",
        None,
        Value::Null,
    )
    .await;
    assert_eq!(completed.body, json!([]));

    let user = rest(&app, "GET", "/users/7", None, Value::Null).await;
    assert_eq!(user.status, StatusCode::OK);
    assert_eq!(user.body["stats"]["goal_count"], 1);
    assert_eq!(user.body["stats"]["goals_in_progress"], 1);
    assert_eq!(user.body["email"], Value::Null, "email is the owner's only");
    assert_eq!(user.body["preferences"], Value::Null);
}

#[tokio::test]
async fn goals_and_badges_are_created_changed_and_deleted_over_rest() {
    let app = TestApp::spawn().await;
    let token = app.token("9");
    let created = rest(
        &app,
        "POST",
        "/users/9/goals",
        Some(&token),
        json!({ "title": "Read the book", "status": "not-started" }),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["status"], "not-started");
    let id = created.body["id"].as_str().unwrap().to_owned();

    let updated = rest(
        &app,
        "PUT",
        &format!("/users/9/goals/{id}"),
        Some(&token),
        json!({ "status": "completed", "streak_count": 4 }),
    )
    .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["status"], "completed");
    assert_eq!(updated.body["streak_count"], 4);

    let badge = rest(
        &app,
        "POST",
        "/users/9/badges",
        Some(&token),
        json!({ "name": "Finisher", "icon_url": "https://cdn.example.com/f.svg", "date_achieved": "2026-11-20T08:00:00+02:00" }),
    )
    .await;
    assert_eq!(badge.status, StatusCode::CREATED, "{}", badge.body);
    assert_eq!(badge.body["date_achieved"], "2026-11-20T06:00:00Z");

    let deleted = rest(
        &app,
        "DELETE",
        &format!("/users/9/goals/{id}"),
        Some(&token),
        Value::Null,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(deleted.body, Value::Null);

    let kinds = app
        .graphql(
            "{ user(authUserId: \"9\") { activity { kind } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        kinds.ok()["user"]["activity"],
        json!([{ "kind": "GOAL_DELETED" }, { "kind": "BADGE_EARNED" }, { "kind": "GOAL_COMPLETED" }, { "kind": "GOAL_CREATED" }])
    );

    let again = rest(
        &app,
        "DELETE",
        &format!("/users/9/goals/{id}"),
        Some(&token),
        Value::Null,
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.body, json!({ "detail": "Goal not found" }));
    let malformed = rest(
        &app,
        "PUT",
        "/users/9/goals/not-a-uuid",
        Some(&token),
        json!({ "title": "x" }),
    )
    .await;
    assert_eq!(malformed.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn refusals_have_fastapi_status_codes_and_write_nothing() {
    let app = TestApp::spawn().await;
    let goal = app.create_goal("owner", "Mine").await;
    let before = activity_count(&app).await;
    let stranger = app.token("stranger");

    let anonymous = rest(&app, "PUT", "/users/owner", None, json!({ "bio": "x" })).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.body, json!({ "detail": "Not authenticated" }));
    assert_eq!(anonymous.headers["www-authenticate"], "Bearer");

    let garbage = rest(&app, "GET", "/users/owner", Some("not.a.jwt"), Value::Null).await;
    assert_eq!(garbage.status, StatusCode::UNAUTHORIZED, "never anonymous");
    assert!(garbage.body["detail"].is_string());

    let forbidden = rest(
        &app,
        "PUT",
        "/users/owner",
        Some(&stranger),
        json!({ "bio": "pwned" }),
    )
    .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    assert!(forbidden.body["detail"].is_string());
    let delete = rest(
        &app,
        "DELETE",
        &format!("/users/owner/goals/{goal}"),
        Some(&stranger),
        Value::Null,
    )
    .await;
    assert_eq!(delete.status, StatusCode::FORBIDDEN);
    // The stranger's own id with the owner's goal: not found, not leaked.
    let foreign = rest(
        &app,
        "DELETE",
        &format!("/users/stranger/goals/{goal}"),
        Some(&stranger),
        Value::Null,
    )
    .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);

    let unknown = rest(&app, "GET", "/users/nobody", None, Value::Null).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.body, json!({ "detail": "User not found" }));
    let unknown_list = rest(&app, "GET", "/users/nobody/goals", None, Value::Null).await;
    assert_eq!(unknown_list.status, StatusCode::NOT_FOUND);

    assert_eq!(activity_count(&app).await, before, "nothing was written");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM learning_goals").await,
        1
    );
}

#[tokio::test]
async fn invalid_input_is_422_with_the_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let token = app.token("v");
    let put = |body: Value| {
        let token = token.clone();
        let app = &app;
        async move { rest(app, "PUT", "/users/v", Some(&token), body).await }
    };

    // The GraphQL layer's rules, named in FastAPI's `loc`.
    let (loc, kind) = issue(&put(json!({ "bio": "x".repeat(2001) })).await);
    assert_eq!((loc, kind), (json!(["body", "bio"]), json!("value_error")));
    let (loc, _) = issue(&put(json!({ "website_url": "javascript:alert(1)" })).await);
    assert_eq!(loc, json!(["body", "website_url"]));
    let skills: Vec<String> = (0..51).map(|i| format!("skill {i}")).collect();
    let (loc, _) = issue(&put(json!({ "skills": skills })).await);
    assert_eq!(loc, json!(["body", "skills"]));

    // JSON types, checked before anything runs.
    let (loc, kind) = issue(&put(json!({ "bio": 5 })).await);
    assert_eq!((loc, kind), (json!(["body", "bio"]), json!("type_error")));
    let (loc, _) = issue(&put(json!({ "skills": ["ok", 3] })).await);
    assert_eq!(loc, json!(["body", "skills", 1]));
    let (loc, _) = issue(&put(json!(["not", "an", "object"])).await);
    assert_eq!(loc, json!(["body"]));
    let (_, kind) = issue(&raw(&app, "PUT", "/users/v", &token, "{\"bio\": ").await);
    assert_eq!(kind, "json_invalid");
    let (_, kind) = issue(&raw(&app, "PUT", "/users/v", &token, "{} trailing").await);
    assert_eq!(kind, "json_invalid");
    let (loc, kind) = issue(&raw(&app, "POST", "/users/v/goals", &token, "").await);
    assert_eq!((loc, kind), (json!(["body"]), json!("missing")));
    let (loc, kind) = issue(&raw(&app, "POST", "/users/v/goals", &token, "{}").await);
    assert_eq!((loc, kind), (json!(["body", "title"]), json!("missing")));
    let (loc, _) = issue(
        &rest(
            &app,
            "POST",
            "/users/v/goals",
            Some(&token),
            json!({ "title": "t", "status": "paused" }),
        )
        .await,
    );
    assert_eq!(loc, json!(["body", "status"]));
    let (loc, _) = issue(
        &rest(
            &app,
            "POST",
            "/users/v/goals",
            Some(&token),
            json!({ "title": "   " }),
        )
        .await,
    );
    assert_eq!(loc, json!(["body", "title"]));
    let (loc, _) = issue(
        &rest(
            &app,
            "POST",
            "/users/v/badges",
            Some(&token),
            json!({ "name": "n", "date_achieved": "2099-01-01T00:00:00Z" }),
        )
        .await,
    );
    assert_eq!(loc, json!(["body", "date_achieved"]));
    let (loc, _) = issue(
        &rest(
            &app,
            "POST",
            "/users/v/badges",
            Some(&token),
            json!({ "name": "n", "date_achieved": "yesterday" }),
        )
        .await,
    );
    assert_eq!(loc, json!(["body", "date_achieved"]));
    let (loc, _) = issue(
        &rest(
            &app,
            "GET",
            "/users/v/goals?status=IN-PROGRESS-ish",
            None,
            Value::Null,
        )
        .await,
    );
    assert_eq!(loc, json!(["query", "status"]));
    let (loc, _) = issue(&rest(&app, "GET", "/users/bad%21id", None, Value::Null).await);
    assert_eq!(loc, json!(["path", "user_id"]));
    let long_id = "a".repeat(65);
    let (loc, _) = issue(&rest(&app, "GET", &format!("/users/{long_id}"), None, Value::Null).await);
    assert_eq!(loc, json!(["path", "user_id"]));

    assert_eq!(activity_count(&app).await, 0, "nothing was written");
    assert_eq!(app.count("SELECT count(*) AS n FROM profiles").await, 0);

    // Numbers: integral floats are integers (as in JSON Schema), others not.
    let goal = app.create_goal("v", "Numbers").await;
    let uri = format!("/users/v/goals/{goal}");
    let ok = rest(
        &app,
        "PUT",
        &uri,
        Some(&token),
        json!({ "streak_count": 2.0 }),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.body["streak_count"], 2);
    for bad in [json!(2.5), json!(1e10), json!(-1), json!("2")] {
        let (loc, _) = issue(
            &rest(
                &app,
                "PUT",
                &uri,
                Some(&token),
                json!({ "streak_count": bad }),
            )
            .await,
        );
        assert_eq!(loc, json!(["body", "streak_count"]), "{bad}");
    }
    let (loc, _) = issue(&rest(&app, "PUT", &uri, Some(&token), json!({ "title": null })).await);
    assert_eq!(loc, json!(["body", "title"]), "title cannot be null");
    // Authentication comes before the body, as FastAPI's security dependency.
    let anonymous = raw_anonymous(&app, "POST", "/users/v/goals", "{not json").await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let before_limit = activity_count(&app).await;

    // Over the body limit: 413, before parsing.
    let huge = json!({ "bio": "x".repeat(2 * 1024 * 1024) });
    let too_large = put(huge).await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(too_large.body["detail"].is_string());

    assert_eq!(
        activity_count(&app).await,
        before_limit,
        "nothing was written by a refused request"
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM profiles WHERE bio IS NOT NULL")
            .await,
        0
    );
}

#[tokio::test]
async fn private_profiles_show_others_the_public_card_only() {
    let app = TestApp::spawn().await;
    let token = app.token("p");
    rest(
        &app,
        "PUT",
        "/users/p",
        Some(&token),
        json!({ "display_name": "Private", "bio": "secret" }),
    )
    .await;
    app.create_goal("p", "Hidden goal").await;
    let preferences = rest(
        &app,
        "PUT",
        "/api/v1/users/me/preferences",
        Some(&token),
        json!({ "profile_visibility": "private", "timezone": "Europe/Paris" }),
    )
    .await;
    assert_eq!(preferences.status, StatusCode::OK, "{}", preferences.body);
    assert_eq!(
        preferences.body,
        json!({ "profile_visibility": "private", "email_notifications": true, "timezone": "Europe/Paris", "weekly_goal_target": null })
    );

    for token in [None, Some(app.token("other"))] {
        let seen = rest(&app, "GET", "/users/p", token.as_deref(), Value::Null).await;
        assert_eq!(seen.status, StatusCode::OK);
        assert_eq!(seen.body["display_name"], "Private");
        assert_eq!(seen.body["bio"], Value::Null, "{}", seen.body);
        assert_eq!(seen.body["goals"], json!([]));
        assert_eq!(seen.body["stats"]["goal_count"], 0);
        let goals = rest(&app, "GET", "/users/p/goals", token.as_deref(), Value::Null).await;
        assert_eq!(goals.body, json!([]));
    }
    let own = rest(&app, "GET", "/users/p", Some(&token), Value::Null).await;
    assert_eq!(own.body["bio"], "secret");
    assert_eq!(own.body["goals"][0]["title"], "Hidden goal");
    let admin = rest(
        &app,
        "GET",
        "/users/p",
        Some(&app.admin_token()),
        Value::Null,
    )
    .await;
    assert_eq!(admin.body["bio"], "secret");
}

#[tokio::test]
async fn the_api_v1_me_endpoints_work_on_the_callers_own_user() {
    let app = TestApp::spawn().await;
    for uri in [
        "/api/v1/users/me",
        "/api/v1/users/me/profile",
        "/api/v1/users/me/preferences",
        "/api/v1/users/me/stats",
        "/users/me",
    ] {
        let anonymous = rest(&app, "GET", uri, None, Value::Null).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{uri}");
        assert_eq!(anonymous.body, json!({ "detail": "Not authenticated" }));
    }
    let token = app.token("me1");
    let me = rest(&app, "GET", "/api/v1/users/me", Some(&token), Value::Null).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["auth_user_id"], "me1");
    assert_eq!(me.body["preferences"]["timezone"], "UTC");

    let profile = rest(
        &app,
        "PUT",
        "/api/v1/users/me/profile",
        Some(&token),
        json!({ "headline": "Learner" }),
    )
    .await;
    assert_eq!(profile.status, StatusCode::OK);
    assert_eq!(profile.body["headline"], "Learner");
    assert!(
        profile.body.get("goals").is_none(),
        "a profile has no lists"
    );
    let read = rest(
        &app,
        "GET",
        "/api/v1/users/me/profile",
        Some(&token),
        Value::Null,
    )
    .await;
    assert_eq!(read.body["headline"], "Learner");

    let (loc, _) = issue(
        &rest(
            &app,
            "PUT",
            "/api/v1/users/me/preferences",
            Some(&token),
            json!({ "timezone": "Mars/Olympus" }),
        )
        .await,
    );
    assert_eq!(loc, json!(["body", "timezone"]));
    let (loc, _) = issue(
        &rest(
            &app,
            "PUT",
            "/api/v1/users/me/preferences",
            Some(&token),
            json!({ "weekly_goal_target": 51 }),
        )
        .await,
    );
    assert_eq!(loc, json!(["body", "weekly_goal_target"]));

    app.create_goal("me1", "One").await;
    let stats = rest(
        &app,
        "GET",
        "/api/v1/users/me/stats",
        Some(&token),
        Value::Null,
    )
    .await;
    assert_eq!(stats.body["goal_count"], 1);
    assert_eq!(stats.body["goals_in_progress"], 1);

    // PREMIUM is billing's (an admin's) to grant, as in GraphQL.
    let upgrade = rest(
        &app,
        "POST",
        "/api/v1/users/me/upgrade",
        Some(&token),
        Value::Null,
    )
    .await;
    assert_eq!(upgrade.status, StatusCode::FORBIDDEN);
    let plan = app
        .graphql("{ user(authUserId: \"me1\") { plan } }", json!({}), None)
        .await;
    assert_eq!(plan.ok()["user"]["plan"], "FREE");
    let admin = app.admin_token();
    let upgraded = rest(
        &app,
        "POST",
        "/api/v1/users/me/upgrade",
        Some(&admin),
        Value::Null,
    )
    .await;
    assert_eq!(upgraded.status, StatusCode::OK);
    assert_eq!(upgraded.body["plan"], "premium");
    let downgraded = rest(
        &app,
        "POST",
        "/api/v1/users/me/downgrade",
        Some(&admin),
        Value::Null,
    )
    .await;
    assert_eq!(downgraded.body["plan"], "free");
}

#[tokio::test]
async fn search_is_for_premium_users_and_pages_with_cursors() {
    let app = TestApp::spawn().await;
    for id in ["s1", "s2", "s3"] {
        rest(
            &app,
            "PUT",
            &format!("/users/{id}"),
            Some(&app.token(id)),
            json!({ "display_name": format!("Rustacean {id}") }),
        )
        .await;
    }
    let free = app.token("s1");
    let anonymous = rest(
        &app,
        "GET",
        "/api/v1/users/search?q=rust",
        None,
        Value::Null,
    )
    .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let refused = rest(
        &app,
        "GET",
        "/api/v1/users/search?q=rust",
        Some(&free),
        Value::Null,
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let admin = app.admin_token();
    let first = rest(
        &app,
        "GET",
        "/api/v1/users/search?q=RUST&limit=2",
        Some(&admin),
        Value::Null,
    )
    .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(first.body["items"][0]["auth_user_id"], "s1");
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    let second = rest(
        &app,
        "GET",
        &format!("/api/v1/users/search?q=RUST&limit=2&cursor={cursor}"),
        Some(&admin),
        Value::Null,
    )
    .await;
    assert_eq!(second.body["items"][0]["auth_user_id"], "s3");
    assert_eq!(second.body["next_cursor"], Value::Null);

    for (uri, loc) in [
        (
            "/api/v1/users/search?q=rust&limit=51",
            json!(["query", "limit"]),
        ),
        (
            "/api/v1/users/search?q=rust&limit=ten",
            json!(["query", "limit"]),
        ),
        ("/api/v1/users/search?limit=5", json!(["query", "q"])),
        ("/api/v1/users/search?q=%20", json!(["query", "q"])),
        (
            "/api/v1/users/search?q=rust&cursor=forged",
            json!(["query", "cursor"]),
        ),
    ] {
        let (got, _) = issue(&rest(&app, "GET", uri, Some(&admin), Value::Null).await);
        assert_eq!(got, loc, "{uri}");
    }
}

#[tokio::test]
async fn every_rest_response_is_marked_deprecated() {
    let app = TestApp::spawn().await;
    for response in [
        rest(&app, "GET", "/users/me", Some(&app.token("d")), Value::Null).await,
        rest(&app, "GET", "/users/nobody", None, Value::Null).await,
        rest(&app, "PUT", "/users/d", None, json!({})).await,
    ] {
        assert_eq!(response.headers["deprecation"], "@1796083200");
        assert_eq!(response.headers["sunset"], "Wed, 30 Jun 2027 00:00:00 GMT");
        assert!(
            response.headers["link"]
                .to_str()
                .unwrap()
                .contains("</graphql>; rel=\"successor-version\"")
        );
    }
    let graphql = app
        .graphql("{ user(authUserId: \"x\") { plan } }", json!({}), None)
        .await;
    assert!(graphql.headers.get("deprecation").is_none());
}

#[tokio::test]
async fn the_rest_layer_shares_the_rate_limit_per_address() {
    let app = TestApp::spawn_with(|config| config.http.rate_limit_per_ip = 2).await;
    for _ in 0..2 {
        let ok = rest(&app, "GET", "/users/nobody", None, Value::Null).await;
        assert_eq!(ok.status, StatusCode::NOT_FOUND);
    }
    let limited = rest(&app, "GET", "/users/nobody", None, Value::Null).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers.contains_key("retry-after"));
    assert!(limited.body["detail"].is_string());
}

#[tokio::test]
async fn the_rest_layer_and_its_docs_can_be_switched_off() {
    let app = TestApp::spawn_with(|config| config.legacy.legacy_rest_enabled = false).await;
    for uri in ["/users/me", "/api/v1/users/me", "/openapi.json", "/docs"] {
        let response = rest(&app, "GET", uri, Some(&app.token("x")), Value::Null).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{uri}");
    }
    let graphql = app
        .graphql("{ user(authUserId: \"x\") { plan } }", json!({}), None)
        .await;
    assert_eq!(graphql.status, StatusCode::OK);
}

#[tokio::test]
async fn openapi_and_docs_are_served_without_a_cdn() {
    let app = TestApp::spawn().await;
    let spec = rest(&app, "GET", "/openapi.json", None, Value::Null).await;
    assert_eq!(spec.status, StatusCode::OK);
    assert_eq!(spec.body["openapi"], "3.1.0");
    let paths = spec.body["paths"].as_object().unwrap();
    for path in [
        "/users/me",
        "/users/{user_id}",
        "/users/{user_id}/badges",
        "/users/{user_id}/goals",
        "/users/{user_id}/goals/{goal_id}",
        "/api/v1/users/me",
        "/api/v1/users/me/profile",
        "/api/v1/users/me/preferences",
        "/api/v1/users/me/stats",
        "/api/v1/users/me/upgrade",
        "/api/v1/users/me/downgrade",
        "/api/v1/users/search",
    ] {
        assert!(paths.contains_key(path), "the spec lacks {path}");
    }
    assert_eq!(paths["/users/me"]["get"]["deprecated"], true);

    let page = rest(&app, "GET", "/docs", None, Value::Null).await;
    assert_eq!(page.status, StatusCode::OK);
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("default-src 'none'"));
    let html = page.body.as_str().unwrap();
    assert!(html.contains("/docs/swagger-ui-bundle.js"));
    assert!(!html.contains("https://"), "no CDN: {html}");
    assert!(!html.contains("<script>"), "no inline script under the CSP");
    for asset in [
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-ui.css",
        "/docs/swagger-init.js",
    ] {
        let response = rest(&app, "GET", asset, None, Value::Null).await;
        assert_eq!(response.status, StatusCode::OK, "{asset}");
        assert_eq!(response.headers["x-content-type-options"], "nosniff");
    }
}

#[test]
fn openapi_json_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let generated = user_service::rest::docs::openapi_json();
    assert!(
        committed == generated,
        "openapi.json is out of date: run `cargo run -- export-openapi > openapi.json`"
    );
}

#[tokio::test]
async fn a_database_outage_is_503_with_a_detail_and_no_internals() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let app = TestApp::spawn_with(|config| {
        config.database.database_url =
            format!("postgres://postgres@127.0.0.1:{port}/nowhere").into();
        config.database.database_pool_timeout = std::time::Duration::from_secs(1);
    })
    .await;
    let token = app.token("down");
    for (method, uri, body) in [
        ("GET", "/users/down", Value::Null),
        ("PUT", "/users/down", json!({ "bio": "x" })),
        ("GET", "/api/v1/users/me", Value::Null),
    ] {
        let response = rest(&app, method, uri, Some(&token), body).await;
        assert_eq!(
            response.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{method} {uri}: {}",
            response.body
        );
        assert_eq!(response.body, json!({ "detail": "Service unavailable" }));
    }
}
