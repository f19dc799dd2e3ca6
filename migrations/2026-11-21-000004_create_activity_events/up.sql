CREATE TABLE activity_events (
    id           UUID PRIMARY KEY,
    auth_user_id VARCHAR(64) NOT NULL REFERENCES auth_users (auth_user_id) ON DELETE CASCADE,
    kind         TEXT NOT NULL
                 CONSTRAINT activity_events_kind_value CHECK (kind IN (
                     'PROFILE_UPDATED', 'PREFERENCES_UPDATED', 'PLAN_CHANGED', 'BADGE_EARNED',
                     'GOAL_CREATED', 'GOAL_UPDATED', 'GOAL_CHECKED_IN', 'GOAL_COMPLETED', 'GOAL_DELETED')),
    occurred_at  TIMESTAMPTZ NOT NULL,
    -- No foreign keys: the event outlives a deleted goal.
    goal_id      UUID,
    badge_id     UUID,
    summary      TEXT NOT NULL
);

-- User.activity: newest first.
CREATE INDEX activity_events_by_user ON activity_events (auth_user_id, occurred_at DESC, id DESC);
