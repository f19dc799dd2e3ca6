CREATE TABLE learning_goals (
    id               UUID PRIMARY KEY,
    auth_user_id     VARCHAR(64) NOT NULL REFERENCES auth_users (auth_user_id) ON DELETE CASCADE,
    title            TEXT NOT NULL
                     CONSTRAINT learning_goals_title_length CHECK (char_length(btrim(title)) BETWEEN 1 AND 200),
    description      TEXT CONSTRAINT learning_goals_description_length CHECK (char_length(description) <= 2000),
    status           TEXT NOT NULL DEFAULT 'IN_PROGRESS'
                     CONSTRAINT learning_goals_status_value CHECK (status IN ('NOT_STARTED', 'IN_PROGRESS', 'COMPLETED')),
    streak_count     INTEGER NOT NULL DEFAULT 0
                     CONSTRAINT learning_goals_streak_count_non_negative CHECK (streak_count >= 0),
    last_check_in_on DATE,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);

-- User.goals: newest first (ids are UUIDv7, so they break ties in time order).
CREATE INDEX learning_goals_by_user ON learning_goals (auth_user_id, created_at DESC, id DESC);
