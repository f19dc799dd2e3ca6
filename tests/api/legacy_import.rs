//! `import-legacy`: real legacy databases, one per schema version, with
//! dirty rows, imported into a test database.

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use serde_json::{Value, json};
use user_service::legacy::source::LegacySchema;
use user_service::legacy::{self, Counts, ImportOptions, ImportReport};

use crate::helpers::{TestApp, TestDatabase, start_time};

const V1_SCHEMA: &str = r#"
CREATE TABLE users (
    id          SERIAL PRIMARY KEY,
    username    VARCHAR(50),
    email       VARCHAR(255),
    full_name   VARCHAR(255),
    bio         TEXT,
    skills      TEXT[],
    location    VARCHAR(255),
    website     VARCHAR(4096),
    avatar_url  VARCHAR(4096),
    is_premium  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMP NOT NULL DEFAULT now()
);
CREATE TABLE badges (
    id            SERIAL PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id),
    name          VARCHAR(255),
    description   TEXT,
    icon_url      VARCHAR(4096),
    date_achieved TIMESTAMP
);
CREATE TABLE learning_goals (
    id           SERIAL PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    title        VARCHAR(255),
    description  TEXT,
    status       VARCHAR(20),
    streak_count INTEGER DEFAULT 0,
    created_at   TIMESTAMP,
    updated_at   TIMESTAMP
);
"#;

const V1_ROWS: &str = r#"
INSERT INTO users (id, username, email, full_name, bio, skills, location, website, avatar_url, is_premium, created_at) VALUES
 (1, 'ada', 'ada@example.com', 'Ada Lovelace', 'Poet of science', '{Rust,SQL}', 'London', 'https://ada.example.com', NULL, TRUE, '2025-01-02 03:04:05'),
 (2, 'bob', 'bob@example.com', 'Bob', '', NULL, NULL, NULL, NULL, FALSE, '2025-02-01 00:00:00'),
 (3, 'eve', NULL, 'Eve', NULL, NULL, NULL, 'javascript:alert(1)', NULL, FALSE, '2025-03-01 00:00:00'),
 (4, 'pad', NULL, '  padded  ', NULL, NULL, NULL, NULL, NULL, FALSE, '2025-03-02 00:00:00'),
 (5, 'dup', NULL, 'Dup', NULL, '{Rust,rust}', NULL, NULL, NULL, FALSE, '2025-03-03 00:00:00'),
 (6, 'gone', NULL, 'Gone', NULL, NULL, NULL, NULL, NULL, FALSE, '2025-03-04 00:00:00'),
 (7, 'known', NULL, 'Legacy Name', 'legacy bio', NULL, NULL, NULL, NULL, FALSE, '2025-03-05 00:00:00');
INSERT INTO badges (id, user_id, name, description, icon_url, date_achieved) VALUES
 (1, 1, 'First steps', 'Signed up', 'https://cdn.example.com/1.svg', '2025-01-03 00:00:00'),
 (2, 3, 'Hacker', NULL, NULL, '2025-03-01 00:00:00'),
 (3, 1, 'Time traveller', NULL, NULL, '2099-01-01 00:00:00'),
 (4, 2, '', NULL, NULL, '2025-02-02 00:00:00');
INSERT INTO learning_goals (id, user_id, title, description, status, streak_count, created_at, updated_at) VALUES
 (1, 1, 'Learn Rust', 'The book', 'in-progress', 3, '2025-01-05 00:00:00', '2025-01-06 00:00:00'),
 (2, 1, 'Learn SQL', NULL, 'completed', 0, '2025-01-05 00:00:00', '2025-01-07 00:00:00'),
 (3, 2, 'Start', NULL, 'not-started', 0, '2025-02-05 00:00:00', NULL),
 (4, 2, 'Paused', NULL, 'paused', 0, '2025-02-05 00:00:00', NULL),
 (5, 2, 'Negative', NULL, 'in-progress', -1, '2025-02-05 00:00:00', NULL),
 (6, 4, 'Orphaned', NULL, 'in-progress', 0, '2025-02-05 00:00:00', NULL);
