//! `searchUsers`: public profiles whose username, display name or skills
//! contain a term, in keyset pages ordered by `auth_user_id`.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::auth_users::{AuthUserRow, UserRecord};
use crate::db::profiles::ProfileRow;
use crate::domain::ProfileVisibility;
use crate::schema::{auth_users, profiles};

/// A `LIKE` pattern matching `term` anywhere, with `%`, `_` and `\`
/// matched literally.
pub fn contains_pattern(term: &str) -> String {
    let mut pattern = String::with_capacity(term.len() + 2);
    pattern.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Up to `limit` public users matching `term` (case-insensitively) with an
/// id after `after`, in id order.
#[tracing::instrument(skip(conn, term))]
pub async fn public_users_matching(
    conn: &mut AsyncPgConnection,
    term: &str,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<UserRecord>> {
    let mut query = auth_users::table
        .inner_join(profiles::table)
        .filter(profiles::search_text.ilike(contains_pattern(term)))
        .filter(profiles::profile_visibility.eq(ProfileVisibility::Public))
        .select((AuthUserRow::as_select(), ProfileRow::as_select()))
        .order(auth_users::auth_user_id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(auth_users::auth_user_id.gt(after.to_owned()));
    }
    let rows: Vec<(AuthUserRow, ProfileRow)> = query.load(conn).await?;
    Ok(rows
        .into_iter()
        .map(|(auth, profile)| UserRecord { auth, profile })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::contains_pattern;

    #[test]
    fn wildcards_are_escaped() {
        assert_eq!(contains_pattern("a%b_c\\d"), "%a\\%b\\_c\\\\d%");
        assert_eq!(contains_pattern("ada"), "%ada%");
    }
}
