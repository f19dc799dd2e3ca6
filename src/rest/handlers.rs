//! The legacy endpoints. Each runs one GraphQL operation of the schema (its
//! doc comment shows it) as the caller, and answers in the legacy shape.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::http::state::HttpState;
use crate::rest::error::{HttpError, LocItem, RestError, Source};
use crate::rest::execute::{Authenticated, Body, Caller, QueryParams, shape};
use crate::rest::models::{
    Badge, BadgeCreate, Goal, GoalCreate, GoalFilter, GoalUpdate, Preferences, PreferencesUpdate,
    Profile, ProfileUpdate, SearchPage, SearchParams, Stats, ToGraphql, User,
};

/// The selections the legacy shapes are read from.
macro_rules! profile_fields {
    () => {
        "authUserId username displayName bio skills headline location websiteUrl avatarUrl plan createdAt"
    };
}
macro_rules! badge_fields {
    () => {
        "id name description iconUrl dateAchieved"
    };
}
macro_rules! goal_fields {
    () => {
        "id title description status streakCount lastCheckInOn createdAt updatedAt"
    };
}
macro_rules! stats_fields {
    () => {
        "badgeCount goalCount goalsCompleted goalsInProgress longestStreak lastActiveAt"
    };
}
macro_rules! preferences_fields {
    () => {
        "profileVisibility emailNotifications timezone weeklyGoalTarget"
    };
}
macro_rules! user_fields {
    () => {
        concat!(
            profile_fields!(),
            " email preferences { ",
            preferences_fields!(),
            " } badges { ",
            badge_fields!(),
            " } goals { ",
            goal_fields!(),
            " } stats { ",
            stats_fields!(),
            " }"
        )
    };
}

/// Where the REST requests carry the GraphQL arguments.
const PATH_ARGS: &[(&str, Source, &str)] = &[
    ("authUserId", Source::Path, "user_id"),
    ("goalId", Source::Path, "goal_id"),
];
const SEARCH_ARGS: &[(&str, Source, &str)] = &[
    ("query", Source::Query, "q"),
    ("first", Source::Query, "limit"),
    ("after", Source::Query, "cursor"),
];

/// Path parameters; a path that does not decode is 422 `loc: ["path"]`.
pub struct PathParams<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for PathParams<T> {
    type Rejection = RestError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Self(value))
            .map_err(|rejection| {
                RestError::invalid(
                    vec![LocItem::Key("path".to_owned())],
                    rejection.body_text(),
                    "value_error",
                )
            })
    }
}

#[derive(Debug, Deserialize)]
pub struct GoalPath {
    user_id: String,
    goal_id: String,
}

/// `data.<field>` of an answer, read into `T`; a null user is 404.
fn field<T: DeserializeOwned>(mut data: Value, name: &str) -> Result<T, RestError> {
    match data.get_mut(name).map(Value::take) {
        None | Some(Value::Null) => Err(RestError::not_found("User")),
        Some(value) => shape(value),
    }
}

/// `data.user.<list>` of an answer; a null user is 404.
fn user_list<T: DeserializeOwned>(data: Value, list: &str) -> Result<Vec<T>, RestError> {
    let mut user: Value = field(data, "user")?;
    shape(user.get_mut(list).map(Value::take).unwrap_or(Value::Null))
}

/// The caller's own user: `GraphQL: query { me { ... } }`.
#[utoipa::path(
    get, path = "/users/me", tag = "users",
    responses((status = 200, description = "The caller's user (created on first sight)", body = User)),
    security(("bearer" = []))
)]
pub async fn get_me(
    State(state): State<HttpState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<User>, RestError> {
    me(&state, &caller).await.map(Json)
}

/// The caller's own user: `GraphQL: query { me { ... } }`.
#[utoipa::path(
    get, path = "/api/v1/users/me", tag = "api/v1",
    responses((status = 200, description = "The caller's user (created on first sight)", body = User)),
    security(("bearer" = []))
)]
pub async fn get_me_v1(
    State(state): State<HttpState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<User>, RestError> {
    me(&state, &caller).await.map(Json)
}

async fn me(state: &HttpState, caller: &Caller) -> Result<User, RestError> {
    caller.user()?;
    let data = caller
        .run(
            state,
            concat!("query { me { ", user_fields!(), " } }"),
            json!({}),
            &[],
        )
        .await?;
    field(data, "me")
}

/// A user, as the caller may see them (a private profile shows others the
/// public card only): `GraphQL: query { user(authUserId: $id) { ... } }`.
#[utoipa::path(
    get, path = "/users/{user_id}", tag = "users",
    params(("user_id" = String, Path, description = "The auth-service's user id", pattern = "^[A-Za-z0-9_-]{1,64}$", min_length = 1, max_length = 64)),
    responses(
        (status = 200, description = "The user", body = User),
        (status = 404, description = "The service does not know this user", body = HttpError),
    ),
    security((), ("bearer" = []))
)]
pub async fn get_user(
    State(state): State<HttpState>,
    caller: Caller,
    PathParams(user_id): PathParams<String>,
) -> Result<Json<User>, RestError> {
    let data = caller
        .run(
            &state,
            concat!(
                "query($id: ID!) { user(authUserId: $id) { ",
                user_fields!(),
                " } }"
            ),
            json!({ "id": user_id }),
            PATH_ARGS,
        )
        .await?;
    field(data, "user").map(Json)
}

