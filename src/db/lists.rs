//! A user's badges or goals as one JSON column of the user's statement,
//! so that reading one user with their lists (`user`, `me`, an entity,
//! with badges and goals) costs PostgreSQL one statement instead of three.
//!
//! [`ListOfUser`] is a select expression of diesel's own kind, written as
//!
//! ```sql
//! CASE WHEN $n THEN (SELECT coalesce(json_agg(b ORDER BY ...), '[]') FROM badges b
//!                    WHERE b.auth_user_id = "auth_users"."auth_user_id") END
//! ```
//!
//! with a static query id, so each connection prepares the statement once
//! (diesel will not cache a statement holding an `sql()` literal). The
//! flag is a bind rather than a second statement text: a document that
//! asks for neither list gets `NULL`s and PostgreSQL skips the subqueries.
//! The rows come back as [`JsonRows`], read with serde into the same row
//! types the tables load into.

use std::marker::PhantomData;

use diesel::QueryResult;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::is_aggregate;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::pg::{Pg, PgValue};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Bool, Json, Nullable};
use serde::de::DeserializeOwned;

/// A row type listed per user as JSON: the subquery that aggregates one
/// user's rows, correlated with `"auth_users"."auth_user_id"`, in the same
/// order as the table's own per-user listing.
pub trait ListedPerUser: DeserializeOwned + 'static {
    /// `SELECT coalesce(json_agg(... ORDER BY ...), '[]') FROM ... WHERE
    /// ... = "auth_users"."auth_user_id"`.
    const JSON_OF_USER: &'static str;
}

/// The select expression: the user's rows of `R` as a JSON array when
/// `wanted`, else `NULL`.
#[derive(Debug, Clone, Copy)]
pub struct ListOfUser<R> {
    wanted: bool,
    rows: PhantomData<fn() -> R>,
}

impl<R> ListOfUser<R> {
    pub fn new(wanted: bool) -> Self {
        Self {
            wanted,
            rows: PhantomData,
        }
    }
}

impl<R> Expression for ListOfUser<R> {
    type SqlType = Nullable<Json>;
}

impl<R: ListedPerUser> QueryFragment<Pg> for ListOfUser<R> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("CASE WHEN ");
        out.push_bind_param::<Bool, _>(&self.wanted)?;
        out.push_sql(" THEN (");
        out.push_sql(R::JSON_OF_USER);
        out.push_sql(") END");
        Ok(())
    }
}

impl<R: 'static> QueryId for ListOfUser<R> {
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<R, QS> AppearsOnTable<QS> for ListOfUser<R> {}

impl<R, QS> SelectableExpression<QS> for ListOfUser<R> {}

impl<R, GroupBy> ValidGrouping<GroupBy> for ListOfUser<R> {
    type IsAggregate = is_aggregate::Never;
}

/// Rows decoded from a JSON array built by PostgreSQL.
#[derive(Debug, FromSqlRow)]
pub struct JsonRows<R>(pub Vec<R>);

impl<R: DeserializeOwned> FromSql<Json, Pg> for JsonRows<R> {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        Ok(Self(serde_json::from_slice(value.as_bytes())?))
    }
}
