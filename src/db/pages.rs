//! Keyset pages of a user's goals, badges and activity, many listings in
//! one statement: each page asked for is one element of the parallel
//! arrays bound to the statement (user, filter, position, limit), read with
//! `unnest ... WITH ORDINALITY` and joined laterally to its rows, so a
//! batch of pages for any number of users costs one statement.
//!
//! Every listing is ordered newest first on a unique key (timestamp, id),
//! the order of its `*_by_user` index; a page continues strictly after the
//! position of the last row of the previous one, so rows inserted between
//! two pages never shift it (no duplicates, no gaps).

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid, Varchar};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::activity::ActivityRow;
use crate::db::badges::BadgeRow;
use crate::db::goals::GoalRow;

/// A position in a listing: the sort timestamp and id of a row.
pub type Position = (DateTime<Utc>, Uuid);

/// One page asked for.
#[derive(Debug, Clone)]
pub struct PageQuery<'a> {
    pub user: &'a str,
    /// The listing's filter: a goal status, or activity kinds joined by
    /// commas; `None` for all.
    pub filter: Option<&'a str>,
    /// Rows strictly after this position; `None` from the start.
    pub after: Option<Position>,
    /// At most this many rows.
    pub limit: i64,
}

/// One listing a user's count is asked for.
#[derive(Debug, Clone)]
pub struct CountQuery<'a> {
    pub user: &'a str,
    pub filter: Option<&'a str>,
}

/// The three listings that page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Listing {
    Goals,
    Badges,
    Activity,
}

impl Listing {
    /// Table, sort column and filter condition (on `k.filter`) of the listing.
    fn sql(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Listing::Goals => (
                "learning_goals",
                "created_at",
                "(k.filter IS NULL OR t.status = k.filter)",
            ),
            Listing::Badges => ("badges", "date_achieved", "k.filter IS NULL"),
            Listing::Activity => (
                "activity_events",
                "occurred_at",
                "(k.filter IS NULL OR t.kind = ANY(string_to_array(k.filter, ',')))",
            ),
        }
    }

    /// The statement of a batch of pages: rows carry `page_key`, the
    /// 1-based index of their page in the batch.
    fn page_sql(self) -> String {
        let (table, sort, filter) = self.sql();
        format!(
            "SELECT k.ord AS page_key, t.*
               FROM unnest($1::varchar[], $2::text[], $3::timestamptz[], $4::uuid[], $5::int8[])
                    WITH ORDINALITY AS k(uid, filter, after_at, after_id, lim, ord)
               CROSS JOIN LATERAL (
                    SELECT * FROM {table} t
                     WHERE t.auth_user_id = k.uid AND {filter}
                       AND (k.after_at IS NULL OR (t.{sort}, t.id) < (k.after_at, k.after_id))
                     ORDER BY t.{sort} DESC, t.id DESC
                     LIMIT k.lim) t
              ORDER BY k.ord, t.{sort} DESC, t.id DESC"
        )
    }

    fn count_sql(self) -> String {
        let (table, _, filter) = self.sql();
        format!(
            "SELECT k.ord AS page_key,
                    (SELECT count(*) FROM {table} t WHERE t.auth_user_id = k.uid AND {filter}) AS total
               FROM unnest($1::varchar[], $2::text[]) WITH ORDINALITY AS k(uid, filter, ord)"
        )
    }
}

type PageBinds = (
    Vec<String>,
    Vec<Option<String>>,
    Vec<Option<DateTime<Utc>>>,
    Vec<Option<Uuid>>,
    Vec<i64>,
);