/// Changes the profile (absent fields stay, `null` clears):
/// `GraphQL: mutation { updateProfile(authUserId: $id, input: $input) { ... } }`.
#[utoipa::path(
    put, path = "/users/{user_id}", tag = "users",
    params(("user_id" = String, Path, description = "The auth-service's user id", pattern = "^[A-Za-z0-9_-]{1,64}$", min_length = 1, max_length = 64)),
    request_body = ProfileUpdate,
    responses(
        (status = 200, description = "The changed user", body = User),
        (status = 403, description = "Someone else's user", body = HttpError),
    ),
    security(("bearer" = []))
)]
pub async fn put_user(
    State(state): State<HttpState>,
    Authenticated(caller): Authenticated,
    PathParams(user_id): PathParams<String>,
    Body(body): Body<ProfileUpdate>,
) -> Result<Json<User>, RestError> {
    update_profile(&state, &caller, &user_id, &body)
        .await
        .map(Json)
}

async fn update_profile<T: DeserializeOwned>(
    state: &HttpState,
    caller: &Caller,
    user_id: &str,
    body: &ProfileUpdate,
) -> Result<T, RestError> {
    let data = caller
        .run(
            state,
            concat!(
                "mutation($id: ID!, $input: UpdateProfileInput!) { updateProfile(authUserId: $id, input: $input) { ",
                user_fields!(),
                " } }"
            ),
            json!({ "id": user_id, "input": body.to_graphql() }),
            PATH_ARGS,
        )
        .await?;
    field(data, "updateProfile")
}

/// A user's badges, newest first (empty on a private profile seen by
/// others): `GraphQL: query { user(authUserId: $id) { badges { ... } } }`.
#[utoipa::path(
    get, path = "/users/{user_id}/badges", tag = "users",
    params(("user_id" = String, Path, description = "The auth-service's user id", pattern = "^[A-Za-z0-9_-]{1,64}$", min_length = 1, max_length = 64)),
    responses(
        (status = 200, description = "The badges", body = Vec<Badge>),
        (status = 404, description = "The service does not know this user", body = HttpError),
    ),
    security((), ("bearer" = []))
)]
pub async fn list_badges(
    State(state): State<HttpState>,
    caller: Caller,
    PathParams(user_id): PathParams<String>,
) -> Result<Json<Vec<Badge>>, RestError> {
    let data = caller
        .run(
            &state,
            concat!(
                "query($id: ID!) { user(authUserId: $id) { badges { ",
                badge_fields!(),
                " } } }"
            ),
            json!({ "id": user_id }),
            PATH_ARGS,
        )
        .await?;
    user_list(data, "badges").map(Json)
}

/// Awards a badge: `GraphQL: mutation { createBadge(authUserId: $id, input: $input) { ... } }`.
#[utoipa::path(
    post, path = "/users/{user_id}/badges", tag = "users",
    params(("user_id" = String, Path, description = "The auth-service's user id", pattern = "^[A-Za-z0-9_-]{1,64}$", min_length = 1, max_length = 64)),
    request_body = BadgeCreate,
    responses(
        (status = 201, description = "The badge", body = Badge),
        (status = 403, description = "Someone else's user", body = HttpError),
    ),
    security(("bearer" = []))
)]
pub async fn create_badge(
    State(state): State<HttpState>,
    Authenticated(caller): Authenticated,
    PathParams(user_id): PathParams<String>,
    Body(body): Body<BadgeCreate>,
) -> Result<Response, RestError> {
    let data = caller
        .run(
            &state,
            concat!(
                "mutation($id: ID!, $input: CreateBadgeInput!) { createBadge(authUserId: $id, input: $input) { ",
                badge_fields!(),
                " } }"
            ),
            json!({ "id": user_id, "input": body.to_graphql() }),
            PATH_ARGS,
        )
        .await?;
    let badge: Badge = field(data, "createBadge")?;
    Ok((StatusCode::CREATED, Json(badge)).into_response())
}

