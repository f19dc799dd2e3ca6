//! `badges`: gamification badges a user has earned.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::lists::ListedPerUser;
use crate::domain::AuthUserId;
use crate::schema::badges;

/// A row of `badges`.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = badges, check_for_backend(diesel::pg::Pg))]
pub struct BadgeRow {
    pub id: Uuid,
    pub auth_user_id: AuthUserId,
    pub name: String,
    pub description: Option<String>,
    pub icon_url: Option<String>,
    pub date_achieved: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// Inserts a badge and returns it.
pub async fn insert(conn: &mut AsyncPgConnection, badge: &BadgeRow) -> QueryResult<BadgeRow> {
    diesel::insert_into(badges::table)
        .values(badge)
        .returning(BadgeRow::as_returning())
        .get_result(conn)
        .await
}

/// How many badges `owner` holds.
pub async fn count_owned(conn: &mut AsyncPgConnection, owner: &AuthUserId) -> QueryResult<i64> {
    badges::table
        .filter(badges::auth_user_id.eq(owner.as_str()))
        .count()
        .get_result(conn)
        .await
}

/// A user's badges with the user, in [`for_users`]'s order.
impl ListedPerUser for BadgeRow {
    type Sql = (
        sql_types::Uuid,
        sql_types::Text,
        sql_types::Text,
        sql_types::Nullable<sql_types::Text>,
        sql_types::Nullable<sql_types::Text>,
        sql_types::Timestamptz,
        sql_types::Timestamptz,
    );
    type Fields = (
        Uuid,
        AuthUserId,
        String,
        Option<String>,
        Option<String>,
        DateTime<Utc>,
        DateTime<Utc>,
    );
    const ARRAY_OF_USER: &'static str = "SELECT array_agg(ROW(b.id, b.auth_user_id, b.name, b.description, \
         b.icon_url, b.date_achieved, b.created_at) ORDER BY b.date_achieved DESC, b.id DESC) \
         FROM badges b WHERE b.auth_user_id = \"auth_users\".\"auth_user_id\"";

    fn from_fields(
        (id, auth_user_id, name, description, icon_url, date_achieved, created_at): Self::Fields,
    ) -> Self {
        Self {
            id,
            auth_user_id,
            name,
            description,
            icon_url,
            date_achieved,
            created_at,
        }
    }
}

/// The badges of every user in `user_ids`, newest `date_achieved` first.
/// Takes a shared connection so it can be pipelined with other reads.
pub async fn for_users(
    mut conn: &AsyncPgConnection,
    user_ids: &[&str],
) -> QueryResult<Vec<BadgeRow>> {
    badges::table
        .filter(badges::auth_user_id.eq_any(user_ids))
        .order((
            badges::auth_user_id,
            badges::date_achieved.desc(),
            badges::id.desc(),
        ))
        .select(BadgeRow::as_select())
        .load(&mut conn)
        .await
}
