//! `badges`: gamification badges a user has earned.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Deserialize;
use uuid::Uuid;

use crate::db::lists::ListedPerUser;
use crate::domain::AuthUserId;
use crate::schema::badges;

/// A row of `badges`.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable, Deserialize)]
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

/// A user's badges with the user (one JSON array), in [`for_users`]'s order.
impl ListedPerUser for BadgeRow {
    const JSON_OF_USER: &'static str = "SELECT coalesce(json_agg(b ORDER BY b.date_achieved DESC, b.id DESC), '[]') \
         FROM badges b WHERE b.auth_user_id = \"auth_users\".\"auth_user_id\"";
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