/// A user's goals, newest first, optionally of one status (empty on a
/// private profile seen by others):
/// `GraphQL: query { user(authUserId: $id) { goals(status: $status) { ... } } }`.
#[utoipa::path(
    get, path = "/users/{user_id}/goals", tag = "users",
    params(("user_id" = String, Path, description = "The auth-service's user id", pattern = "^[A-Za-z0-9_-]{1,64}$", min_length = 1, max_length = 64), GoalFilter),
    responses(
        (status = 200, description = "The goals", body = Vec<Goal>),
        (status = 404, description = "The service does not know this user", body = HttpError),
    ),
    security((), ("bearer" = []))
)]
pub async fn list_goals(
    State(state): State<HttpState>,
    caller: Caller,
    PathParams(user_id): PathParams<String>,
    QueryParams(filter): QueryParams<GoalFilter>,
) -> Result<Json<Vec<Goal>>, RestError> {
    let data = caller
        .run(
            &state,
            concat!(
                "query($id: ID!, $status: GoalStatus) { user(authUserId: $id) { goals(status: $status) { ",
                goal_fields!(),
                " } } }"
            ),
            json!({ "id": user_id, "status": filter.status.map(|status| status.graphql()) }),
            PATH_ARGS,
        )
        .await?;
    user_list(data, "goals").map(Json)
}

/// Creates a goal: `GraphQL: mutation { createGoal(authUserId: $id, input: $input) { ... } }`.
#[utoipa::path(
    post, path = "/users/{user_id}/goals", tag = "users",
    params(("user_id" = String, Path, description = "The auth-service's user id", pattern = "^[A-Za-z0-9_-]{1,64}$", min_length = 1, max_length = 64)),
    request_body = GoalCreate,
    responses(
        (status = 201, description = "The goal", body = Goal),
        (status = 403, description = "Someone else's user", body = HttpError),
    ),
    security(("bearer" = []))
)]
pub async fn create_goal(
    State(state): State<HttpState>,
    Authenticated(caller): Authenticated,
    PathParams(user_id): PathParams<String>,
    Body(body): Body<GoalCreate>,
) -> Result<Response, RestError> {
    let data = caller
        .run(
            &state,
            concat!(
                "mutation($id: ID!, $input: CreateGoalInput!) { createGoal(authUserId: $id, input: $input) { ",
                goal_fields!(),
                " } }"
            ),
            json!({ "id": user_id, "input": body.to_graphql() }),
            PATH_ARGS,
        )
        .await?;
    let goal: Goal = field(data, "createGoal")?;
    Ok((StatusCode::CREATED, Json(goal)).into_response())
}

/// Changes a goal (absent fields stay):
/// `GraphQL: mutation { updateGoal(authUserId: $id, goalId: $goal, input: $input) { ... } }`.
#[utoipa::path(
    put, path = "/users/{user_id}/goals/{goal_id}", tag = "users",
    params(
        ("user_id" = String, Path, description = "The auth-service's user id", pattern = "^[A-Za-z0-9_-]{1,64}$", min_length = 1, max_length = 64),
        ("goal_id" = String, Path, description = "The goal's id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
    ),
    request_body = GoalUpdate,
    responses(
        (status = 200, description = "The changed goal", body = Goal),
        (status = 403, description = "Someone else's user", body = HttpError),
        (status = 404, description = "No such goal of this user", body = HttpError),
    ),
    security(("bearer" = []))
)]
pub async fn update_goal(
    State(state): State<HttpState>,
    Authenticated(caller): Authenticated,
    PathParams(path): PathParams<GoalPath>,
    Body(body): Body<GoalUpdate>,
) -> Result<Json<Goal>, RestError> {
    let data = caller
        .run(
            &state,
            concat!(
                "mutation($id: ID!, $goal: ID!, $input: UpdateGoalInput!) { updateGoal(authUserId: $id, goalId: $goal, input: $input) { ",
                goal_fields!(),
                " } }"
            ),
            json!({ "id": path.user_id, "goal": path.goal_id, "input": body.to_graphql() }),
            PATH_ARGS,
        )
        .await?;
    field(data, "updateGoal").map(Json)
}

