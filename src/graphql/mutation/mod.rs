//! The write side, split by domain and merged into one `Mutation` type.
//!
//! Every mutation is guarded by [`SelfOrAdmin`](crate::auth::SelfOrAdmin),
//! validates its input before touching the database, and writes its change
//! and its activity event in one transaction that also creates the user's
//! reference row when the service has not met the user yet.

mod badges;
mod goals;
mod profile;
mod settings;

use async_graphql::{ID, MergedObject};
use uuid::Uuid;

use crate::error::AppError;

pub use badges::BadgeMutation;
pub use goals::GoalMutation;
pub use profile::ProfileMutation;
pub use settings::SettingsMutation;

/// Changing a user's data. Every mutation needs a token of the user named
/// by `authUserId` or of an admin, and records one `ActivityEvent` when it
/// changes something.
#[derive(MergedObject, Default)]
pub struct Mutation(
    ProfileMutation,
    SettingsMutation,
    BadgeMutation,
    GoalMutation,
);

/// Parses a goal id; a malformed id is a goal that does not exist.
fn parse_goal_id(id: &ID) -> Result<Uuid, AppError> {
    Uuid::parse_str(id).map_err(|_| AppError::NotFound("goal"))
}
