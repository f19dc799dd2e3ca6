//! The `Subscription` root: live updates of committed changes.
//!
//! - `myActivity`: the viewer's own activity events (a token is required);
//! - `goalUpdated(goalId)`: one of the viewer's goals after each change
//!   (`NOT_FOUND` for a goal that is not theirs, as for mutations; the
//!   stream completes when the goal is deleted);
//! - `userUpdated(authUserId)`: the user after each change, with the
//!   privacy of `user`: someone who sees only the public card of a PRIVATE
//!   profile hears only of changes to that card (profile, plan,
//!   visibility), never of goals, badges or check-ins.
//!
//! Events come from the process's [`LiveHub`] (committed changes, from any
//! replica). Each subscription holds one of its connection's
//! [`SubscriptionSlots`] while it runs; one that falls further behind than
//! the buffer cancels its connection's [`ConnectionControl`], so the
//! transport drops the slow client.

use std::sync::Arc;

use async_graphql::{Context, ID, Subscription as SubscriptionRoot};
use futures::{Stream, StreamExt, stream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::Viewer;
use crate::db;
use crate::db::activity::ActivityRow;
use crate::domain::{ActivityKind, AuthUserId};
use crate::error::{AppError, AppResult, GqlResultExt};
use crate::graphql::ContextExt;
use crate::graphql::types::{Access, ActivityEvent, LearningGoal, User};
use crate::live::LiveEvents;

/// How many subscriptions one connection may run at once.
#[derive(Clone)]
pub struct SubscriptionSlots(pub Arc<Semaphore>);

impl SubscriptionSlots {
    pub fn new(max: usize) -> Self {
        Self(Arc::new(Semaphore::new(max)))
    }
}

/// Cancelled to close the connection (a subscriber fell behind).
#[derive(Clone, Default)]
pub struct ConnectionControl(pub CancellationToken);

/// The live subscriptions.
#[derive(Default)]
pub struct Subscription;

/// The committed events a subscription sees, while it holds its slot.
struct Feed {
    events: LiveEvents,
    _slot: OwnedSemaphorePermit,
    control: ConnectionControl,
}

impl Feed {
    async fn open(ctx: &Context<'_>) -> AppResult<Self> {
        let slots = ctx
            .data_opt::<SubscriptionSlots>()
            .ok_or(AppError::invalid(
                "subscription",
                "subscriptions are served over WebSocket only",
            ))?;
        let slot = slots.0.clone().try_acquire_owned().map_err(|_| {
            AppError::invalid(
                "subscription",
                "too many subscriptions on this connection; complete one first",
            )
        })?;
        let control = ctx
            .data_opt::<ConnectionControl>()
            .cloned()
            .unwrap_or_default();
        let events = ctx
            .app()
            .live
            .subscribe()
            .await
            .map_err(AppError::unavailable)?;
        Ok(Self {
            events,
            _slot: slot,
            control,
        })
    }

    /// The events, ending after the subscriber lagged (the connection is
    /// then closed) or when the hub stops.
    fn into_stream(self) -> impl Stream<Item = Arc<ActivityRow>> + Send + 'static {
        stream::unfold(Some(self), |feed| async move {
            let mut feed = feed?;
            match feed.events.next().await {
                Ok(Some(row)) => Some((row, Some(feed))),
                Ok(None) => None,
                Err(lagged) => {
                    tracing::warn!(%lagged, "dropping a slow subscriber");
                    metrics::counter!("subscribers_dropped_total", "reason" => "lagged")
                        .increment(1);
                    feed.control.0.cancel();
                    None
                }
            }
        })
    }
}

fn signed_in(ctx: &Context<'_>) -> AppResult<Viewer> {
    let viewer = ctx.viewer().clone();
    if viewer.user().is_none() {
        return Err(AppError::Unauthenticated("authentication required"));
    }
    Ok(viewer)
}

