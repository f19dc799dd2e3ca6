use std::sync::Arc;

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use tokio::sync::OnceCell;

use crate::auth::Viewer;
use crate::db::auth_users::UserRecord;
use crate::db::badges::BadgeRow;
use crate::db::goals::GoalRow;
use crate::db::profiles::ProfileRow;
use crate::db::stats::StatsRow;
use crate::domain::{ActivityKind, AuthUserId, GoalStatus, Plan, ProfileVisibility};
use crate::domain::{MAX_BADGES_PER_USER, MAX_GOALS_PER_USER};
use crate::error::{AppError, AppResult, GqlResultExt};
use crate::graphql::ContextExt;
use crate::graphql::loaders::ActivityKey;
use crate::graphql::pages;
use crate::graphql::types::{ActivityEvent, Badge, LearningGoal, Timestamp, UserStats};

/// Most activity events `User.activity` returns.
pub const MAX_ACTIVITY: i32 = 100;

/// How much of a user the viewer may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The user themself or an admin: everything, `email` and `preferences` included.
    Owner,
    /// Anyone, on a PUBLIC profile: everything but `email` and `preferences`.
    Public,
    /// Anyone, on a PRIVATE profile: the public card only.
    Restricted,
}

impl Access {
    /// The access `viewer_acts_for` (self or admin) has to a profile.
    pub fn of(viewer_acts_for: bool, visibility: ProfileVisibility) -> Self {
        match (viewer_acts_for, visibility) {
            (true, _) => Access::Owner,
            (false, ProfileVisibility::Public) => Access::Public,
            (false, ProfileVisibility::Private) => Access::Restricted,
        }
    }

    fn sees_profile(self) -> bool {
        self != Access::Restricted
    }
}

/// A user of the learning platform: profile, plan, badges, goals, activity
/// and stats. Identity (accounts, passwords) lives in the auth-service;
/// this subgraph owns the `User` entity's profile fields, keyed by
/// `authUserId`.
#[derive(Clone)]
pub struct User {
    id: AuthUserId,
    /// The lists loaded for this user, shared by its clones: a user asked
    /// for several times in one `users` list is loaded once.
    loaded: Arc<Loaded>,
    /// `None` for a user the service has never met (defaults apply).
    record: Option<Arc<UserRecord>>,
    access: Access,
    /// The instant used as `createdAt` of a user not met yet.
    now: DateTime<Utc>,
}

impl User {
    /// A user as `ctx`'s viewer may see them.
    pub fn new(ctx: &Context<'_>, id: AuthUserId, record: Option<Arc<UserRecord>>) -> Self {
        Self::seen_by(ctx.viewer(), id, record, ctx.app().clock.now())
    }

    /// A user as `viewer` may see them; `now` stands as `createdAt` of a
    /// user not met yet. For use outside a resolver (subscriptions).
    pub fn seen_by(
        viewer: &Viewer,
        id: AuthUserId,
        record: Option<Arc<UserRecord>>,
        now: DateTime<Utc>,
    ) -> Self {
        let visibility = record
            .as_ref()
            .map_or_else(ProfileVisibility::default, |record| {
                record.profile.profile_visibility
            });
        let access = Access::of(viewer.acts_for(id.as_str()), visibility);
        Self {
            id,
            loaded: Arc::default(),
            record,
            access,
            now,
        }
    }

    /// How much of this user the viewer sees.
    pub fn access(&self) -> Access {
        self.access
    }

    /// `id` as stored (through the request's users loader), as the viewer
    /// may see them; a user the service does not know has defaults.
    pub async fn load(ctx: &Context<'_>, id: AuthUserId) -> AppResult<Self> {
        let record = ctx.loaders()?.users.load_one(id.clone()).await?;
        Ok(Self::new(ctx, id, record))
    }

    /// Tells the request's loaders which of a user's lists the selection
    /// of the field being resolved (a `User` or a list of them) asks for,
    /// so the users batch fetches them in the same round trip.
    pub fn want_lists(ctx: &Context<'_>) -> AppResult<()> {
        let selection = ctx.look_ahead();
        ctx.loaders()?.want_lists(
            selection.field("badges").exists(),
            selection.field("goals").exists(),
        );
        Ok(())
    }

    /// Whether the viewer may see this user's lists (badges, goals,
    /// activity): a known user whose profile the viewer may see.
    fn lists_visible(&self) -> bool {
        self.access.sees_profile() && self.record.is_some()
    }

    /// Whether the service holds a row for this user.
    pub fn is_known(&self) -> bool {
        self.record.is_some()
    }