/// Deletes a goal: `GraphQL: mutation { deleteGoal(authUserId: $id, goalId: $goal) }`.
#[utoipa::path(
    delete, path = "/users/{user_id}/goals/{goal_id}", tag = "users",
    params(
        ("user_id" = String, Path, description = "The auth-service's user id", pattern = "^[A-Za-z0-9_-]{1,64}$", min_length = 1, max_length = 64),
        ("goal_id" = String, Path, description = "The goal's id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Someone else's user", body = HttpError),
        (status = 404, description = "No such goal of this user", body = HttpError),
    ),
    security(("bearer" = []))
)]
pub async fn delete_goal(
    State(state): State<HttpState>,
    Authenticated(caller): Authenticated,
    PathParams(path): PathParams<GoalPath>,
) -> Result<StatusCode, RestError> {
    caller
        .run(
            &state,
            "mutation($id: ID!, $goal: ID!) { deleteGoal(authUserId: $id, goalId: $goal) }",
            json!({ "id": path.user_id, "goal": path.goal_id }),
            PATH_ARGS,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's profile: `GraphQL: query { me { displayName bio ... } }`.
#[utoipa::path(
    get, path = "/api/v1/users/me/profile", tag = "api/v1",
    responses((status = 200, description = "The caller's profile", body = Profile)),
    security(("bearer" = []))
)]
pub async fn get_my_profile(
    State(state): State<HttpState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Profile>, RestError> {
    caller.user()?;
    let data = caller
        .run(
            &state,
            concat!("query { me { ", profile_fields!(), " } }"),
            json!({}),
            &[],
        )
        .await?;
    field(data, "me").map(Json)
}

/// Changes the caller's profile (absent fields stay, `null` clears):
/// `GraphQL: mutation { updateProfile(authUserId: <me>, input: $input) { ... } }`.
#[utoipa::path(
    put, path = "/api/v1/users/me/profile", tag = "api/v1",
    request_body = ProfileUpdate,
    responses((status = 200, description = "The changed profile", body = Profile)),
    security(("bearer" = []))
)]
pub async fn put_my_profile(
    State(state): State<HttpState>,
    Authenticated(caller): Authenticated,
    Body(body): Body<ProfileUpdate>,
) -> Result<Json<Profile>, RestError> {
    let id = caller.user()?.id.clone();
    update_profile(&state, &caller, id.as_str(), &body)
        .await
        .map(Json)
}

/// The caller's preferences: `GraphQL: query { me { preferences { ... } } }`.
#[utoipa::path(
    get, path = "/api/v1/users/me/preferences", tag = "api/v1",
    responses((status = 200, description = "The caller's preferences", body = Preferences)),
    security(("bearer" = []))
)]
pub async fn get_my_preferences(
    State(state): State<HttpState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Preferences>, RestError> {
    caller.user()?;
    let data = caller
        .run(
            &state,
            concat!(
                "query { me { preferences { ",
                preferences_fields!(),
                " } } }"
            ),
            json!({}),
            &[],
        )
        .await?;
    let mut me: Value = field(data, "me")?;
    shape(
        me.get_mut("preferences")
            .map(Value::take)
            .unwrap_or_default(),
    )
    .map(Json)
}

/// Changes the caller's preferences (absent fields stay):
/// `GraphQL: mutation { updatePreferences(authUserId: <me>, input: $input) { ... } }`.
#[utoipa::path(
    put, path = "/api/v1/users/me/preferences", tag = "api/v1",
    request_body = PreferencesUpdate,
    responses((status = 200, description = "The changed preferences", body = Preferences)),
    security(("bearer" = []))
)]
pub async fn put_my_preferences(
    State(state): State<HttpState>,
    Authenticated(caller): Authenticated,
    Body(body): Body<PreferencesUpdate>,
) -> Result<Json<Preferences>, RestError> {
    let id = caller.user()?.id.clone();
    let data = caller
        .run(
            &state,
            concat!(
                "mutation($id: ID!, $input: UpdatePreferencesInput!) { updatePreferences(authUserId: $id, input: $input) { ",
                preferences_fields!(),
                " } }"
            ),
            json!({ "id": id.as_str(), "input": body.to_graphql() }),
            PATH_ARGS,
        )
        .await?;
    field(data, "updatePreferences").map(Json)
}

