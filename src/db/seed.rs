//! `seed`: bulk-loads deterministic demo and benchmark data in one
//! transaction, then `ANALYZE`s the tables so the planner has statistics
//! (a cluster without autovacuum would otherwise plan sequential scans).
//!
//! Users `u00001` … `uNNNNN`, each with a profile, `badges` badges and
//! `goals` learning goals. Every value is a function of the user number `i`
//! and the item number `k`: the same formulas as the benchmark kit's
//! `seed.sql` (`../shared/bench`), so a service seeded here answers the
//! same content as the kit's database for the same `authUserId`. Row ids
//! are random (`gen_random_uuid()`); "newest first" orders follow `k`.

use diesel::sql_types::Integer;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

/// Most users one seed may create.
pub const MAX_USERS: u32 = 1_000_000;
/// Most badges or goals per user one seed may create.
pub const MAX_ITEMS_PER_USER: u32 = 1_000;

/// What to seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedPlan {
    pub users: u32,
    pub badges_per_user: u32,
    pub goals_per_user: u32,
    /// Delete the seed's users (and everything they own) first, instead of
    /// refusing when some of them exist.
    pub replace: bool,
}

/// Rows written by a seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeedReport {
    pub users: usize,
    pub badges: usize,
    pub goals: usize,
    /// Users (with what they owned) deleted first, under `replace`.
    pub replaced: usize,
}

/// Why a seed did not run.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("at most {MAX_USERS} users and {MAX_ITEMS_PER_USER} badges or goals per user")]
    TooLarge,
    #[error("{0} of the seed's users already exist; pass --replace to delete and re-create them")]
    UsersExist(i64),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// The seed's user id of user number `i` (SQL, over a column `i`).
const USER_ID: &str = "'u' || lpad(i::text, greatest(5, length(i::text)), '0')";

fn user_ids_sql() -> String {
    format!("SELECT {USER_ID} FROM generate_series(1, $1) AS i")
}

fn auth_users_sql() -> String {
    format!(
        "INSERT INTO auth_users (auth_user_id, username, email, source_event_at, created_at, updated_at)
         SELECT {USER_ID},
                'user' || lpad(i::text, greatest(5, length(i::text)), '0'),
                'user' || lpad(i::text, greatest(5, length(i::text)), '0') || '@example.com',
                t.at, t.at, t.at
         FROM generate_series(1, $1) AS i,
              LATERAL (SELECT timestamptz '2024-01-01 00:00:00+00' + i * interval '37 minutes' AS at) AS t
         ORDER BY i"
    )
}

fn profiles_sql() -> String {
    format!(
        "INSERT INTO profiles (auth_user_id, display_name, bio, skills, headline, location,
                               website_url, avatar_url, plan, created_at, updated_at)
         SELECT {USER_ID},
                (ARRAY['Ada','Grace','Alan','Edsger','Barbara','Donald','Margaret','Linus','Ken','Radia'])[1 + i % 10]
                  || ' ' || (ARRAY['Lovelace','Hopper','Turing','Dijkstra','Liskov','Knuth','Hamilton',
                                   'Torvalds','Thompson','Perlman'])[1 + (i / 10) % 10]
                  || ' ' || i,
                'Learner #' || i || '. Interested in distributed systems, type theory and '
                  || 'teaching; currently working through a backlog of papers and katas, '
                  || 'one check-in at a time.',
                CASE i % 5
                  WHEN 0 THEN ARRAY['rust','sql','graphql']
                  WHEN 1 THEN ARRAY['python','postgres','docker','kubernetes']
                  WHEN 2 THEN ARRAY['typescript','react']
                  WHEN 3 THEN ARRAY['go','grpc','observability','linux','networking']
                  ELSE ARRAY['haskell','category theory','compilers'] END,
                (ARRAY['Backend engineer','Student','Data scientist','SRE','Founder'])[1 + i % 5]
                  || ' at ' || (ARRAY['Acme','Initech','Globex','Umbrella','Hooli','Vandelay'])[1 + i % 6],
                (ARRAY['Berlin, DE','Lagos, NG','Lima, PE','Osaka, JP','Austin, US','Pune, IN'])[1 + i % 6],
                'https://example.com/~user' || i,
                'https://cdn.example.com/avatars/' || i || '.png',
                CASE WHEN i % 5 = 0 THEN 'PREMIUM' ELSE 'FREE' END,
                t.at, t.at
         FROM generate_series(1, $1) AS i,
              LATERAL (SELECT timestamptz '2024-01-01 00:00:00+00' + i * interval '37 minutes' AS at) AS t
         ORDER BY i"
    )
}

