//! `auth_users`: the reference row per auth-service user, and the joined
//! [`UserRecord`] (reference + profile) that `User` is built from.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::db::badges::BadgeRow;
use crate::db::goals::GoalRow;
use crate::db::group_by_user;
use crate::db::lists::{ListOfUser, Rows};
use crate::db::profiles::ProfileRow;
use crate::domain::AuthUserId;
use crate::schema::{auth_user_tombstones, auth_users, profiles};

/// A row of `auth_users`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = auth_users, check_for_backend(diesel::pg::Pg))]
pub struct AuthUserRow {
    pub auth_user_id: AuthUserId,
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
/// Takes a shared connection so it can be pipelined with other reads.
pub async fn find_many(mut conn: &AsyncPgConnection, ids: &[&str]) -> QueryResult<Vec<UserRecord>> {
    let rows: Vec<(AuthUserRow, ProfileRow)> = auth_users::table
        .inner_join(profiles::table)
        .filter(auth_users::auth_user_id.eq_any(ids))
        .select((AuthUserRow::as_select(), ProfileRow::as_select()))
        .load(&mut conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(auth, profile)| UserRecord { auth, profile })
        .collect())
}

/// A known user with the lists the caller asked for (`None` when not
/// asked).
#[derive(Debug)]
pub struct UserWithLists {
    pub record: UserRecord,
    pub badges: Option<Vec<BadgeRow>>,
    pub goals: Option<Vec<GoalRow>>,
}

/// Loads the users among `ids` that are known, in no particular order,
/// each with their badges and goals when asked. A fixed number of
/// statements, whatever the number of users:
///
/// - one id (`user`, `me`, an entity): one statement, the lists as array
///   columns ([`crate::db::lists`]), keyed by `= $1` so that PostgreSQL
///   settles on a generic plan after five runs instead of planning each
///   call again (it keeps planning `= ANY($1)` for a one-element array,
///   whose generic plan it costs for ten);
/// - several ids (`users`): the users, badges and goals statements sent
///   together on the one connection (pipelined), each `= ANY($1)`: an
///   aggregate per user costs PostgreSQL more than plain rows once there
///   are a few users (BENCHMARKS.md).
pub async fn find_many_with_lists(
    conn: &mut AsyncPgConnection,
    ids: &[&str],
    badges: bool,
    goals: bool,
) -> QueryResult<Vec<UserWithLists>> {
    if let [id] = ids {
        return Ok(find_one_with_lists(conn, id, badges, goals)
            .await?
            .into_iter()
            .collect());
    }
    let shared: &AsyncPgConnection = conn;
    // Polled together: one round trip on one connection.
    let (records, mut badge_rows, mut goal_rows) = futures::try_join!(
        find_many(shared, ids),
        read_if(badges, crate::db::badges::for_users(shared, ids), |row| {
            &row.auth_user_id
        }),
        read_if(goals, crate::db::goals::for_users(shared, ids), |row| {
            &row.auth_user_id
        }),
    )?;
    Ok(records
        .into_iter()
        .map(|record| {
            let id = &record.auth.auth_user_id;
            UserWithLists {
                badges: badge_rows
                    .as_mut()
                    .map(|rows| rows.remove(id).unwrap_or_default()),
                goals: goal_rows
                    .as_mut()
                    .map(|rows| rows.remove(id).unwrap_or_default()),
                record,
            }
        })
        .collect())
}

