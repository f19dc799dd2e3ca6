//! The hot reads (issue 10): `user` with badges and goals costs one pool
//! checkout and one statement (the lists as array columns),
//! `users` one checkout and three pipelined statements, both answer the
//! same lists, PostgreSQL keeps a generic plan for the one-user statement,
//! nothing read crosses requests, and the `seed` bulk load writes the
//! benchmark kit's content and leaves statistics behind.

use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use serde_json::{Value, json};
use user_service::db::auth_users::find_many_with_lists;
use user_service::db::seed::{SeedError, SeedPlan, seed};

use crate::helpers::TestApp;

/// Pool checkouts so far.
fn checkouts(app: &TestApp) -> u64 {
    let stats = app.state.db.pool.state().statistics;
    stats.get_direct + stats.get_waited
}

const ONE: &str =
    "query($id: ID!) { user(authUserId: $id) { authUserId badges { name } goals { title } } }";

#[tokio::test]
async fn a_user_with_badges_and_goals_costs_one_checkout_and_one_statement() {
    let app = TestApp::spawn().await;
    app.create_badge("ada", "Starter").await;
    app.create_goal("ada", "Learn SQL").await;
    // Warm: the connection has prepared its statements.
    app.graphql(ONE, json!({ "id": "ada" }), None).await.ok();

    let (statements, taken) = (app.statements(), checkouts(&app));
    let response = app.graphql(ONE, json!({ "id": "ada" }), None).await;
    let user = &response.ok()["user"];
    assert_eq!(user["badges"], json!([{ "name": "Starter" }]));
    assert_eq!(user["goals"], json!([{ "title": "Learn SQL" }]));
    assert_eq!(
        app.statements() - statements,
        1,
        "user, badges and goals in one"
    );
    assert_eq!(checkouts(&app) - taken, 1, "one connection for the request");

    // Without lists, the same one statement (the lists come back NULL).
    let statements = app.statements();
    app.graphql(
        "query($id: ID!) { user(authUserId: $id) { displayName } }",
        json!({ "id": "ada" }),
        None,
    )
    .await
    .ok();
    assert_eq!(app.statements() - statements, 1);

    // `users` with both lists: three statements on one connection,
    // whatever the number of ids.
    for count in [2, 40] {
        let ids: Vec<String> = (1..count)
            .map(|n| format!("nobody-{n}"))
            .chain(["ada".to_owned()])
            .collect();
        let (statements, taken) = (app.statements(), checkouts(&app));
        let response = app
            .graphql(
                "query($ids: [ID!]!) { users(authUserIds: $ids) { badges { name } goals { title } } }",
                json!({ "ids": ids }),
                None,
            )
            .await;
        let users = response.ok()["users"].as_array().expect("users").clone();
        assert_eq!(users.len(), count);
        assert!(users[..count - 1].iter().all(Value::is_null));
        assert_eq!(users[count - 1]["badges"][0]["name"], "Starter");
        assert_eq!(app.statements() - statements, 3, "{count} ids");
        assert_eq!(checkouts(&app) - taken, 1);
    }
}