    fn profile(&self) -> Option<&ProfileRow> {
        self.record.as_ref().map(|record| &record.profile)
    }

    /// A profile field the viewer may see.
    fn visible(&self, field: impl Fn(&ProfileRow) -> &Option<String>) -> Option<String> {
        if self.access.sees_profile() {
            self.profile().and_then(|profile| field(profile).clone())
        } else {
            None
        }
    }
}

/// A user of the learning platform: profile, plan, badges, learning goals,
/// activity and stats. Identity lives in the auth-service; this subgraph
/// owns the `User` entity's profile fields, keyed by `authUserId`.
#[Object]
impl User {
    /// The auth-service's user id.
    async fn auth_user_id(&self) -> ID {
        self.id.clone().into()
    }

    /// The username, as the auth-service knows it; null while unknown.
    async fn username(&self) -> Option<String> {
        self.record.as_ref()?.auth.username.clone()
    }

    /// The name shown to others (at most 100 characters).
    async fn display_name(&self) -> Option<String> {
        self.profile()?.display_name.clone()
    }

    /// About the user (at most 2000 characters). Null on a private profile.
    async fn bio(&self) -> Option<String> {
        self.visible(|profile| &profile.bio)
    }

    /// Skills, at most 50, unique regardless of case. Empty on a private profile.
    async fn skills(&self) -> Vec<String> {
        match self.profile() {
            Some(profile) if self.access.sees_profile() => {
                profile.skills.iter().flatten().cloned().collect()
            }
            _ => Vec::new(),
        }
    }

    /// One-line description (at most 200 characters). Null on a private profile.
    async fn headline(&self) -> Option<String> {
        self.visible(|profile| &profile.headline)
    }

    /// Where the user is (at most 100 characters). Null on a private profile.
    async fn location(&self) -> Option<String> {
        self.visible(|profile| &profile.location)
    }

    /// The user's website, an absolute http(s) URL. Null on a private profile.
    async fn website_url(&self) -> Option<String> {
        self.visible(|profile| &profile.website_url)
    }

    /// The user's avatar, an absolute http(s) URL.
    async fn avatar_url(&self) -> Option<String> {
        self.profile()?.avatar_url.clone()
    }

    /// The subscription plan.
    async fn plan(&self) -> Plan {
        self.profile()
            .map_or_else(Plan::default, |profile| profile.plan)
    }