/// The user `id` with the lists asked for, in one statement.
async fn find_one_with_lists(
    conn: &mut AsyncPgConnection,
    id: &str,
    badges: bool,
    goals: bool,
) -> QueryResult<Option<UserWithLists>> {
    type Row = (
        AuthUserRow,
        ProfileRow,
        Option<Rows<BadgeRow>>,
        Option<Rows<GoalRow>>,
    );
    let row: Option<Row> = auth_users::table
        .inner_join(profiles::table)
        .filter(auth_users::auth_user_id.eq(id))
        .select((
            AuthUserRow::as_select(),
            ProfileRow::as_select(),
            ListOfUser::<BadgeRow>::new(badges),
            ListOfUser::<GoalRow>::new(goals),
        ))
        .get_result(conn)
        .await
        .optional()?;
    Ok(
        row.map(|(auth, profile, badge_rows, goal_rows)| UserWithLists {
            record: UserRecord { auth, profile },
            badges: Rows::wanted(badges, badge_rows),
            goals: Rows::wanted(goals, goal_rows),
        }),
    )
}

/// Runs `read` when `wanted` and groups its rows by user, else yields
/// nothing.
async fn read_if<R>(
    wanted: bool,
    read: impl Future<Output = QueryResult<Vec<R>>>,
    user_of: impl Fn(&R) -> &AuthUserId,
) -> QueryResult<Option<HashMap<AuthUserId, Vec<R>>>> {
    if !wanted {
        return Ok(None);
    }
    Ok(Some(group_by_user(read.await?, user_of)))
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

/// Locks the reference row of `id` (`SELECT ... FOR UPDATE`) until the
/// transaction ends, so that changes counted against a per-user cap are
/// serialised per user. Call it inside a transaction, after [`ensure`].
pub async fn lock_for_update(conn: &mut AsyncPgConnection, id: &AuthUserId) -> QueryResult<()> {
    auth_users::table
        .find(id.as_str())
        .select(auth_users::auth_user_id)
        .for_update()
        .first::<AuthUserId>(conn)
        .await
        .map(drop)
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

/// What applying an auth-service event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventEffect {
    /// The event changed the stored state.
    Applied,
    /// The event was older than (or as old as) what is stored: nothing
    /// changed. Redeliveries end here.
    Stale,
}

/// Serialises the event transactions of one user, across consumers and
/// processes, so a concurrent create and delete cannot interleave.
async fn lock_user(conn: &mut AsyncPgConnection, id: &AuthUserId) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 727274))")
        .bind::<diesel::sql_types::Text, _>(id.as_str())
        .execute(conn)
        .await
        .map(drop)
}