/// The caller's stats: `GraphQL: query { me { stats { ... } } }`.
#[utoipa::path(
    get, path = "/api/v1/users/me/stats", tag = "api/v1",
    responses((status = 200, description = "The caller's stats", body = Stats)),
    security(("bearer" = []))
)]
pub async fn get_my_stats(
    State(state): State<HttpState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Stats>, RestError> {
    caller.user()?;
    let data = caller
        .run(
            &state,
            concat!("query { me { stats { ", stats_fields!(), " } } }"),
            json!({}),
            &[],
        )
        .await?;
    let mut me: Value = field(data, "me")?;
    shape(me.get_mut("stats").map(Value::take).unwrap_or_default()).map(Json)
}

/// Moves the caller to PREMIUM. As in GraphQL, only an admin token (billing)
/// may grant PREMIUM; anyone else gets 403:
/// `GraphQL: mutation { changePlan(authUserId: <me>, plan: PREMIUM) { ... } }`.
#[utoipa::path(
    post, path = "/api/v1/users/me/upgrade", tag = "api/v1",
    responses(
        (status = 200, description = "The user, on PREMIUM", body = User),
        (status = 403, description = "Not an admin (billing) token", body = HttpError),
    ),
    security(("bearer" = []))
)]
pub async fn upgrade(
    State(state): State<HttpState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<User>, RestError> {
    change_plan(&state, &caller, "PREMIUM").await.map(Json)
}

/// Moves the caller back to FREE:
/// `GraphQL: mutation { changePlan(authUserId: <me>, plan: FREE) { ... } }`.
#[utoipa::path(
    post, path = "/api/v1/users/me/downgrade", tag = "api/v1",
    responses((status = 200, description = "The user, on FREE", body = User)),
    security(("bearer" = []))
)]
pub async fn downgrade(
    State(state): State<HttpState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<User>, RestError> {
    change_plan(&state, &caller, "FREE").await.map(Json)
}

async fn change_plan(state: &HttpState, caller: &Caller, plan: &str) -> Result<User, RestError> {
    let id = caller.user()?.id.clone();
    let data = caller
        .run(
            state,
            concat!(
                "mutation($id: ID!, $plan: Plan!) { changePlan(authUserId: $id, plan: $plan) { ",
                user_fields!(),
                " } }"
            ),
            json!({ "id": id.as_str(), "plan": plan }),
            PATH_ARGS,
        )
        .await?;
    field(data, "changePlan")
}

/// Public profiles matching `q`, for PREMIUM users and admins (401 without
/// a token, 403 on FREE):
/// `GraphQL: query { searchUsers(query: $q, first: $limit, after: $cursor) { ... } }`.
#[utoipa::path(
    get, path = "/api/v1/users/search", tag = "api/v1",
    params(SearchParams),
    responses(
        (status = 200, description = "One page of public profiles", body = SearchPage),
        (status = 403, description = "The caller is on the FREE plan", body = HttpError),
    ),
    security(("bearer" = []))
)]
pub async fn search(
    State(state): State<HttpState>,
    Authenticated(caller): Authenticated,
    QueryParams(params): QueryParams<SearchParams>,
) -> Result<Json<SearchPage>, RestError> {
    let data = caller
        .run(
            &state,
            concat!(
                "query($q: String!, $first: Int!, $after: String) { searchUsers(query: $q, first: $first, after: $after) { edges { node { ",
                profile_fields!(),
                " } } pageInfo { hasNextPage endCursor } } }"
            ),
            json!({ "q": params.q, "first": params.limit.unwrap_or(20), "after": params.cursor }),
            SEARCH_ARGS,
        )
        .await?;
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct PageInfo {
        has_next_page: bool,
        end_cursor: Option<String>,
    }
    #[derive(Deserialize)]
    struct Edge {
        node: Profile,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Connection {
        edges: Vec<Edge>,
        page_info: PageInfo,
    }
    let connection: Connection = field(data, "searchUsers")?;
    Ok(Json(SearchPage {
        items: connection.edges.into_iter().map(|edge| edge.node).collect(),
        next_cursor: connection
            .page_info
            .has_next_page
            .then_some(connection.page_info.end_cursor)
            .flatten(),
    }))
}