/// Every field of both lists, with what a record array could get wrong:
/// quotes, backslashes, control characters and non-ASCII text, NULLs,
/// equal timestamps (the order then falls to the id), microseconds, dates.
#[tokio::test]
async fn one_user_read_in_one_statement_answers_exactly_what_the_row_statements_answer() {
    let app = TestApp::spawn().await;
    app.create_badge("ada", "Starter").await;
    app.create_goal("ada", "Learn SQL").await;
    app.create_badge("bob", "Other").await;
    let mut conn = app.conn().await;
    conn.batch_execute(
        r#"
        INSERT INTO badges (id, auth_user_id, name, description, icon_url, date_achieved, created_at) VALUES
          ('00000000-0000-4000-8000-000000000001', 'ada', 'Quote " and \ backslash', NULL, 'https://example.com/i.png', '2026-01-02T03:04:05.123456Z', now()),
          ('00000000-0000-4000-8000-000000000002', 'ada', E'Tab\there, line\nbreak, é, 漢字, 🎓', 'Ünïcode', NULL, '2026-01-02T03:04:05.123456Z', now());
        INSERT INTO learning_goals (id, auth_user_id, title, description, status, streak_count, last_check_in_on, created_at, updated_at) VALUES
          ('00000000-0000-4000-8000-000000000003', 'ada', 'Tie "A"', E'multi\nline', 'COMPLETED', 7, '2026-02-28', '2025-12-31T23:59:59.999999Z', '2026-03-01T00:00:00Z'),
          ('00000000-0000-4000-8000-000000000004', 'ada', 'Tie B', NULL, 'IN_PROGRESS', 0, NULL, '2025-12-31T23:59:59.999999Z', '2025-12-31T23:59:59.999999Z');
        "#,
    )
    .await
    .expect("insert the tricky rows");

    let selection = "authUserId \
        badges { id name description iconUrl dateAchieved } \
        goals { id title description status streakCount lastCheckInOn createdAt updatedAt }";
    let one = app
        .graphql(
            &format!("query($id: ID!) {{ user(authUserId: $id) {{ {selection} }} }}"),
            json!({ "id": "ada" }),
            None,
        )
        .await;
    let one = one.ok()["user"].clone();
    let many = app
        .graphql(
            &format!("query($ids: [ID!]!) {{ users(authUserIds: $ids) {{ {selection} }} }}"),
            json!({ "ids": ["bob", "ada"] }),
            None,
        )
        .await;
    let many = many.ok()["users"][1].clone();
    assert_eq!(
        one, many,
        "one user (one statement) and two users (three) agree"
    );

    let badges = one["badges"].as_array().expect("badges");
    assert_eq!(badges.len(), 3);
    // Newest first (`Starter` was earned just now); the two equal instants
    // by id, descending.
    assert_eq!(badges[0]["name"], "Starter");
    assert_eq!(badges[1]["name"], "Tab\there, line\nbreak, é, 漢字, 🎓");
    assert_eq!(badges[1]["description"], "Ünïcode");
    assert_eq!(badges[1]["iconUrl"], Value::Null);
    assert_eq!(badges[1]["dateAchieved"], "2026-01-02T03:04:05.123456Z");
    assert_eq!(badges[2]["name"], "Quote \" and \\ backslash");
    assert_eq!(badges[2]["iconUrl"], "https://example.com/i.png");
    assert_eq!(badges[2]["description"], Value::Null);
    let goals = one["goals"].as_array().expect("goals");
    let titles: Vec<&str> = goals.iter().map(|g| g["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Learn SQL", "Tie B", "Tie \"A\""]);
    assert_eq!(goals[2]["status"], "COMPLETED");
    assert_eq!(goals[2]["streakCount"], 7);
    assert_eq!(goals[2]["lastCheckInOn"], "2026-02-28");
    assert_eq!(goals[2]["description"], "multi\nline");
    assert_eq!(goals[2]["createdAt"], "2025-12-31T23:59:59.999999Z");
    assert_eq!(goals[1]["lastCheckInOn"], Value::Null);

    // No rows is an empty list, not a missing one.
    let bob = app
        .graphql(
            "{ user(authUserId: \"bob\") { badges { name } goals { title } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        bob.ok()["user"],
        json!({ "badges": [{ "name": "Other" }], "goals": [] })
    );

    // A stored value the build does not know fails the read with a coded
    // error, as it does from the rows.
    conn.batch_execute(
        "ALTER TABLE learning_goals DROP CONSTRAINT learning_goals_status_value; \
         UPDATE learning_goals SET status = 'PAUSED' WHERE id = '00000000-0000-4000-8000-000000000004'",
    )
    .await
    .expect("corrupt a status");
    let response = app
        .graphql(
            "query($id: ID!) { user(authUserId: $id) { goals { title } } }",
            json!({ "id": "ada" }),
            None,
        )
        .await;
    assert_eq!(response.error_code(), Some("INTERNAL_SERVER_ERROR"));
}

