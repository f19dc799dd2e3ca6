//! The write side, split by domain and merged into one `Mutation` type.
//!
//! Every mutation is guarded by [`SelfOrAdmin`](crate::graphql::guard::SelfOrAdmin),
//! parses and validates its arguments before touching the database, hands
//! them to one function of the write layer ([`crate::service`], which owns
//! the transaction, the user's provisioning and the activity event) and
//! converts the rows it returns.

mod badges;
mod goals;
mod profile;
mod settings;

use async_graphql::{Context, ID, MergedObject};
use uuid::Uuid;

use crate::error::AppError;
use crate::graphql::ContextExt;
use crate::service::Writer;

pub use badges::BadgeMutation;
pub use goals::GoalMutation;
pub use profile::ProfileMutation;
pub use settings::SettingsMutation;

/// Changing a user's data. Every mutation needs a token of the user named
/// by `authUserId` or of an admin, and records one `ActivityEvent` when it
/// changes something.
// Each part is `cache_control(no_cache)` (a merged object takes its parts'
// hints, not its own), so no mutation's answer is ever cached.
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

/// The write layer's handle on the application of `ctx`.
pub(crate) fn writer<'a>(ctx: &'a Context<'_>) -> Writer<'a> {
    let app = ctx.app();
    Writer {
        db: &app.db,
        clock: &app.clock,
        auth_service: &app.auth_service,
    }
}
