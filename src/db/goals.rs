//! `learning_goals`: a user's learning goals and their streaks.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::lists::ListedPerUser;
use crate::domain::{AuthUserId, GoalStatus};
use crate::schema::learning_goals;

/// A row of `learning_goals`.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = learning_goals, check_for_backend(diesel::pg::Pg))]
pub struct GoalRow {
    pub id: Uuid,
    pub auth_user_id: AuthUserId,
    pub title: String,
    pub description: Option<String>,
    pub status: GoalStatus,
    pub streak_count: i32,
    pub last_check_in_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A change to a goal: `None` leaves a column alone, `Some(None)` clears it.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = learning_goals)]
pub struct GoalChanges {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub status: Option<GoalStatus>,
    pub streak_count: Option<i32>,
    pub last_check_in_on: Option<Option<NaiveDate>>,
}

/// Inserts a goal and returns it.
pub async fn insert(conn: &mut AsyncPgConnection, goal: &GoalRow) -> QueryResult<GoalRow> {
    diesel::insert_into(learning_goals::table)
        .values(goal)
        .returning(GoalRow::as_returning())
        .get_result(conn)
        .await
}

/// How many goals `owner` holds.
pub async fn count_owned(conn: &mut AsyncPgConnection, owner: &AuthUserId) -> QueryResult<i64> {
    learning_goals::table
        .filter(learning_goals::auth_user_id.eq(owner.as_str()))
        .count()
        .get_result(conn)
        .await
}

/// The goal `id` of `owner`, locked for update, if it exists and is theirs.
pub async fn find_owned_for_update(
    conn: &mut AsyncPgConnection,
    owner: &AuthUserId,
    id: Uuid,
) -> QueryResult<Option<GoalRow>> {
    learning_goals::table
        .filter(learning_goals::id.eq(id))
        .filter(learning_goals::auth_user_id.eq(owner.as_str()))
        .select(GoalRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Applies `changes` to the goal `id` of `owner`; `None` when there is no
/// such goal.
pub async fn update_owned(
    conn: &mut AsyncPgConnection,
    owner: &AuthUserId,
    id: Uuid,
    changes: &GoalChanges,
    now: DateTime<Utc>,
) -> QueryResult<Option<GoalRow>> {
    diesel::update(
        learning_goals::table
            .filter(learning_goals::id.eq(id))
            .filter(learning_goals::auth_user_id.eq(owner.as_str())),
    )
    .set((changes, learning_goals::updated_at.eq(now)))
    .returning(GoalRow::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// Deletes the goal `id` of `owner`; `None` when there is no such goal.
pub async fn delete_owned(
    conn: &mut AsyncPgConnection,
    owner: &AuthUserId,
    id: Uuid,
) -> QueryResult<Option<GoalRow>> {
    diesel::delete(
        learning_goals::table
            .filter(learning_goals::id.eq(id))
            .filter(learning_goals::auth_user_id.eq(owner.as_str())),
    )
    .returning(GoalRow::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// A user's goals with the user, in [`for_users`]'s order.
impl ListedPerUser for GoalRow {
    type Sql = (
        sql_types::Uuid,
        sql_types::Text,
        sql_types::Text,
        sql_types::Nullable<sql_types::Text>,
        sql_types::Text,
        sql_types::Integer,
        sql_types::Nullable<sql_types::Date>,
        sql_types::Timestamptz,
        sql_types::Timestamptz,
    );
    type Fields = (
        Uuid,
        AuthUserId,
        String,
        Option<String>,
        GoalStatus,
        i32,
        Option<NaiveDate>,
        DateTime<Utc>,
        DateTime<Utc>,
    );
    const ARRAY_OF_USER: &'static str = "SELECT array_agg(ROW(g.id, g.auth_user_id, g.title, g.description, \
         g.status, g.streak_count, g.last_check_in_on, g.created_at, g.updated_at) \
         ORDER BY g.created_at DESC, g.id DESC) \
         FROM learning_goals g WHERE g.auth_user_id = \"auth_users\".\"auth_user_id\"";

    fn from_fields(
        (
            id,
            auth_user_id,
            title,
            description,
            status,
            streak_count,
            last_check_in_on,
            created_at,
            updated_at,
        ): Self::Fields,
    ) -> Self {
        Self {
            id,
            auth_user_id,
            title,
            description,
            status,
            streak_count,
            last_check_in_on,
            created_at,
            updated_at,
        }
    }
}

/// The goals of every user in `user_ids`, newest first.
/// Takes a shared connection so it can be pipelined with other reads.
pub async fn for_users(
    mut conn: &AsyncPgConnection,
    user_ids: &[&str],
) -> QueryResult<Vec<GoalRow>> {
    learning_goals::table
        .filter(learning_goals::auth_user_id.eq_any(user_ids))
        .order((
            learning_goals::auth_user_id,
            learning_goals::created_at.desc(),
            learning_goals::id.desc(),
        ))
        .select(GoalRow::as_select())
        .load(&mut conn)
        .await
}

/// The goal `id`, whoever holds it.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<GoalRow>> {
    learning_goals::table
        .find(id)
        .select(GoalRow::as_select())
        .first(conn)
        .await
        .optional()
}