/// PostgreSQL keeps re-planning a prepared statement while the plan it
/// would reuse looks costlier than planning for each call's values; for
/// `= ANY($1)` it costs a generic plan for ten ids, so a one-id call was
/// planned every time (planning took twice as long as running). The
/// one-user statement keys on `= $1`, whose generic plan it keeps.
#[tokio::test]
async fn the_one_user_statement_runs_on_a_generic_plan() {
    #[derive(diesel::QueryableByName, Debug)]
    struct Plans {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        generic_plans: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        custom_plans: i64,
    }

    let app = TestApp::spawn().await;
    app.create_badge("ada", "Starter").await;
    let mut conn = app.conn().await;
    for _ in 0..10 {
        let users = find_many_with_lists(&mut conn, &["ada"], true, true)
            .await
            .expect("read ada");
        assert_eq!(users.len(), 1);
        assert_eq!(users[0].badges.as_ref().map(Vec::len), Some(1));
    }
    // (This statement is prepared too: leave it out.)
    let plans: Plans = diesel::sql_query(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements \
         WHERE statement LIKE '%array_agg%' AND statement NOT LIKE '%pg_prepared_statements%'",
    )
    .get_result(&mut conn)
    .await
    .expect("the statement is prepared once on this connection");
    assert!(
        plans.generic_plans >= 5,
        "PostgreSQL should settle on the generic plan: {plans:?}"
    );
    assert!(plans.custom_plans <= 5, "{plans:?}");
}

#[tokio::test]
async fn lists_read_with_a_user_belong_to_that_request_only() {
    let app = TestApp::spawn().await;
    app.create_badge("ada", "First").await;
    let names = |response: &crate::helpers::TestResponse, alias: &str| -> Vec<String> {
        response.ok()[alias]["badges"]
            .as_array()
            .expect("badges")
            .iter()
            .map(|badge| badge["name"].as_str().expect("name").to_owned())
            .collect()
    };
    let both = "{ a: user(authUserId: \"ada\") { badges { name } } b: user(authUserId: \"ada\") { badges { name } } }";
    let statements = app.statements();
    let response = app.graphql(both, json!({}), None).await;
    // The same user twice in one document: both see the list, and it is
    // read once, with the user.
    assert_eq!(names(&response, "a"), ["First"]);
    assert_eq!(names(&response, "b"), ["First"]);
    assert_eq!(app.statements() - statements, 1, "the user with badges");

    app.create_badge("ada", "Second").await;
    let response = app.graphql(both, json!({}), None).await;
    assert_eq!(
        names(&response, "a").len(),
        2,
        "the next request reads afresh"
    );
    assert_eq!(names(&response, "b").len(), 2);
}

#[tokio::test]
async fn seed_writes_the_kit_content_and_analyzes() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn().await;
    let plan = SeedPlan {
        users: 30,
        badges_per_user: 3,
        goals_per_user: 4,
        replace: false,
    };
    let report = seed(&mut conn, plan).await.expect("seed");
    assert_eq!(
        (report.users, report.badges, report.goals, report.replaced),
        (30, 90, 120, 0)
    );
    for table in ["auth_users", "profiles", "badges", "learning_goals"] {
        let analyzed = app
            .count(&format!(
                "SELECT count(*) AS n FROM pg_stat_user_tables WHERE relname = '{table}' AND last_analyze IS NOT NULL"
            ))
            .await;
        assert_eq!(analyzed, 1, "{table} analyzed");
    }

    // User 12, as the kit's seed.sql computes it.
    let response = app
        .graphql(
            "{ user(authUserId: \"u00012\") { username displayName bio skills headline location websiteUrl avatarUrl plan createdAt badges { name description iconUrl dateAchieved } goals { title description status streakCount } } }",
            json!({}),
            None,
        )
        .await;
    let user = &response.ok()["user"];
    assert_eq!(user["username"], "user00012");
    assert_eq!(user["displayName"], "Alan Hopper 12");
    assert_eq!(user["skills"], json!(["typescript", "react"]));
    assert_eq!(user["headline"], "Data scientist at Acme");
    assert_eq!(user["location"], "Berlin, DE");
    assert_eq!(user["websiteUrl"], "https://example.com/~user12");
    assert_eq!(user["plan"], "FREE");
    assert!(
        user["createdAt"]
            .as_str()
            .expect("createdAt")
            .starts_with("2024-01-01T07:24:00")
    );
    let badges: Vec<&str> = user["badges"]
        .as_array()
        .expect("badges")
        .iter()
        .map(|badge| badge["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        badges,
        ["Bookworm", "Week Warrior", "Streak Starter"],
        "newest first"
    );
    assert_eq!(
        user["badges"][0]["description"],
        "Awarded for milestone 3 of learner 12."
    );
    assert_eq!(
        user["badges"][0]["iconUrl"],
        "https://cdn.example.com/badges/4.svg"
    );
    assert!(
        user["badges"][0]["dateAchieved"]
            .as_str()
            .expect("dateAchieved")
            .starts_with("2024-01-10T08:24:00")
    );
    assert_eq!(user["goals"][0]["title"], "Ship a side project (4)");
    assert_eq!(user["goals"][0]["status"], "IN_PROGRESS");
    assert_eq!(user["goals"][0]["streakCount"], 18);
    assert_eq!(user["goals"][3]["title"], "Write a blog post a week (1)");
    let premium = app
        .graphql("{ user(authUserId: \"u00015\") { plan } }", json!({}), None)
        .await;
    assert_eq!(premium.ok()["user"]["plan"], "PREMIUM");

    // Again: refused, then replaced without duplicates.
    assert!(matches!(
        seed(&mut conn, plan).await,
        Err(SeedError::UsersExist(30))
    ));
    let report = seed(
        &mut conn,
        SeedPlan {
            replace: true,
            ..plan
        },
    )
    .await
    .expect("replace");
    assert_eq!(report.replaced, 30);
    assert_eq!(app.count("SELECT count(*) AS n FROM badges").await, 90);
}

