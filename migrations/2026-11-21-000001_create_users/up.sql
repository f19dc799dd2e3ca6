-- The auth-service's users as this service knows them, and the profile this
-- service owns for each. Every table of the service references auth_users
-- with ON DELETE CASCADE, so erasing a user is one DELETE.

CREATE TABLE auth_users (
    auth_user_id  VARCHAR(64) PRIMARY KEY
                  CONSTRAINT auth_users_id_format CHECK (auth_user_id ~ '^[A-Za-z0-9_-]{1,64}$'),
    username      TEXT,
    email         TEXT,
    -- occurred_at of the newest auth-service event applied to this row;
    -- NULL while the row was only created from a token.
    source_event_at TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Users the auth-service deleted: an older UserCreated/UserUpdated arriving
-- late must not bring them back.
CREATE TABLE auth_user_tombstones (
    auth_user_id VARCHAR(64) PRIMARY KEY,
    deleted_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE profiles (
    auth_user_id        VARCHAR(64) PRIMARY KEY REFERENCES auth_users (auth_user_id) ON DELETE CASCADE,
    display_name        TEXT CONSTRAINT profiles_display_name_length CHECK (char_length(display_name) <= 100),
    bio                 TEXT CONSTRAINT profiles_bio_length CHECK (char_length(bio) <= 2000),
    skills              TEXT[] NOT NULL DEFAULT '{}'
                        CONSTRAINT profiles_skills_count CHECK (cardinality(skills) <= 50),
    headline            TEXT CONSTRAINT profiles_headline_length CHECK (char_length(headline) <= 200),
    location            TEXT CONSTRAINT profiles_location_length CHECK (char_length(location) <= 100),
    website_url         TEXT CONSTRAINT profiles_website_url_length CHECK (char_length(website_url) <= 2048),
    avatar_url          TEXT CONSTRAINT profiles_avatar_url_length CHECK (char_length(avatar_url) <= 2048),
    plan                TEXT NOT NULL DEFAULT 'FREE'
                        CONSTRAINT profiles_plan_value CHECK (plan IN ('FREE', 'PREMIUM')),
    profile_visibility  TEXT NOT NULL DEFAULT 'PUBLIC'
                        CONSTRAINT profiles_visibility_value CHECK (profile_visibility IN ('PUBLIC', 'PRIVATE')),
    email_notifications BOOLEAN NOT NULL DEFAULT TRUE,
    timezone            TEXT NOT NULL DEFAULT 'UTC'
                        CONSTRAINT profiles_timezone_length CHECK (char_length(timezone) BETWEEN 1 AND 64),
    weekly_goal_target  INTEGER
                        CONSTRAINT profiles_weekly_goal_target_range CHECK (weekly_goal_target BETWEEN 1 AND 50),
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
