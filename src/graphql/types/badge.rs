use async_graphql::{ID, SimpleObject};

use crate::db::badges::BadgeRow;
use crate::graphql::types::Timestamp;

/// A gamification badge the user has earned.
#[derive(SimpleObject, Debug, Clone)]
pub struct Badge {
    /// The badge's id.
    pub id: ID,
    /// Short name, 1 to 100 characters.
    pub name: String,
    /// What it was awarded for (at most 500 characters).
    pub description: Option<String>,
    /// Absolute http(s) URL of its icon.
    pub icon_url: Option<String>,
    /// When it was earned.
    pub date_achieved: Timestamp,
}

impl From<BadgeRow> for Badge {
    fn from(row: BadgeRow) -> Self {
        let BadgeRow {
            id,
            auth_user_id: _,
            name,
            description,
            icon_url,
            date_achieved,
            created_at: _,
        } = row;
        Self {
            id: ID(id.to_string()),
            name,
            description,
            icon_url,
            date_achieved: date_achieved.into(),
        }
    }
}