"#;

const V2_SCHEMA: &str = r#"
CREATE TABLE auth_users (
    id         VARCHAR(100) PRIMARY KEY,
    username   VARCHAR(50),
    email      VARCHAR(255),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE profiles (
    auth_user_id VARCHAR(100) PRIMARY KEY REFERENCES auth_users(id) ON DELETE CASCADE,
    display_name VARCHAR(255),
    bio          TEXT,
    skills       TEXT[],
    headline     VARCHAR(255),
    location     VARCHAR(255),
    website_url  VARCHAR(4096),
    avatar_url   VARCHAR(4096),
    plan         VARCHAR(20) NOT NULL DEFAULT 'free'
);
CREATE TABLE badges (
    id            UUID PRIMARY KEY,
    auth_user_id  VARCHAR(100) NOT NULL REFERENCES auth_users(id) ON DELETE CASCADE,
    name          VARCHAR(255),
    description   TEXT,
    icon_url      VARCHAR(4096),
    date_achieved TIMESTAMPTZ
);
CREATE TABLE learning_goals (
    id               UUID PRIMARY KEY,
    auth_user_id     VARCHAR(100) NOT NULL REFERENCES auth_users(id) ON DELETE CASCADE,
    title            VARCHAR(255),
    description      TEXT,
    status           VARCHAR(20),
    streak_count     INTEGER NOT NULL DEFAULT 0,
    last_check_in_on DATE,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
"#;

const V2_ROWS: &str = r#"
INSERT INTO auth_users (id, username, email, created_at) VALUES
 ('u-1', 'grace', 'grace@example.com', '2025-05-01T10:00:00+02:00'),
 ('u-2', 'linus', NULL, '2025-05-02T00:00:00Z'),
 ('bad id!', 'bad', NULL, '2025-05-03T00:00:00Z'),
 ('u-4', 'gold', NULL, '2025-05-04T00:00:00Z');
INSERT INTO profiles (auth_user_id, display_name, bio, skills, headline, location, website_url, avatar_url, plan) VALUES
 ('u-1', 'Grace', 'Admiral', '{COBOL}', 'Compiler pioneer', 'Arlington', NULL, 'https://img.example.com/g.png', 'premium'),
 ('bad id!', 'Bad', NULL, NULL, NULL, NULL, NULL, NULL, 'free'),
 ('u-4', 'Gold', NULL, NULL, NULL, NULL, NULL, NULL, 'gold');
INSERT INTO badges (id, auth_user_id, name, description, icon_url, date_achieved) VALUES
 ('0192f0c5-0000-7000-8000-000000000001', 'u-1', 'Bug finder', 'Found a moth', NULL, '2025-05-05T00:00:00Z'),
 ('0192f0c5-0000-7000-8000-000000000002', 'u-2', 'Kernel', NULL, 'ftp://icons.example.com/k.png', '2025-05-05T00:00:00Z');
INSERT INTO learning_goals (id, auth_user_id, title, description, status, streak_count, last_check_in_on, created_at, updated_at) VALUES
 ('0192f0c5-0000-7000-8000-000000000011', 'u-1', 'Write a compiler', NULL, 'IN_PROGRESS', 12, '2025-05-20', '2025-05-01T00:00:00Z', '2025-05-20T00:00:00Z'),
 ('0192f0c5-0000-7000-8000-000000000012', 'u-2', 'Write a kernel', NULL, 'completed', 0, NULL, '2025-05-01T00:00:00Z', '2025-05-02T00:00:00Z'),
 ('0192f0c5-0000-7000-8000-000000000013', 'u-2', '   ', NULL, 'in-progress', 0, NULL, '2025-05-01T00:00:00Z', '2025-05-02T00:00:00Z');
"#;

async fn legacy_database(schema: &str, rows: &str) -> TestDatabase {
    let database = TestDatabase::empty("user_service_legacy").await;
    let mut conn = AsyncPgConnection::establish(&database.url)
        .await
        .expect("connect to the legacy database");
    conn.batch_execute(schema).await.expect("legacy schema");
    conn.batch_execute(rows).await.expect("legacy rows");
    database
}

async fn run(app: &TestApp, legacy: &TestDatabase, dry_run: bool) -> ImportReport {
    let mut source = AsyncPgConnection::establish(&legacy.url).await.unwrap();
    let mut target = app.conn().await;
    let options = ImportOptions {
        schema: None,
        dry_run,
        batch_size: 2,
    };
    legacy::import(&mut source, &mut target, options, start_time, |_| {})
        .await
        .expect("the import runs")
}

fn counts(read: u64, written: u64, skipped: u64, refused: u64) -> Counts {
    Counts {
        read,
        written,
        skipped,
        refused,
    }
}

fn refused(report: &ImportReport, table: &str, key: &str) -> String {
    report
        .refused
        .iter()
        .find(|row| row.table == table && row.key == key)
        .map(|row| row.reason.clone())
        .unwrap_or_else(|| panic!("{table} {key} was not refused: {report}"))
}

async fn table_counts(app: &TestApp) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in [
        "auth_users",
        "profiles",
        "badges",
        "learning_goals",
        "activity_events",
    ] {
        counts.push(
            app.count(&format!("SELECT count(*) AS n FROM {table}"))
                .await,
        );
    }
    counts
}

const USER_QUERY: &str = "query($id: ID!) { user(authUserId: $id) { username displayName bio skills location websiteUrl plan createdAt badges { id name iconUrl dateAchieved } goals { id title status streakCount lastCheckInOn } } }";

#[tokio::test]
async fn a_v1_database_is_imported_once_with_its_dirty_rows_refused() {
    let app = TestApp::spawn().await;
    let legacy = legacy_database(V1_SCHEMA, V1_ROWS).await;
    // This service already knows user 7 (with a display name of its own)
    // and saw user 6 deleted.
    app.graphql_as(
        "7",
        "mutation { updateProfile(authUserId: \"7\", input: { displayName: \"Service Name\" }) { displayName } }",
        json!({}),
    )
    .await
    .ok();
    let mut conn = app.conn().await;
    conn.batch_execute(
        "INSERT INTO auth_user_tombstones (auth_user_id, deleted_at) VALUES ('6', now())",
    )
    .await
    .unwrap();
    let before = table_counts(&app).await;

    let dry = run(&app, &legacy, true).await;
    assert_eq!(dry.schema, LegacySchema::V1);
    assert!(dry.dry_run);
    assert_eq!(table_counts(&app).await, before, "a dry run writes nothing");

    let report = run(&app, &legacy, false).await;
    assert_eq!(report.users, counts(7, 3, 0, 4), "{report}");
    assert_eq!(report.badges, counts(4, 1, 0, 3), "{report}");
    assert_eq!(report.goals, counts(6, 3, 0, 3), "{report}");
    assert_eq!(
        (dry.users, dry.badges, dry.goals),
        (report.users, report.badges, report.goals),
        "the dry run counted what the real run did"
    );
    assert!(refused(&report, "users", "3").contains("website_url"));
    assert!(refused(&report, "users", "4").contains("whitespace"));
    assert!(refused(&report, "users", "5").contains("duplicates"));
    assert!(refused(&report, "users", "6").contains("deleted"));
    assert!(refused(&report, "badges", "2").contains("owner 3"));
    assert!(refused(&report, "badges", "3").contains("future"));
    assert!(refused(&report, "badges", "4").contains("name"));
    assert!(refused(&report, "goals", "4").contains("paused"));
    assert!(refused(&report, "goals", "5").contains("negative"));
    assert!(refused(&report, "goals", "6").contains("owner 4"));
    let printed = report.to_string();
    assert!(printed.contains("refused users 3:"), "{printed}");

    let ada = app.graphql(USER_QUERY, json!({ "id": "1" }), None).await;
    let ada = &ada.ok()["user"];
    assert_eq!(ada["username"], "ada");
    assert_eq!(ada["displayName"], "Ada Lovelace");
    assert_eq!(ada["skills"], json!(["Rust", "SQL"]));
    assert_eq!(ada["plan"], "PREMIUM");
    assert_eq!(ada["createdAt"], "2025-01-02T03:04:05Z");
    assert_eq!(ada["badges"][0]["name"], "First steps");
    let mut goals: Vec<(Value, Value)> = ada["goals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|goal| (goal["title"].clone(), goal["status"].clone()))
        .collect();
    goals.sort_by_key(|(title, _)| title.to_string());
    assert_eq!(
        goals,
        [
            (json!("Learn Rust"), json!("IN_PROGRESS")),
            (json!("Learn SQL"), json!("COMPLETED"))
        ]
    );
    let bob = app.graphql(USER_QUERY, json!({ "id": "2" }), None).await;
    assert_eq!(bob.ok()["user"]["bio"], Value::Null, "'' is null");
    assert_eq!(bob.ok()["user"]["goals"][0]["status"], "NOT_STARTED");
    // The service's own values win; what it lacked is filled in.
    let known = app.graphql(USER_QUERY, json!({ "id": "7" }), None).await;
    assert_eq!(known.ok()["user"]["displayName"], "Service Name");
    assert_eq!(known.ok()["user"]["bio"], "legacy bio");
    // Refused rows were not imported in any form.
    for id in ["3", "4", "5", "6"] {
        let user = app.graphql(USER_QUERY, json!({ "id": id }), None).await;
        assert_eq!(user.ok()["user"], Value::Null, "user {id}");
    }
    assert_eq!(
        app.count("SELECT count(*) AS n FROM activity_events").await,
        before[4],
        "an import records no activity"
    );

    // Idempotent: a second run changes nothing.
    let after_first = table_counts(&app).await;
    let again = run(&app, &legacy, false).await;
    assert_eq!(again.users, counts(7, 0, 3, 4), "{again}");
    assert_eq!(again.badges, counts(4, 0, 1, 3), "{again}");
    assert_eq!(again.goals, counts(6, 0, 3, 3), "{again}");
    assert_eq!(table_counts(&app).await, after_first);
    let ada_again = app.graphql(USER_QUERY, json!({ "id": "1" }), None).await;
    assert_eq!(ada_again.ok()["user"], *ada);
}

#[tokio::test]
async fn a_v2_database_keeps_its_ids_and_maps_its_statuses() {
    let app = TestApp::spawn().await;
    let legacy = legacy_database(V2_SCHEMA, V2_ROWS).await;
    let report = run(&app, &legacy, false).await;
    assert_eq!(report.schema, LegacySchema::V2);
    assert_eq!(report.users, counts(4, 2, 0, 2), "{report}");
    assert_eq!(report.badges, counts(2, 1, 0, 1), "{report}");
    assert_eq!(report.goals, counts(3, 2, 0, 1), "{report}");
    assert!(refused(&report, "users", "bad id!").contains("authUserId"));
    assert!(refused(&report, "users", "u-4").contains("gold"));
    assert!(
        refused(&report, "badges", "0192f0c5-0000-7000-8000-000000000002").contains("icon_url")
    );
    assert!(refused(&report, "goals", "0192f0c5-0000-7000-8000-000000000013").contains("title"));

    let grace = app.graphql(USER_QUERY, json!({ "id": "u-1" }), None).await;
    let grace = &grace.ok()["user"];
    assert_eq!(grace["plan"], "PREMIUM");
    assert_eq!(grace["createdAt"], "2025-05-01T08:00:00Z");
    assert_eq!(
        grace["badges"][0]["id"], "0192f0c5-0000-7000-8000-000000000001",
        "UUIDs are kept"
    );
    assert_eq!(
        grace["goals"][0],
        json!({ "id": "0192f0c5-0000-7000-8000-000000000011", "title": "Write a compiler", "status": "IN_PROGRESS", "streakCount": 12, "lastCheckInOn": "2025-05-20" })
    );
    let linus = app.graphql(USER_QUERY, json!({ "id": "u-2" }), None).await;
    assert_eq!(
        linus.ok()["user"]["displayName"],
        Value::Null,
        "no profile row"
    );
    assert_eq!(linus.ok()["user"]["goals"][0]["status"], "COMPLETED");

    let again = run(&app, &legacy, false).await;
    assert_eq!(
        (
            again.users.written,
            again.badges.written,
            again.goals.written
        ),
        (0, 0, 0)
    );
}

#[tokio::test]
async fn a_killed_import_is_finished_by_running_it_again() {
    let app = TestApp::spawn().await;
    let legacy = legacy_database(V1_SCHEMA, V1_ROWS).await;
    let (sender, mut lines) = tokio::sync::mpsc::unbounded_channel::<String>();
    let (source_url, target_url) = (legacy.url.clone(), app.db.url.clone());
    let killed = tokio::spawn(async move {
        let mut source = AsyncPgConnection::establish(&source_url).await.unwrap();
        let mut target = AsyncPgConnection::establish(&target_url).await.unwrap();
        let options = ImportOptions {
            schema: Some(LegacySchema::V1),
            dry_run: false,
            batch_size: 1,
        };
        legacy::import(&mut source, &mut target, options, start_time, |line| {
            let _ = sender.send(line.to_owned());
        })
        .await
    });
    // Killed after its second batch of users was committed.
    while let Some(line) = lines.recv().await {
        if line.starts_with("users: 2 read") {
            break;
        }
    }
    killed.abort();
    let _ = killed.await;
    let partial = app.count("SELECT count(*) AS n FROM auth_users").await;
    assert!((2..=4).contains(&partial), "{partial} users after the kill");

    let resumed = run(&app, &legacy, false).await;
    assert_eq!(
        resumed.users.skipped + resumed.users.written,
        4,
        "{resumed}"
    );
    assert!(
        resumed.users.skipped >= 2,
        "the committed batches are kept: {resumed}"
    );
    // Users 1, 2, 6 and 7 (no tombstone here); 3, 4 and 5 are refused.
    assert_eq!(app.count("SELECT count(*) AS n FROM auth_users").await, 4);
    assert_eq!(app.count("SELECT count(*) AS n FROM badges").await, 1);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM learning_goals").await,
        3
    );
}

#[tokio::test]
async fn unknown_sources_and_this_services_own_database_are_refused() {
    let app = TestApp::spawn().await;
    let empty = TestDatabase::empty("user_service_legacy").await;
    for url in [&empty.url, &app.db.url] {
        let mut source = AsyncPgConnection::establish(url).await.unwrap();
        let mut target = app.conn().await;
        let options = ImportOptions {
            schema: None,
            dry_run: false,
            batch_size: 10,
        };
        let error = legacy::import(&mut source, &mut target, options, start_time, |_| {})
            .await
            .expect_err("refused");
        assert!(
            error.to_string().contains("legacy") || error.to_string().contains("user-service"),
            "{error}"
        );
    }
}

#[tokio::test]
async fn the_command_prints_progress_and_the_report() {
    let app = TestApp::spawn().await;
    let legacy = legacy_database(V1_SCHEMA, V1_ROWS).await;
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_user-service"))
        .args(["import-legacy", "--from", &legacy.url, "--dry-run"])
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("run the binary");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("users: 7 read"), "{stderr}");
    assert!(stdout.contains("dry run"), "{stdout}");
    assert!(stdout.contains("refused users 3:"), "{stdout}");
    assert_eq!(app.count("SELECT count(*) AS n FROM auth_users").await, 0);
}
