//! Every migration has a down step that really undoes it.

use diesel::Connection;
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::MigrationHarness;
use user_service::db::MIGRATIONS;

use crate::helpers::TestDatabase;

#[tokio::test]
async fn migrations_revert_to_an_empty_schema_and_apply_again() {
    let db = TestDatabase::create().await; // a clone of the migrated template
    let url = db.url.clone();
    let tables = tokio::task::spawn_blocking(move || {
        let mut conn: AsyncConnectionWrapper<AsyncPgConnection> =
            Connection::establish(&url).expect("connect");
        conn.revert_all_migrations(MIGRATIONS).expect("revert all");
        let left = user_tables(&mut conn);
        let functions = own_functions(&mut conn);
        conn.run_pending_migrations(MIGRATIONS)
            .expect("apply again");
        (left, user_tables(&mut conn), functions)
    })
    .await
    .expect("blocking task");
    assert_eq!(
        tables.0,
        ["__diesel_schema_migrations"],
        "down.sql left tables behind"
    );
    assert_eq!(tables.2, 0, "down.sql left functions behind");
    assert_eq!(
        tables.1,
        [
            "__diesel_schema_migrations",
            "activity_events",
            "auth_user_tombstones",
            "auth_users",
            "badges",
            "learning_goals",
            "profiles"
        ]
    );
}

fn user_tables(conn: &mut AsyncConnectionWrapper<AsyncPgConnection>) -> Vec<String> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Table {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    diesel::sql_query(
        "SELECT tablename::text AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    )
    .load::<Table>(conn)
    .expect("list tables")
    .into_iter()
    .map(|table| table.name)
    .collect()
}

/// Functions in `public` that no extension owns.
fn own_functions(conn: &mut AsyncConnectionWrapper<AsyncPgConnection>) -> i64 {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(
        "SELECT count(*) AS n FROM pg_proc p JOIN pg_namespace s ON s.oid = p.pronamespace
          WHERE s.nspname = 'public'
            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')",
    )
    .get_result::<Count>(conn)
    .expect("count functions")
    .n
}
