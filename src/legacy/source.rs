//! Reading a legacy FastAPI user-service database: which of its two
//! schemas it has ([`detect`]) and its rows, in batches ordered by their
//! legacy id (keyset pagination, so a batch costs the same at any depth).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Date, Integer, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// The two schemas the FastAPI service had (README, "Importing from the
/// FastAPI service").
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LegacySchema {
    /// The first version: profiles on `users` (integer ids), `badges` and
    /// `learning_goals` referencing `users.id` through `user_id`.
    V1,
    /// The later one: `auth_users` (the auth-service's string ids),
    /// `profiles`, `badges` and `learning_goals` referencing it through
    /// `auth_user_id` (UUID ids).
    V2,
}

impl LegacySchema {
    pub fn describe(self) -> &'static str {
        match self {
            Self::V1 => "v1 (users, badges.user_id, learning_goals.user_id)",
            Self::V2 => {
                "v2 (auth_users, profiles, badges.auth_user_id, learning_goals.auth_user_id)"
            }
        }
    }
}

/// Why a source cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(
        "the source looks like a user-service database (it has diesel's migrations table), not a legacy one"
    )]
    OwnDatabase,
    #[error(
        "neither legacy schema was found (v1: users + badges.user_id; v2: auth_users + badges.auth_user_id); pass --schema to force one"
    )]
    Unknown,
    #[error("reading the legacy database failed: {0}")]
    Query(#[from] diesel::result::Error),
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn count(conn: &mut AsyncPgConnection, sql: &'static str) -> Result<i64, SourceError> {
    Ok(diesel::sql_query(sql).get_result::<Found>(conn).await?.n)
}

/// Which schema the database at `conn` has.
pub async fn detect(conn: &mut AsyncPgConnection) -> Result<LegacySchema, SourceError> {
    let own = count(
        conn,
        "SELECT count(*) AS n FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_name = '__diesel_schema_migrations'",
    )
    .await?;
    if own > 0 {
        return Err(SourceError::OwnDatabase);
    }
    let column = |table: &'static str, column: &'static str| {
        format!(
            "SELECT count(*) AS n FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = '{table}' AND column_name = '{column}'"
        )
    };
    let has = async |conn: &mut AsyncPgConnection, sql: String| -> Result<bool, SourceError> {
        Ok(diesel::sql_query(sql).get_result::<Found>(conn).await?.n > 0)
    };
    if has(conn, column("auth_users", "id")).await?
        && has(conn, column("badges", "auth_user_id")).await?
    {
        return Ok(LegacySchema::V2);
    }
    if has(conn, column("users", "id")).await? && has(conn, column("badges", "user_id")).await? {
        return Ok(LegacySchema::V1);
    }
    Err(SourceError::Unknown)
}

/// A legacy user as read, before any rule.
#[derive(Debug, Clone, QueryableByName)]
pub struct RawUser {
    /// The legacy primary key, as text (the keyset cursor).
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub username: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub email: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub display_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub bio: Option<String>,
    #[diesel(sql_type = Nullable<Array<Nullable<Text>>>)]
    pub skills: Option<Vec<Option<String>>>,
    #[diesel(sql_type = Nullable<Text>)]
    pub headline: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub location: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub website_url: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub avatar_url: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub plan: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub created_at: Option<DateTime<Utc>>,
}

/// A legacy badge as read.
#[derive(Debug, Clone, QueryableByName)]
pub struct RawBadge {
    #[diesel(sql_type = Text)]
    pub key: String,
    /// The owner's legacy id, as text.
    #[diesel(sql_type = Nullable<Text>)]
    pub owner: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub description: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub icon_url: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub date_achieved: Option<DateTime<Utc>>,
}

/// A legacy learning goal as read.
#[derive(Debug, Clone, QueryableByName)]
pub struct RawGoal {
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub owner: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub title: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub description: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub status: Option<String>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub streak_count: Option<i32>,
    #[diesel(sql_type = Nullable<Date>)]
    pub last_check_in_on: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub created_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub updated_at: Option<DateTime<Utc>>,
}

// v1 stores naive `TIMESTAMP`s (SQLAlchemy's default), read as UTC; v2
// stores `TIMESTAMPTZ`. `$1` is the last key of the previous batch (null
// for the first), `$2` the batch size.

const V1_USERS: &str = "SELECT id::text AS key, username::text AS username, email::text AS email, \
    full_name::text AS display_name, bio::text AS bio, skills::text[] AS skills, \
    NULL::text AS headline, location::text AS location, website::text AS website_url, \
    avatar_url::text AS avatar_url, \
    CASE WHEN is_premium IS NULL THEN NULL WHEN is_premium THEN 'premium' ELSE 'free' END AS plan, \
    created_at AT TIME ZONE 'UTC' AS created_at \
    FROM users WHERE ($1::text IS NULL OR id > $1::bigint) ORDER BY id LIMIT $2";

const V2_USERS: &str = "SELECT a.id::text AS key, a.username::text AS username, a.email::text AS email, \
    p.display_name::text AS display_name, p.bio::text AS bio, p.skills::text[] AS skills, \
    p.headline::text AS headline, p.location::text AS location, p.website_url::text AS website_url, \
    p.avatar_url::text AS avatar_url, COALESCE(p.plan::text, 'free') AS plan, a.created_at AS created_at \
    FROM auth_users a LEFT JOIN profiles p ON p.auth_user_id = a.id \
    WHERE ($1::text IS NULL OR a.id::text > $1) ORDER BY a.id::text LIMIT $2";

const V1_BADGES: &str = "SELECT id::text AS key, user_id::text AS owner, name::text AS name, \
    description::text AS description, icon_url::text AS icon_url, \
    date_achieved AT TIME ZONE 'UTC' AS date_achieved \
    FROM badges WHERE ($1::text IS NULL OR id > $1::bigint) ORDER BY id LIMIT $2";

const V2_BADGES: &str = "SELECT id::text AS key, auth_user_id::text AS owner, name::text AS name, \
    description::text AS description, icon_url::text AS icon_url, date_achieved AS date_achieved \
    FROM badges WHERE ($1::text IS NULL OR id::text > $1) ORDER BY id::text LIMIT $2";

const V1_GOALS: &str = "SELECT id::text AS key, user_id::text AS owner, title::text AS title, \
    description::text AS description, status::text AS status, streak_count AS streak_count, \
    NULL::date AS last_check_in_on, created_at AT TIME ZONE 'UTC' AS created_at, \
    updated_at AT TIME ZONE 'UTC' AS updated_at \
    FROM learning_goals WHERE ($1::text IS NULL OR id > $1::bigint) ORDER BY id LIMIT $2";

const V2_GOALS: &str = "SELECT id::text AS key, auth_user_id::text AS owner, title::text AS title, \
    description::text AS description, status::text AS status, streak_count AS streak_count, \
    last_check_in_on AS last_check_in_on, created_at AS created_at, updated_at AS updated_at \
    FROM learning_goals WHERE ($1::text IS NULL OR id::text > $1) ORDER BY id::text LIMIT $2";

async fn batch<T: QueryableByName<diesel::pg::Pg> + Send + 'static>(
    conn: &mut AsyncPgConnection,
    sql: &'static str,
    after: Option<&str>,
    size: i64,
) -> Result<Vec<T>, SourceError> {
    Ok(diesel::sql_query(sql)
        .bind::<Nullable<Text>, _>(after)
        .bind::<BigInt, _>(size)
        .load(conn)
        .await?)
}

/// The next `size` users after the key `after`.
pub async fn users(
    conn: &mut AsyncPgConnection,
    schema: LegacySchema,
    after: Option<&str>,
    size: i64,
) -> Result<Vec<RawUser>, SourceError> {
    let sql = match schema {
        LegacySchema::V1 => V1_USERS,
        LegacySchema::V2 => V2_USERS,
    };
    batch(conn, sql, after, size).await
}

/// The next `size` badges after the key `after`.
pub async fn badges(
    conn: &mut AsyncPgConnection,
    schema: LegacySchema,
    after: Option<&str>,
    size: i64,
) -> Result<Vec<RawBadge>, SourceError> {
    let sql = match schema {
        LegacySchema::V1 => V1_BADGES,
        LegacySchema::V2 => V2_BADGES,
    };
    batch(conn, sql, after, size).await
}

/// The next `size` goals after the key `after`.
pub async fn goals(
    conn: &mut AsyncPgConnection,
    schema: LegacySchema,
    after: Option<&str>,
    size: i64,
) -> Result<Vec<RawGoal>, SourceError> {
    let sql = match schema {
        LegacySchema::V1 => V1_GOALS,
        LegacySchema::V2 => V2_GOALS,
    };
    batch(conn, sql, after, size).await
}