/// Applies a `UserCreated` or `UserUpdated` event that happened at
/// `occurred_at`, in one transaction: the reference row is inserted or
/// updated (and the profile created) unless the stored row or the user's
/// tombstone is as new or newer. An event newer than the tombstone brings
/// the user back and removes the tombstone (last writer wins by
/// `occurred_at`).
#[tracing::instrument(skip(conn, details, now), fields(auth_user_id = %id))]
pub async fn apply_user_upsert(
    conn: &mut AsyncPgConnection,
    id: &AuthUserId,
    details: &AuthUserDetails,
    occurred_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<EventEffect> {
    conn.transaction(async |conn| {
        lock_user(conn, id).await?;
        if let Some(deleted_at) = tombstone(conn, id).await? {
            if occurred_at <= deleted_at {
                return Ok(EventEffect::Stale);
            }
            diesel::delete(auth_user_tombstones::table.find(id.as_str()))
                .execute(conn)
                .await?;
        }
        let upsert = diesel::insert_into(auth_users::table)
            .values((
                auth_users::auth_user_id.eq(id.as_str()),
                auth_users::username.eq(details.username.as_deref()),
                auth_users::email.eq(details.email.as_deref()),
                auth_users::source_event_at.eq(occurred_at),
                auth_users::created_at.eq(now),
                auth_users::updated_at.eq(now),
            ))
            .on_conflict(auth_users::auth_user_id)
            .do_update()
            .set((
                auth_users::username.eq(details.username.as_deref()),
                auth_users::email.eq(details.email.as_deref()),
                auth_users::source_event_at.eq(occurred_at),
                auth_users::updated_at.eq(now),
            ));
        // Only an older (or token-made) row is overwritten.
        let changed = diesel::query_dsl::methods::FilterDsl::filter(
            upsert,
            auth_users::source_event_at
                .is_null()
                .or(auth_users::source_event_at.lt(occurred_at)),
        )
        .execute(conn)
        .await?;
        if changed == 0 {
            return Ok(EventEffect::Stale);
        }
        crate::db::profiles::ensure(conn, id, now).await?;
        Ok(EventEffect::Applied)
    })
    .await
}

/// Applies a `UserDeleted` event that happened at `occurred_at`, in one
/// transaction: erases the user (every owned row goes with the reference
/// row, ON DELETE CASCADE) and keeps a tombstone holding the newest
/// deletion time. A user recreated by a newer event is left alone.
#[tracing::instrument(skip(conn), fields(auth_user_id = %id))]
pub async fn apply_user_deleted(
    conn: &mut AsyncPgConnection,
    id: &AuthUserId,
    occurred_at: DateTime<Utc>,
) -> QueryResult<EventEffect> {
    conn.transaction(async |conn| {
        lock_user(conn, id).await?;
        let newer_row = diesel::select(diesel::dsl::exists(
            auth_users::table
                .find(id.as_str())
                .filter(auth_users::source_event_at.gt(occurred_at)),
        ))
        .get_result::<bool>(conn)
        .await?;
        if newer_row {
            return Ok(EventEffect::Stale);
        }
        let erased = diesel::delete(auth_users::table.find(id.as_str()))
            .execute(conn)
            .await?;
        let previous = tombstone(conn, id).await?;
        if previous.is_some_and(|deleted_at| deleted_at >= occurred_at) {
            return Ok(if erased > 0 {
                EventEffect::Applied
            } else {
                EventEffect::Stale
            });
        }
        diesel::insert_into(auth_user_tombstones::table)
            .values((
                auth_user_tombstones::auth_user_id.eq(id.as_str()),
                auth_user_tombstones::deleted_at.eq(occurred_at),
            ))
            .on_conflict(auth_user_tombstones::auth_user_id)
            .do_update()
            .set(auth_user_tombstones::deleted_at.eq(occurred_at))
            .execute(conn)
            .await?;
        Ok(EventEffect::Applied)
    })
    .await
}

/// Up to `limit` users, after `after` in id order, whose username is still
/// unknown because their row was made for a token while the auth-service
/// could not tell (no event has described them; an event's `null` is an
/// answer, not a gap).
pub async fn unknown_usernames(
    conn: &mut AsyncPgConnection,
    after: &str,
    limit: i64,
) -> QueryResult<Vec<String>> {
    auth_users::table
        .filter(auth_users::username.is_null())
        .filter(auth_users::source_event_at.is_null())
        .filter(auth_users::auth_user_id.gt(after))
        .order(auth_users::auth_user_id.asc())
        .select(auth_users::auth_user_id)
        .limit(limit)
        .load(conn)
        .await
}

/// Stores what the auth-service said about a user whose username was
/// unknown, unless an event (the authoritative source) or another lookup
/// got there first. A missing email keeps the stored one. Whether the row
/// changed.
pub async fn fill_unknown_details(
    conn: &mut AsyncPgConnection,
    id: &AuthUserId,
    details: &AuthUserDetails,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let target = auth_users::table
        .find(id.as_str())
        .filter(auth_users::username.is_null())
        .filter(auth_users::source_event_at.is_null());
    let changed = match details.email.as_deref() {
        Some(email) => {
            diesel::update(target)
                .set((
                    auth_users::username.eq(details.username.as_deref()),
                    auth_users::email.eq(email),
                    auth_users::updated_at.eq(now),
                ))
                .execute(conn)
                .await?
        }
        None => {
            diesel::update(target)
                .set((
                    auth_users::username.eq(details.username.as_deref()),
                    auth_users::updated_at.eq(now),
                ))
                .execute(conn)
                .await?
        }
    };
    Ok(changed > 0)
}
