//! A user's badges or goals as one column of the user's statement, so that
//! reading one user with their lists (`user`, `me`, an entity, with badges
//! and goals) costs PostgreSQL one statement instead of three.
//!
//! [`ListOfUser`] is a select expression of diesel's own kind, written as
//!
//! ```sql
//! CASE WHEN $n THEN (SELECT array_agg(ROW(b.id, ...) ORDER BY ...) FROM badges b
//!                    WHERE b.auth_user_id = "auth_users"."auth_user_id") END
//! ```
//!
//! with a static query id, so each connection prepares the statement once
//! (diesel will not cache a statement holding an `sql()` literal). The
//! flag is a bind rather than a second statement text: a document that
//! asks for neither list gets `NULL`s and PostgreSQL skips the subqueries.
//!
//! The rows travel as an array of anonymous records in PostgreSQL's binary
//! format, decoded field by field like any column: a list as JSON cost
//! the service a sixth of a `user` request in parsing text (timestamps,
//! UUIDs, escapes), and PostgreSQL more to write it.

use std::marker::PhantomData;

use diesel::QueryResult;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::is_aggregate;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::pg::{Pg, PgValue};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, Bool, Nullable, Record};

/// A row type listed per user: the subquery that aggregates one user's
/// rows, correlated with `"auth_users"."auth_user_id"`, in the same order
/// as the table's own per-user listing.
pub trait ListedPerUser: Sized + 'static {
    /// The SQL types of the `ROW(...)`, in its order.
    type Sql: 'static;
    /// What one `ROW(...)` decodes into.
    type Fields: FromSql<Record<Self::Sql>, Pg>;
    /// `SELECT array_agg(ROW(...) ORDER BY ...) FROM ... WHERE ... =
    /// "auth_users"."auth_user_id"`.
    const ARRAY_OF_USER: &'static str;

    fn from_fields(fields: Self::Fields) -> Self;
}

/// The select expression: the user's rows of `R` when `wanted`, else
/// `NULL` (also `NULL` for a user with no rows: `array_agg` of nothing).
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

impl<R: ListedPerUser> Expression for ListOfUser<R> {
    type SqlType = Nullable<Array<Record<R::Sql>>>;
}

impl<R: ListedPerUser> QueryFragment<Pg> for ListOfUser<R> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("CASE WHEN ");
        out.push_bind_param::<Bool, _>(&self.wanted)?;
        out.push_sql(" THEN (");
        out.push_sql(R::ARRAY_OF_USER);
        out.push_sql(") END");
        Ok(())
    }
}

impl<R: 'static> QueryId for ListOfUser<R> {
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<R: ListedPerUser, QS> AppearsOnTable<QS> for ListOfUser<R> {}

impl<R: ListedPerUser, QS> SelectableExpression<QS> for ListOfUser<R> {}

impl<R, GroupBy> ValidGrouping<GroupBy> for ListOfUser<R> {
    type IsAggregate = is_aggregate::Never;
}

/// The rows of one [`ListOfUser`] column.
#[derive(Debug, FromSqlRow)]
pub struct Rows<R>(pub Vec<R>);

impl<R> Rows<R> {
    /// The list a column read with `wanted` holds: `None` when it was not
    /// asked for, empty when `NULL` (`array_agg` of no rows).
    pub fn wanted(wanted: bool, column: Option<Self>) -> Option<Vec<R>> {
        wanted.then(|| column.map(|rows| rows.0).unwrap_or_default())
    }
}

impl<R: ListedPerUser> FromSql<Array<Record<R::Sql>>, Pg> for Rows<R> {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        let fields = <Vec<R::Fields> as FromSql<Array<Record<R::Sql>>, Pg>>::from_sql(value)?;
        Ok(Self(fields.into_iter().map(R::from_fields).collect()))
    }
}
