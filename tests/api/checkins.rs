//! Check-ins and streaks, with the test clock crossing day boundaries in
//! timezones east and west of UTC, DST changes and missed days.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::helpers::TestApp;

const CHECK_IN: &str = "mutation($id: ID!, $goal: ID!) { checkInGoal(authUserId: $id, goalId: $goal) { streakCount lastCheckInOn status } }";

fn at(instant: &str) -> DateTime<Utc> {
    instant.parse().expect("RFC 3339 instant")
}

async fn check_in(app: &TestApp, user: &str, goal: &str) -> Value {
    let response = app
        .graphql_as(user, CHECK_IN, json!({ "id": user, "goal": goal }))
        .await;
    response.ok()["checkInGoal"].clone()
}

async fn set_timezone(app: &TestApp, user: &str, timezone: &str) {
    let response = app
        .graphql_as(
            user,
            "mutation($id: ID!, $tz: String!) { updatePreferences(authUserId: $id, input: { timezone: $tz }) { timezone } }",
            json!({ "id": user, "tz": timezone }),
        )
        .await;
    assert_eq!(response.ok()["updatePreferences"]["timezone"], timezone);
}

async fn checked_in_events(app: &TestApp) -> i64 {
    app.count("SELECT count(*) AS n FROM activity_events WHERE kind = 'GOAL_CHECKED_IN'")
        .await
}

#[tokio::test]
async fn streak_counts_days_in_utc() {
    let app = TestApp::spawn().await;
    let goal = app.create_goal("sam", "Practice").await;

    app.clock.set(at("2026-11-21T00:00:00Z"));
    let first = check_in(&app, "sam", &goal).await;
    assert_eq!(
        first,
        json!({ "streakCount": 1, "lastCheckInOn": "2026-11-21", "status": "IN_PROGRESS" })
    );

    app.clock.set(at("2026-11-21T23:59:59Z"));
    assert_eq!(
        check_in(&app, "sam", &goal).await,
        first,
        "same day changes nothing"
    );
    assert_eq!(
        checked_in_events(&app).await,
        1,
        "an unchanged check-in records nothing"
    );

    app.clock.set(at("2026-11-22T00:00:00Z"));
    assert_eq!(check_in(&app, "sam", &goal).await["streakCount"], 2);
    app.clock.set(at("2026-11-23T12:00:00Z"));
    assert_eq!(check_in(&app, "sam", &goal).await["streakCount"], 3);

    // 2026-11-24 is missed.
    app.clock.set(at("2026-11-25T08:00:00Z"));
    let after_gap = check_in(&app, "sam", &goal).await;
    assert_eq!(after_gap["streakCount"], 1);
    assert_eq!(after_gap["lastCheckInOn"], "2026-11-25");
    assert_eq!(checked_in_events(&app).await, 4);
}

#[tokio::test]
async fn east_of_utc_the_day_turns_earlier() {
    let app = TestApp::spawn().await;
    set_timezone(&app, "kei", "Asia/Tokyo").await;
    let goal = app.create_goal("kei", "Kanji").await;
    // 23:00 on the 21st in Tokyo.
    app.clock.set(at("2026-11-21T14:00:00Z"));
    assert_eq!(
        check_in(&app, "kei", &goal).await["lastCheckInOn"],
        "2026-11-21"
    );
    // 00:30 on the 22nd in Tokyo, still the 21st in UTC.
    app.clock.set(at("2026-11-21T15:30:00Z"));
    let next = check_in(&app, "kei", &goal).await;
    assert_eq!(next["lastCheckInOn"], "2026-11-22");
    assert_eq!(next["streakCount"], 2);
}

#[tokio::test]
async fn west_of_utc_the_day_turns_later() {
    let app = TestApp::spawn().await;
    set_timezone(&app, "lou", "America/Los_Angeles").await;
    let goal = app.create_goal("lou", "Surf theory").await;
    // Noon on the 21st in Los Angeles.
    app.clock.set(at("2026-11-21T20:00:00Z"));
    assert_eq!(
        check_in(&app, "lou", &goal).await["lastCheckInOn"],
        "2026-11-21"
    );
    // 23:00 on the 21st in Los Angeles, already the 22nd in UTC: same day.
    app.clock.set(at("2026-11-22T07:00:00Z"));
    let same = check_in(&app, "lou", &goal).await;
    assert_eq!(same["streakCount"], 1);
    assert_eq!(same["lastCheckInOn"], "2026-11-21");
    // 00:30 on the 22nd in Los Angeles.
    app.clock.set(at("2026-11-22T08:30:00Z"));
    assert_eq!(check_in(&app, "lou", &goal).await["streakCount"], 2);
}

