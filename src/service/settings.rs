//! The settings aggregate: preferences and plan.

use crate::db;
use crate::db::activity::NewActivity;
use crate::db::profiles::{PreferenceChanges, ProfileRow};
use crate::domain::{ActivityKind, AuthUserId, Plan};
use crate::error::AppResult;
use crate::service::Writer;
use crate::service::users::Provision;

/// Applies `changes` to the preferences of `id` (records
/// `PREFERENCES_UPDATED` when they touch something), creating the user
/// first when the service has not met them. The profile afterwards.
pub async fn update_preferences(
    writer: Writer<'_>,
    id: &AuthUserId,
    changes: PreferenceChanges,
) -> AppResult<ProfileRow> {
    let provision = Provision::learn(writer, id).await?;
    let now = writer.now();
    writer
        .commit(async |conn| {
            provision.ensure(conn, id, now).await?;
            if changes.is_empty() {
                return Ok(db::profiles::find(conn, id).await?);
            }
            let profile = db::profiles::update_preferences(conn, id, &changes, now).await?;
            let event = NewActivity::user(
                id,
                ActivityKind::PreferencesUpdated,
                "Updated the preferences",
            );
            db::activity::record(conn, event, now).await?;
            Ok(profile)
        })
        .await
}

/// Moves `id` to `plan` (records `PLAN_CHANGED`), creating the user first
/// when the service has not met them. Who may grant which plan is the
/// caller's check. The profile as changed, or `None` when `id` already had
/// `plan`.
pub async fn change_plan(
    writer: Writer<'_>,
    id: &AuthUserId,
    plan: Plan,
) -> AppResult<Option<ProfileRow>> {
    let provision = Provision::learn(writer, id).await?;
    let now = writer.now();
    writer
        .commit(async |conn| {
            provision.ensure(conn, id, now).await?;
            let current = db::profiles::find(conn, id).await?;
            if current.plan == plan {
                return Ok(None);
            }
            let profile = db::profiles::set_plan(conn, id, plan, now).await?;
            let summary = format!("Changed plan to {}", plan.as_db());
            let event = NewActivity::user(id, ActivityKind::PlanChanged, summary);
            db::activity::record(conn, event, now).await?;
            Ok(Some(profile))
        })
        .await
}