/// A document the strict engine answered once without an error is not
/// validated again while its variables are given and of the simple kinds;
/// a wrong, null or missing variable still goes through validation and is
/// refused exactly as on a document never seen.
#[tokio::test]
async fn a_document_validated_once_is_not_validated_again_and_bad_variables_are_still_refused() {
    let app = TestApp::spawn().await;
    app.create_badge("ada", "Starter").await;
    let skipped = || app.state.validation_skipped.get();
    const DOC: &str =
        "query Warm($id: ID!) { user(authUserId: $id) { authUserId badges { name } } }";
    let bad_values = [json!({ "id": 4.5 }), json!({ "id": null }), json!({})];

    // Never answered without an error yet: every request validates.
    let mut cold = Vec::new();
    for variables in &bad_values {
        let response = app.graphql(DOC, variables.clone(), None).await;
        assert!(response.error_code().is_some(), "{variables}: refused");
        cold.push(response.body.clone());
    }
    assert_eq!(skipped(), 0);

    let first = app.graphql(DOC, json!({ "id": "ada" }), None).await;
    assert_eq!(skipped(), 0, "the first good answer is validated");
    let second = app.graphql(DOC, json!({ "id": "ada" }), None).await;
    assert_eq!(skipped(), 1, "the second is not");
    assert_eq!(first.body, second.body);
    assert_eq!(second.ok()["user"]["badges"][0]["name"], "Starter");
    let by_number = app.graphql(DOC, json!({ "id": 7 }), None).await;
    assert_eq!(by_number.ok()["user"], Value::Null, "an ID may be a number");
    assert_eq!(skipped(), 2);

    // The same wrong variables, the same refusals, through validation.
    for (variables, cold) in bad_values.iter().zip(&cold) {
        let response = app.graphql(DOC, variables.clone(), None).await;
        assert_eq!(&response.body, cold, "{variables}");
    }
    assert_eq!(skipped(), 2);

    // An answer with an error marks nothing: the next request validates.
    const ODD: &str = "query Odd($id: ID!) { user(authUserId: $id) { authUserId } }";
    for _ in 0..2 {
        let response = app.graphql(ODD, json!({ "id": "not an id!" }), None).await;
        assert_eq!(response.error_code(), Some("BAD_USER_INPUT"));
    }
    app.graphql(ODD, json!({ "id": "ada" }), None).await.ok();
    assert_eq!(skipped(), 2);
    app.graphql(ODD, json!({ "id": "ada" }), None).await.ok();
    assert_eq!(skipped(), 3);
}