#[tokio::test]
async fn dst_changes_do_not_break_streaks() {
    let app = TestApp::spawn().await;
    set_timezone(&app, "ber", "Europe/Berlin").await;
    let goal = app.create_goal("ber", "German").await;
    // Autumn: 23:30 CEST on 24 October, then 23:30 CET on the 25-hour 25 October.
    app.clock.set(at("2026-10-24T21:30:00Z"));
    assert_eq!(
        check_in(&app, "ber", &goal).await["lastCheckInOn"],
        "2026-10-24"
    );
    app.clock.set(at("2026-10-25T22:30:00Z"));
    let autumn = check_in(&app, "ber", &goal).await;
    assert_eq!(autumn["lastCheckInOn"], "2026-10-25");
    assert_eq!(autumn["streakCount"], 2);

    set_timezone(&app, "nyc", "America/New_York").await;
    let goal = app.create_goal("nyc", "Jazz").await;
    // Spring: 23:30 EST on 7 March, then 23:30 EDT on the 23-hour 8 March.
    app.clock.set(at("2026-03-08T04:30:00Z"));
    assert_eq!(
        check_in(&app, "nyc", &goal).await["lastCheckInOn"],
        "2026-03-07"
    );
    app.clock.set(at("2026-03-09T03:30:00Z"));
    let spring = check_in(&app, "nyc", &goal).await;
    assert_eq!(spring["lastCheckInOn"], "2026-03-08");
    assert_eq!(spring["streakCount"], 2);
}

#[tokio::test]
async fn a_day_before_the_last_check_in_counts_as_the_same_day() {
    let app = TestApp::spawn().await;
    set_timezone(&app, "tz", "Pacific/Kiritimati").await; // UTC+14
    let goal = app.create_goal("tz", "Travel").await;
    app.clock.set(at("2026-11-21T12:00:00Z")); // the 22nd in Kiritimati
    assert_eq!(
        check_in(&app, "tz", &goal).await["lastCheckInOn"],
        "2026-11-22"
    );
    set_timezone(&app, "tz", "Pacific/Pago_Pago").await; // UTC-11: still the 21st
    let after_move = check_in(&app, "tz", &goal).await;
    assert_eq!(
        after_move,
        json!({ "streakCount": 1, "lastCheckInOn": "2026-11-22", "status": "IN_PROGRESS" })
    );
    assert_eq!(checked_in_events(&app).await, 1);
}

#[tokio::test]
async fn check_in_starts_a_not_started_goal_and_refuses_a_completed_one() {
    let app = TestApp::spawn().await;
    let response = app
        .graphql_as(
            "ned",
            "mutation { createGoal(authUserId: \"ned\", input: { title: \"Later\", status: NOT_STARTED }) { id } }",
            json!({}),
        )
        .await;
    let goal = response.ok()["createGoal"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(check_in(&app, "ned", &goal).await["status"], "IN_PROGRESS");

    let done = app.create_goal("ned", "Done").await;
    app.graphql_as(
        "ned",
        "mutation($goal: ID!) { updateGoal(authUserId: \"ned\", goalId: $goal, input: { status: COMPLETED }) { id } }",
        json!({ "goal": done }),
    )
    .await
    .ok();
    let refused = app
        .graphql_as("ned", CHECK_IN, json!({ "id": "ned", "goal": done }))
        .await;
    assert_eq!(refused.error_code(), Some("BAD_USER_INPUT"));
    assert_eq!(
        app.count("SELECT count(*) AS n FROM learning_goals WHERE title = 'Done' AND streak_count = 0 AND last_check_in_on IS NULL").await,
        1
    );
    assert_eq!(checked_in_events(&app).await, 1);
}

#[tokio::test]
async fn check_in_is_guarded_and_scoped_to_the_owner() {
    let app = TestApp::spawn().await;
    let goal = app.create_goal("own", "Mine").await;
    let response = app
        .graphql(CHECK_IN, json!({ "id": "own", "goal": goal }), None)
        .await;
    assert_eq!(response.error_code(), Some("UNAUTHENTICATED"));
    let response = app
        .graphql_as("thief", CHECK_IN, json!({ "id": "own", "goal": goal }))
        .await;
    assert_eq!(response.error_code(), Some("FORBIDDEN"));
    let response = app
        .graphql_as("thief", CHECK_IN, json!({ "id": "thief", "goal": goal }))
        .await;
    assert_eq!(response.error_code(), Some("NOT_FOUND"));
    assert_eq!(checked_in_events(&app).await, 0);
    let admin = app.admin_token();
    let response = app
        .graphql(CHECK_IN, json!({ "id": "own", "goal": goal }), Some(&admin))
        .await;
    assert_eq!(response.ok()["checkInGoal"]["streakCount"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_check_ins_on_one_day_count_once() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let goal = app.create_goal("par", "Parallel").await;
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let app = app.clone();
            let goal = goal.clone();
            tokio::spawn(async move { check_in(&app, "par", &goal).await })
        })
        .collect();
    for task in tasks {
        let goal = task.await.expect("task");
        assert_eq!(goal["streakCount"], 1);
    }
    assert_eq!(checked_in_events(&app).await, 1);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM learning_goals WHERE streak_count = 1")
            .await,
        1
    );
}