fn page_binds(pages: &[PageQuery<'_>]) -> PageBinds {
    (
        pages.iter().map(|page| page.user.to_owned()).collect(),
        pages
            .iter()
            .map(|page| page.filter.map(str::to_owned))
            .collect(),
        pages.iter().map(|page| page.after.map(|at| at.0)).collect(),
        pages.iter().map(|page| page.after.map(|at| at.1)).collect(),
        pages.iter().map(|page| page.limit.max(0)).collect(),
    )
}

async fn load_pages<R>(
    conn: &mut AsyncPgConnection,
    listing: Listing,
    pages: &[PageQuery<'_>],
) -> QueryResult<Vec<R>>
where
    R: QueryableByName<diesel::pg::Pg> + Send + 'static,
{
    let (users, filters, after_at, after_id, limits) = page_binds(pages);
    diesel::sql_query(listing.page_sql())
        .bind::<Array<Varchar>, _>(users)
        .bind::<Array<Nullable<Text>>, _>(filters)
        .bind::<Array<Nullable<Timestamptz>>, _>(after_at)
        .bind::<Array<Nullable<SqlUuid>>, _>(after_id)
        .bind::<Array<BigInt>, _>(limits)
        .load(conn)
        .await
}

/// Groups `(page_key, row)` into one list per page, in the order asked.
fn per_page<T>(count: usize, rows: impl IntoIterator<Item = (i64, T)>) -> Vec<Vec<T>> {
    let mut pages: Vec<Vec<T>> = (0..count).map(|_| Vec::new()).collect();
    for (key, row) in rows {
        if let Some(page) = usize::try_from(key - 1)
            .ok()
            .and_then(|index| pages.get_mut(index))
        {
            page.push(row);
        }
    }
    pages
}

#[derive(QueryableByName)]
struct GoalInPage {
    #[diesel(sql_type = BigInt)]
    page_key: i64,
    #[diesel(embed)]
    row: GoalRow,
}

#[derive(QueryableByName)]
struct BadgeInPage {
    #[diesel(sql_type = BigInt)]
    page_key: i64,
    #[diesel(embed)]
    row: BadgeRow,
}

#[derive(QueryableByName)]
struct ActivityInPage {
    #[diesel(sql_type = BigInt)]
    page_key: i64,
    #[diesel(embed)]
    row: ActivityRow,
}

/// A page of goals (newest first) for each of `pages`, in order.
pub async fn goal_pages(
    conn: &mut AsyncPgConnection,
    pages: &[PageQuery<'_>],
) -> QueryResult<Vec<Vec<GoalRow>>> {
    let rows: Vec<GoalInPage> = load_pages(conn, Listing::Goals, pages).await?;
    Ok(per_page(
        pages.len(),
        rows.into_iter().map(|row| (row.page_key, row.row)),
    ))
}

/// A page of badges (newest `date_achieved` first) for each of `pages`.
pub async fn badge_pages(
    conn: &mut AsyncPgConnection,
    pages: &[PageQuery<'_>],
) -> QueryResult<Vec<Vec<BadgeRow>>> {
    let rows: Vec<BadgeInPage> = load_pages(conn, Listing::Badges, pages).await?;
    Ok(per_page(
        pages.len(),
        rows.into_iter().map(|row| (row.page_key, row.row)),
    ))
}

/// A page of activity events (newest first) for each of `pages`.
pub async fn activity_pages(
    conn: &mut AsyncPgConnection,
    pages: &[PageQuery<'_>],
) -> QueryResult<Vec<Vec<ActivityRow>>> {
    let rows: Vec<ActivityInPage> = load_pages(conn, Listing::Activity, pages).await?;
    Ok(per_page(
        pages.len(),
        rows.into_iter().map(|row| (row.page_key, row.row)),
    ))
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    page_key: i64,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// How many rows each of `counts` holds in `listing`, in order.
pub async fn totals(
    conn: &mut AsyncPgConnection,
    listing: Listing,
    counts: &[CountQuery<'_>],
) -> QueryResult<Vec<i64>> {
    let users: Vec<&str> = counts.iter().map(|count| count.user).collect();
    let filters: Vec<Option<&str>> = counts.iter().map(|count| count.filter).collect();
    let rows: Vec<CountRow> = diesel::sql_query(listing.count_sql())
        .bind::<Array<Varchar>, _>(users)
        .bind::<Array<Nullable<Text>>, _>(filters)
        .load(conn)
        .await?;
    let mut totals = vec![0; counts.len()];
    for row in rows {
        if let Some(slot) = usize::try_from(row.page_key - 1)
            .ok()
            .and_then(|index| totals.get_mut(index))
        {
            *slot = row.total;
        }
    }
    Ok(totals)
}
