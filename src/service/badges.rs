//! The badges aggregate: badges a user has earned.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db;
use crate::db::activity::NewActivity;
use crate::db::badges::BadgeRow;
use crate::domain::{ActivityKind, AuthUserId};
use crate::error::AppResult;
use crate::service::Writer;
use crate::service::users::Provision;

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
            let row = db::badges::insert(conn, &row).await?;
            let summary = format!("Earned the badge \"{}\"", row.name);
            let event = NewActivity::badge(id, ActivityKind::BadgeEarned, row.id, summary);
            db::activity::record(conn, event, now).await?;
            Ok(row)
        })
        .await
}