    /// Badges earned, newest `dateAchieved` first. Empty on a private profile.
    async fn badges(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Badge>> {
        if !self.access.sees_profile() || self.record.is_none() {
            return Ok(Vec::new());
        }
        let rows = self
            .loaded
            .badges
            .get_or_try_init(|| async {
                let rows = ctx.loaders()?.badges_of(&self.id).await?;
                AppResult::Ok(at_most(rows, MAX_BADGES_PER_USER, "badges"))
            })
            .await
            .gql()?;
        Ok(rows.iter().cloned().map(Badge::from).collect())
    }

    /// Learning goals, newest first, optionally only those with `status`.
    /// Empty on a private profile.
    async fn goals(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only goals with this status.")] status: Option<GoalStatus>,
    ) -> async_graphql::Result<Vec<LearningGoal>> {
        if !self.access.sees_profile() || self.record.is_none() {
            return Ok(Vec::new());
        }
        let rows = self
            .loaded
            .goals
            .get_or_try_init(|| async {
                let rows = ctx.loaders()?.goals_of(&self.id).await?;
                AppResult::Ok(at_most(rows, MAX_GOALS_PER_USER, "goals"))
            })
            .await
            .gql()?;
        Ok(rows
            .iter()
            .cloned()
            .map(LearningGoal::from)
            .filter(|goal| status.is_none_or(|status| goal.status == status))
            .collect())
    }

    /// Counts over badges and goals. Zeros on a private profile.
    async fn stats(&self, ctx: &Context<'_>) -> async_graphql::Result<UserStats> {
        if !self.access.sees_profile() || self.record.is_none() {
            return Ok(UserStats::default());
        }
        let row = self
            .loaded
            .stats
            .get_or_try_init(|| async { ctx.loaders()?.stats.load_one(self.id.clone()).await })
            .await
            .gql()?;
        Ok(row.clone().map(UserStats::from).unwrap_or_default())
    }

    /// The latest activity, newest first; `first` at most 100. Empty on a
    /// private profile.
    async fn activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many events, 0 to 100.")] first: i32,
    ) -> async_graphql::Result<Vec<ActivityEvent>> {
        if !(0..=MAX_ACTIVITY).contains(&first) {
            return Err(AppError::invalid(
                "first",
                format!("first must be between 0 and {MAX_ACTIVITY}"),
            ))
            .gql();
        }
        if !self.access.sees_profile() || self.record.is_none() || first == 0 {
            return Ok(Vec::new());
        }
        let key = ActivityKey {
            user: self.id.clone(),
            first: i64::from(first),
        };
        let rows = ctx.loaders().gql()?.activity.load_one(key).await.gql()?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(ActivityEvent::from)
            .collect())
    }

    /// Learning goals in pages, newest first (`first` at most 100),
    /// optionally only those with `status`. Empty on a private profile.
    async fn goals_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "Page size, 0 to 100.")] first: i32,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
        #[graphql(desc = "Only goals with this status.")] status: Option<GoalStatus>,
    ) -> async_graphql::Result<pages::GoalConnection> {
        pages::goals(
            ctx,
            &self.id,
            self.lists_visible(),
            first,
            after.as_deref(),
            status,
        )
        .await
        .gql()
    }

    /// Badges in pages, newest `dateAchieved` first (`first` at most 100).
    /// Empty on a private profile.
    async fn badges_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "Page size, 0 to 100.")] first: i32,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<pages::BadgeConnection> {
        pages::badges(ctx, &self.id, self.lists_visible(), first, after.as_deref())
            .await
            .gql()
    }

    /// Activity in pages, newest first (`first` at most 100), optionally
    /// only events of `kinds`. Empty on a private profile.
    async fn activity_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "Page size, 0 to 100.")] first: i32,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
        #[graphql(desc = "Only events of these kinds.")] kinds: Option<Vec<ActivityKind>>,
    ) -> async_graphql::Result<pages::ActivityConnection> {
        pages::activity(
            ctx,
            &self.id,
            self.lists_visible(),
            first,
            after.as_deref(),
            kinds,
        )
        .await
        .gql()
    }

    /// When this service first learned of the user.
    async fn created_at(&self) -> Timestamp {
        Timestamp(
            self.record
                .as_ref()
                .map_or(self.now, |record| record.auth.created_at),
        )
    }

    /// The user's email address. Only the user themself or an admin sees it.
    async fn email(&self) -> Option<String> {
        if self.access != Access::Owner {
            return None;
        }
        self.record.as_ref()?.auth.email.clone()
    }

    /// The user's preferences. Only the user themself or an admin sees them.
    async fn preferences(&self) -> Option<UserPreferences> {
        if self.access != Access::Owner {
            return None;
        }
        Some(
            self.profile()
                .map(UserPreferences::from)
                .unwrap_or_default(),
        )
    }
}

/// Lists of one user, loaded at most once per [`User`] and its clones.
#[derive(Default)]
struct Loaded {
    badges: OnceCell<Vec<BadgeRow>>,
    goals: OnceCell<Vec<GoalRow>>,
    stats: OnceCell<Option<StatsRow>>,
}

/// The first `cap` of `rows` (newest first): the per-user cap the cost
/// model counts on, kept on the read side too (a user who holds more, from
/// before the write side enforced it, is logged).
fn at_most<T>(mut rows: Vec<T>, cap: usize, list: &'static str) -> Vec<T> {
    if rows.len() > cap {
        tracing::warn!(
            list,
            held = rows.len(),
            cap,
            "a user holds more than the per-user cap"
        );
        rows.truncate(cap);
    }
    rows
}

/// Settings that shape how the service treats the user.
#[derive(SimpleObject, Debug, Clone)]
pub struct UserPreferences {
    /// Who sees the full profile (default PUBLIC).
    pub profile_visibility: ProfileVisibility,
    /// Whether the user accepts notification emails.
    pub email_notifications: bool,
    /// IANA time zone name (default "UTC"); streak days are counted in it.
    pub timezone: String,
    /// Check-ins a week the user aims for (1 to 50), or null.
    pub weekly_goal_target: Option<i32>,
}

impl Default for UserPreferences {
    fn default() -> Self {
        Self {
            profile_visibility: ProfileVisibility::Public,
            email_notifications: true,
            timezone: "UTC".to_owned(),
            weekly_goal_target: None,
        }
    }
}

impl From<&ProfileRow> for UserPreferences {
    fn from(profile: &ProfileRow) -> Self {
        Self {
            profile_visibility: profile.profile_visibility,
            email_notifications: profile.email_notifications,
            timezone: profile.timezone.clone(),
            weekly_goal_target: profile.weekly_goal_target,
        }
    }
}
