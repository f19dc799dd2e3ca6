// @generated automatically by Diesel CLI.

diesel::table! {
    activity_events (id) {
        id -> Uuid,
        #[max_length = 64]
        auth_user_id -> Varchar,
        kind -> Text,
        occurred_at -> Timestamptz,
        goal_id -> Nullable<Uuid>,
        badge_id -> Nullable<Uuid>,
        summary -> Text,
    }
}

diesel::table! {
    auth_user_tombstones (auth_user_id) {
        #[max_length = 64]
        auth_user_id -> Varchar,
        deleted_at -> Timestamptz,
    }
}

diesel::table! {
    auth_users (auth_user_id) {
        #[max_length = 64]
        auth_user_id -> Varchar,
        username -> Nullable<Text>,
        email -> Nullable<Text>,
        source_event_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    badges (id) {
        id -> Uuid,
        #[max_length = 64]
        auth_user_id -> Varchar,
        name -> Text,
        description -> Nullable<Text>,
        icon_url -> Nullable<Text>,
        date_achieved -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    learning_goals (id) {
        id -> Uuid,
        #[max_length = 64]
        auth_user_id -> Varchar,
        title -> Text,
        description -> Nullable<Text>,
        status -> Text,
        streak_count -> Int4,
        last_check_in_on -> Nullable<Date>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    profiles (auth_user_id) {
        #[max_length = 64]
        auth_user_id -> Varchar,
        display_name -> Nullable<Text>,
        bio -> Nullable<Text>,
        skills -> Array<Nullable<Text>>,
        headline -> Nullable<Text>,
        location -> Nullable<Text>,
        website_url -> Nullable<Text>,
        avatar_url -> Nullable<Text>,
        plan -> Text,
        profile_visibility -> Text,
        email_notifications -> Bool,
        timezone -> Text,
        weekly_goal_target -> Nullable<Int4>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        search_text -> Text,
    }
}

diesel::joinable!(activity_events -> auth_users (auth_user_id));
diesel::joinable!(badges -> auth_users (auth_user_id));
diesel::joinable!(learning_goals -> auth_users (auth_user_id));
diesel::joinable!(profiles -> auth_users (auth_user_id));

diesel::allow_tables_to_appear_in_same_query!(
    activity_events,
    auth_user_tombstones,
    auth_users,
    badges,
    learning_goals,
    profiles,
);