/// Kinds that change what the public card of a PRIVATE profile shows.
fn touches_public_card(kind: ActivityKind) -> bool {
    matches!(
        kind,
        ActivityKind::ProfileUpdated | ActivityKind::PlanChanged | ActivityKind::PreferencesUpdated
    )
}

async fn goal_now(app: &AppState, id: Uuid) -> AppResult<Option<LearningGoal>> {
    let mut conn = app.conn().await?;
    Ok(db::goals::find(&mut conn, id)
        .await?
        .map(LearningGoal::from))
}

async fn user_now(app: &AppState, viewer: &Viewer, id: &AuthUserId) -> AppResult<User> {
    let record = {
        let conn = app.conn().await?;
        db::auth_users::find_many(&conn, &[id.as_str()]).await?
    };
    let record = record.into_iter().next().map(Arc::new);
    Ok(User::seen_by(viewer, id.clone(), record, app.clock.now()))
}

#[SubscriptionRoot]
impl Subscription {
    /// The viewer's own activity events, as they are committed (on any
    /// replica). Needs a token.
    async fn my_activity(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = ActivityEvent> + use<>> {
        let viewer = signed_in(ctx).gql()?;
        let me = viewer.user().map(|user| user.id.clone());
        let feed = Feed::open(ctx).await.gql()?;
        Ok(feed.into_stream().filter_map(move |row| {
            let mine = me.as_ref() == Some(&row.auth_user_id);
            async move { mine.then(|| ActivityEvent::from((*row).clone())) }
        }))
    }

    /// One of the viewer's goals, after each committed change to it (the
    /// stream completes when the goal is deleted). Needs a token;
    /// `NOT_FOUND` for a goal that is not the viewer's (admins: anyone's).
    async fn goal_updated(
        &self,
        ctx: &Context<'_>,
        goal_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<LearningGoal>> + use<>>
    {
        let viewer = signed_in(ctx).gql()?;
        let id = Uuid::parse_str(goal_id.as_str())
            .map_err(|_| AppError::NotFound("goal"))
            .gql()?;
        let app = ctx.app().clone();
        let goal = {
            let mut conn = app.conn().await.gql()?;
            db::goals::find(&mut conn, id).await.gql()?
        };
        match goal {
            Some(goal) if viewer.acts_for(goal.auth_user_id.as_str()) => {}
            _ => return Err(AppError::NotFound("goal")).gql(),
        }
        let feed = Feed::open(ctx).await.gql()?;
        let events = feed
            .into_stream()
            .filter(move |row| std::future::ready(row.goal_id == Some(id)))
            .take_while(|row| std::future::ready(row.kind != ActivityKind::GoalDeleted));
        Ok(events.filter_map(move |_| {
            let app = app.clone();
            async move { goal_now(&app, id).await.gql().transpose() }
        }))
    }

    /// A user after each committed change, as `user(authUserId:)` shows
    /// them to the viewer (anonymous viewers too). For a PRIVATE profile
    /// seen by someone else, only changes to the public card are sent.
    async fn user_updated(
        &self,
        ctx: &Context<'_>,
        auth_user_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<User>> + use<>> {
        let id = AuthUserId::parse_field(auth_user_id.as_str(), "authUserId").gql()?;
        let viewer = ctx.viewer().clone();
        let app = ctx.app().clone();
        let feed = Feed::open(ctx).await.gql()?;
        let events = feed.into_stream().filter({
            let id = id.clone();
            move |row| std::future::ready(row.auth_user_id == id)
        });
        Ok(events.filter_map(move |row| {
            let (app, viewer, id) = (app.clone(), viewer.clone(), id.clone());
            async move {
                match user_now(&app, &viewer, &id).await {
                    Ok(user)
                        if user.access() == Access::Restricted
                            && !touches_public_card(row.kind) =>
                    {
                        None
                    }
                    Ok(user) => Some(Ok(user)),
                    Err(error) => Some(Err(error.into_graphql())),
                }
            }
        }))
    }
}
