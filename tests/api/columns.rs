//! Typed columns: every enum and `AuthUserId` is written and read back
//! through the real row structs, as the text the migrations' CHECKs expect,
//! and a stored value this build does not know fails to load instead of
//! turning into a default.

use chrono::{TimeZone, Utc};
use diesel::result::Error as DieselError;
use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use user_service::db::activity::NewActivity;
use user_service::db::goals::GoalRow;
use user_service::db::profiles::PreferenceChanges;
use user_service::db::{self};
use user_service::domain::{ActivityKind, AuthUserId, GoalStatus, Plan, ProfileVisibility};

use crate::helpers::TestDatabase;

async fn connect(db: &TestDatabase) -> AsyncPgConnection {
    AsyncPgConnection::establish(&db.url)
        .await
        .expect("connect to the test database")
}

/// The texts of column `column` of `table`, sorted.
async fn stored(conn: &mut AsyncPgConnection, table: &str, column: &str) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct Value {
        #[diesel(sql_type = Text)]
        value: String,
    }
    diesel::sql_query(format!(
        "SELECT {column}::text AS value FROM {table} ORDER BY 1"
    ))
    .load::<Value>(conn)
    .await
    .expect("read stored texts")
    .into_iter()
    .map(|row| row.value)
    .collect()
}

fn goal(owner: &AuthUserId, status: GoalStatus, title: &str) -> GoalRow {
    let now = Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap();
    GoalRow {
        id: uuid::Uuid::now_v7(),
        auth_user_id: owner.clone(),
        title: title.to_owned(),
        description: None,
        status,
        streak_count: 0,
        last_check_in_on: None,
        created_at: now,
        updated_at: now,
    }
}

#[tokio::test]
async fn every_enum_and_the_user_id_round_trip_through_their_columns() {
    let db = TestDatabase::create().await;
    let mut conn = connect(&db).await;
    let now = Utc::now();
    let id = AuthUserId::parse("typed-42").unwrap();
    db::auth_users::ensure(&mut conn, &id, None, now)
        .await
        .unwrap();

    // Goal statuses.
    let statuses = [
        GoalStatus::NotStarted,
        GoalStatus::InProgress,
        GoalStatus::Completed,
    ];
    for (n, status) in statuses.into_iter().enumerate() {
        let written = db::goals::insert(&mut conn, &goal(&id, status, &format!("goal {n}")))
            .await
            .unwrap();
        assert_eq!(written.status, status);
        assert_eq!(written.auth_user_id, id);
    }
    let read = db::goals::for_users(&conn, &[id.as_str()]).await.unwrap();
    let mut read_statuses: Vec<_> = read.iter().map(|row| row.status).collect();
    read_statuses.sort_by_key(|status| status.as_db());
    assert_eq!(
        read_statuses,
        [
            GoalStatus::Completed,
            GoalStatus::InProgress,
            GoalStatus::NotStarted
        ]
    );
    assert!(read.iter().all(|row| row.auth_user_id == id));
    assert_eq!(
        stored(&mut conn, "learning_goals", "status").await,
        ["COMPLETED", "IN_PROGRESS", "NOT_STARTED"]
    );

    // Plans.
    for plan in [Plan::Premium, Plan::Free] {
        let written = db::profiles::set_plan(&mut conn, &id, plan, now)
            .await
            .unwrap();
        assert_eq!(written.plan, plan);
        assert_eq!(db::profiles::find(&mut conn, &id).await.unwrap().plan, plan);
        assert_eq!(
            stored(&mut conn, "profiles", "plan").await,
            [plan.as_db().to_owned()]
        );
    }

    // Visibilities.
    for visibility in [ProfileVisibility::Private, ProfileVisibility::Public] {
        let changes = PreferenceChanges {
            profile_visibility: Some(visibility),
            ..PreferenceChanges::default()
        };
        let written = db::profiles::update_preferences(&mut conn, &id, &changes, now)
            .await
            .unwrap();
        assert_eq!(written.profile_visibility, visibility);
        let read = db::profiles::find(&mut conn, &id).await.unwrap();
        assert_eq!(read.profile_visibility, visibility);
        assert_eq!(read.auth_user_id, id);
        assert_eq!(
            stored(&mut conn, "profiles", "profile_visibility").await,
            [visibility.as_db().to_owned()]
        );
    }

    // Activity kinds.
    let kinds = [
        ActivityKind::ProfileUpdated,
        ActivityKind::PreferencesUpdated,
        ActivityKind::PlanChanged,
        ActivityKind::BadgeEarned,
        ActivityKind::GoalCreated,
        ActivityKind::GoalUpdated,
        ActivityKind::GoalCheckedIn,
        ActivityKind::GoalCompleted,
        ActivityKind::GoalDeleted,
    ];
    for (n, kind) in kinds.into_iter().enumerate() {
        let at = now + chrono::Duration::seconds(i64::try_from(n).unwrap());
        db::activity::record(&mut conn, NewActivity::user(&id, kind, "event"), at)
            .await
            .unwrap();
    }
    let events = db::activity::latest_for_users(&mut conn, &[id.as_str()], 100)
        .await
        .unwrap();
    let mut read_kinds: Vec<_> = events.iter().map(|row| row.kind).collect();
    read_kinds.reverse(); // newest first
    assert_eq!(read_kinds, kinds);
    assert!(events.iter().all(|row| row.auth_user_id == id));
    let mut texts: Vec<_> = kinds.iter().map(|kind| kind.as_db().to_owned()).collect();
    texts.sort();
    assert_eq!(stored(&mut conn, "activity_events", "kind").await, texts);
}