fn badges_sql() -> String {
    format!(
        "INSERT INTO badges (id, auth_user_id, name, description, icon_url, date_achieved, created_at)
         SELECT gen_random_uuid(), {USER_ID},
                (ARRAY['First Steps','Streak Starter','Week Warrior','Bookworm','Night Owl','Early Bird',
                       'Goal Getter','Marathoner','Helper','Explorer','Perfectionist','Centurion'])[1 + (i * 7 + k) % 12],
                'Awarded for milestone ' || k || ' of learner ' || i || '.',
                'https://cdn.example.com/badges/' || (1 + (i * 7 + k) % 12) || '.svg',
                t.at, t.at
         FROM generate_series(1, $1) AS i, generate_series(1, $2) AS k,
              LATERAL (SELECT timestamptz '2024-01-01 00:00:00+00' + i * interval '37 minutes'
                              + k * interval '3 days' + (i % 11) * interval '1 hour' AS at) AS t
         ORDER BY i, k"
    )
}

fn goals_sql() -> String {
    format!(
        "INSERT INTO learning_goals (id, auth_user_id, title, description, status, streak_count,
                                     last_check_in_on, created_at, updated_at)
         SELECT gen_random_uuid(), {USER_ID},
                (ARRAY['Learn Rust ownership','Read SICP','Ship a side project','Practice SQL daily',
                       'Run 5k','Finish the compilers course','Write a blog post a week'])[1 + (i + k) % 7]
                  || ' (' || k || ')',
                'Goal ' || k || ' of learner ' || i || ': a small, concrete, checkable habit '
                  || 'with a weekly target and a streak.',
                (ARRAY['NOT_STARTED','IN_PROGRESS','COMPLETED'])[1 + (i + k) % 3],
                (i * k) % 30,
                CASE WHEN (i + k) % 3 = 0 THEN NULL ELSE date '2025-01-01' + ((i * 13 + k) % 300) END,
                timestamptz '2024-01-01 00:00:00+00' + i * interval '37 minutes' + k * interval '2 days',
                timestamptz '2024-01-01 00:00:00+00' + i * interval '37 minutes' + k * interval '2 days'
                  + ((i + k) % 48) * interval '1 hour'
         FROM generate_series(1, $1) AS i, generate_series(1, $2) AS k
         ORDER BY i, k"
    )
}

/// Loads `plan` in one transaction, then analyzes the tables it wrote.
#[tracing::instrument(skip(conn))]
pub async fn seed(conn: &mut AsyncPgConnection, plan: SeedPlan) -> Result<SeedReport, SeedError> {
    if plan.users > MAX_USERS
        || plan.badges_per_user > MAX_ITEMS_PER_USER
        || plan.goals_per_user > MAX_ITEMS_PER_USER
    {
        return Err(SeedError::TooLarge);
    }
    // Bounded above, so these fit an INTEGER.
    let users = i32::try_from(plan.users).map_err(|_| SeedError::TooLarge)?;
    let badges = i32::try_from(plan.badges_per_user).map_err(|_| SeedError::TooLarge)?;
    let goals = i32::try_from(plan.goals_per_user).map_err(|_| SeedError::TooLarge)?;
    let report = conn
        .transaction(async |conn| {
            let mut report = SeedReport::default();
            if plan.replace {
                report.replaced = diesel::sql_query(format!(
                    "DELETE FROM auth_users WHERE auth_user_id IN ({})",
                    user_ids_sql()
                ))
                .bind::<Integer, _>(users)
                .execute(conn)
                .await?;
            } else {
                let existing: CountRow = diesel::sql_query(format!(
                    "SELECT count(*) AS n FROM auth_users WHERE auth_user_id IN ({})",
                    user_ids_sql()
                ))
                .bind::<Integer, _>(users)
                .get_result(conn)
                .await?;
                if existing.n > 0 {
                    return Err(SeedError::UsersExist(existing.n));
                }
            }
            report.users = diesel::sql_query(auth_users_sql())
                .bind::<Integer, _>(users)
                .execute(conn)
                .await?;
            diesel::sql_query(profiles_sql())
                .bind::<Integer, _>(users)
                .execute(conn)
                .await?;
            report.badges = diesel::sql_query(badges_sql())
                .bind::<Integer, _>(users)
                .bind::<Integer, _>(badges)
                .execute(conn)
                .await?;
            report.goals = diesel::sql_query(goals_sql())
                .bind::<Integer, _>(users)
                .bind::<Integer, _>(goals)
                .execute(conn)
                .await?;
            Ok::<_, SeedError>(report)
        })
        .await?;
    diesel::sql_query("ANALYZE auth_users, profiles, badges, learning_goals")
        .execute(conn)
        .await?;
    Ok(report)
}

#[derive(diesel::QueryableByName)]
struct CountRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}
