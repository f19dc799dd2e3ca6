//! The profile aggregate: what the user tells about themself.

use crate::db;
use crate::db::activity::NewActivity;
use crate::db::profiles::{ProfileChanges, ProfileRow};
use crate::domain::{ActivityKind, AuthUserId};
use crate::error::AppResult;
use crate::service::Writer;
use crate::service::users::Provision;

/// Applies `changes` to the profile of `id` (records `PROFILE_UPDATED`),
/// creating the user first when the service has not met them. The profile
/// as changed, or `None` when `changes` touches nothing.
pub async fn update(
    writer: Writer<'_>,
    id: &AuthUserId,
    changes: ProfileChanges,
) -> AppResult<Option<ProfileRow>> {
    let provision = Provision::learn(writer, id).await?;
    let now = writer.now();
    writer
        .commit(async |conn| {
            provision.ensure(conn, id, now).await?;
            if changes.is_empty() {
                return Ok(None);
            }
            let profile = db::profiles::update(conn, id, &changes, now).await?;
            let event = NewActivity::user(id, ActivityKind::ProfileUpdated, "Updated the profile");
            db::activity::record(conn, event, now).await?;
            Ok(Some(profile))
        })
        .await
}