fn is_deserialization_error(result: Result<impl Sized, DieselError>) -> bool {
    matches!(result, Err(DieselError::DeserializationError(_)))
}

#[tokio::test]
async fn an_unknown_stored_value_fails_to_load() {
    let db = TestDatabase::create().await;
    let mut conn = connect(&db).await;
    let now = Utc::now();
    let id = AuthUserId::parse("typed-43").unwrap();
    db::auth_users::ensure(&mut conn, &id, None, now)
        .await
        .unwrap();
    db::goals::insert(&mut conn, &goal(&id, GoalStatus::InProgress, "Learn Rust"))
        .await
        .unwrap();
    db::activity::record(
        &mut conn,
        NewActivity::user(&id, ActivityKind::ProfileUpdated, "event"),
        now,
    )
    .await
    .unwrap();
    // A value written by a newer build (or by hand): lift the CHECKs of
    // this test's own database and store texts this build does not know.
    for statement in [
        "ALTER TABLE learning_goals DROP CONSTRAINT learning_goals_status_value",
        "ALTER TABLE profiles DROP CONSTRAINT profiles_plan_value",
        "ALTER TABLE profiles DROP CONSTRAINT profiles_visibility_value",
        "ALTER TABLE activity_events DROP CONSTRAINT activity_events_kind_value",
    ] {
        diesel::sql_query(statement)
            .execute(&mut conn)
            .await
            .unwrap();
    }

    // Before: everything loads.
    assert!(db::goals::for_users(&conn, &[id.as_str()]).await.is_ok());
    assert!(db::profiles::find(&mut conn, &id).await.is_ok());

    diesel::sql_query("UPDATE learning_goals SET status = 'ARCHIVED'")
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(is_deserialization_error(
        db::goals::for_users(&conn, &[id.as_str()]).await
    ));

    diesel::sql_query("UPDATE profiles SET plan = 'GOLD'")
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(is_deserialization_error(
        db::profiles::find(&mut conn, &id).await
    ));
    diesel::sql_query("UPDATE profiles SET plan = 'FREE', profile_visibility = 'FRIENDS'")
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(is_deserialization_error(
        db::profiles::find(&mut conn, &id).await
    ));

    diesel::sql_query("UPDATE activity_events SET kind = 'GOAL_SHARED'")
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(is_deserialization_error(
        db::activity::latest_for_users(&mut conn, &[id.as_str()], 10).await
    ));
}

#[tokio::test]
async fn a_malformed_stored_user_id_fails_to_load() {
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::Varchar)]
        id: AuthUserId,
    }
    let db = TestDatabase::create().await;
    let mut conn = connect(&db).await;
    let good = diesel::sql_query("SELECT 'user_42'::varchar AS id")
        .get_result::<Id>(&mut conn)
        .await
        .unwrap();
    assert_eq!(good.id.as_str(), "user_42");
    for bad in ["", "has space", "semi;colon"] {
        let result = diesel::sql_query("SELECT $1::varchar AS id")
            .bind::<Text, _>(bad)
            .get_result::<Id>(&mut conn)
            .await;
        assert!(is_deserialization_error(result), "{bad:?} was accepted");
    }
}
