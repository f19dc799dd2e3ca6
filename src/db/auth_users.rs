//! `auth_users`: the reference row per auth-service user, and the joined
//! [`UserRecord`] (reference + profile) that `User` is built from.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::profiles::ProfileRow;
use crate::domain::AuthUserId;
use crate::schema::{auth_user_tombstones, auth_users, profiles};

/// A row of `auth_users`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = auth_users, check_for_backend(diesel::pg::Pg))]
pub struct AuthUserRow {
    pub auth_user_id: String,
    pub username: Option<String>,
    pub email: Option<String>,
    pub source_event_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A user as stored: the reference row and the profile.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub auth: AuthUserRow,
    pub profile: ProfileRow,
}

/// What the auth-service says about a user.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthUserDetails {
    pub username: Option<String>,
    pub email: Option<String>,
}

/// Loads the users among `ids` that are known, in no particular order.
pub async fn find_many(conn: &mut AsyncPgConnection, ids: &[&str]) -> QueryResult<Vec<UserRecord>> {
    let rows: Vec<(AuthUserRow, ProfileRow)> = auth_users::table
        .inner_join(profiles::table)
        .filter(auth_users::auth_user_id.eq_any(ids))
        .select((AuthUserRow::as_select(), ProfileRow::as_select()))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(auth, profile)| UserRecord { auth, profile })
        .collect())
}

/// Whether the service holds a reference row for `id`.
pub async fn exists(conn: &mut AsyncPgConnection, id: &AuthUserId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(auth_users::table.find(id.as_str())))
        .get_result(conn)
        .await
}

/// Makes sure `id` has its reference row and profile, creating them with
/// `details` when missing. An existing row is left as it is. Call it inside
/// the transaction of the change that needs the user.
pub async fn ensure(
    conn: &mut AsyncPgConnection,
    id: &AuthUserId,
    details: Option<&AuthUserDetails>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let details = details.cloned().unwrap_or_default();
    diesel::insert_into(auth_users::table)
        .values((
            auth_users::auth_user_id.eq(id.as_str()),
            auth_users::username.eq(details.username),
            auth_users::email.eq(details.email),
            auth_users::created_at.eq(now),
            auth_users::updated_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    crate::db::profiles::ensure(conn, id, now).await
}

/// When the auth-service deleted `id`, if it did.
pub async fn tombstone(
    conn: &mut AsyncPgConnection,
    id: &AuthUserId,
) -> QueryResult<Option<DateTime<Utc>>> {
    auth_user_tombstones::table
        .find(id.as_str())
        .select(auth_user_tombstones::deleted_at)
        .first(conn)
        .await
        .optional()
}
