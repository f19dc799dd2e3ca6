//! The badges aggregate: badges a user has earned.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db;
use crate::db::activity::NewActivity;
use crate::db::badges::BadgeRow;
use crate::domain::{ActivityKind, AuthUserId, MAX_BADGES_PER_USER};
use crate::error::{AppError, AppResult};
use crate::service::users::Provision;
use crate::service::{Writer, below_cap};

/// A badge to award, validated.
#[derive(Debug)]
pub struct ValidBadge {
    pub name: String,
    pub description: Option<String>,
    pub icon_url: Option<String>,
    pub date_achieved: DateTime<Utc>,
}

/// Awards `badge` to `id` (records `BADGE_EARNED`), creating the user
/// first when the service has not met them. The stored badge.
/// `BAD_USER_INPUT` (field `input`), writing nothing, when `id` already
/// holds [`MAX_BADGES_PER_USER`] badges.
pub async fn create(writer: Writer<'_>, id: &AuthUserId, badge: ValidBadge) -> AppResult<BadgeRow> {
    let provision = Provision::learn(writer, id).await?;
    let now = writer.now();
    let row = BadgeRow {
        id: Uuid::now_v7(),
        auth_user_id: id.clone(),
        name: badge.name,
        description: badge.description,
        icon_url: badge.icon_url,
        date_achieved: badge.date_achieved,
        created_at: now,
    };
    writer
        .commit(async |conn| {
            provision.ensure(conn, id, now).await?;
            // The lock on the user's row serialises their awards, so two
            // concurrent ones cannot both pass the count.
            db::auth_users::lock_for_update(conn, id).await?;
            let held = db::badges::count_owned(conn, id).await?;
            if !below_cap(held, MAX_BADGES_PER_USER) {
                return Err(AppError::invalid(
                    "input",
                    format!("a user holds at most {MAX_BADGES_PER_USER} badges"),
                ));
            }
            let row = db::badges::insert(conn, &row).await?;
            let summary = format!("Earned the badge \"{}\"", row.name);
            let event = NewActivity::badge(id, ActivityKind::BadgeEarned, row.id, summary);
            db::activity::record(conn, event, now).await?;
            Ok(row)
        })
        .await
}
