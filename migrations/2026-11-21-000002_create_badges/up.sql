CREATE TABLE badges (
    id            UUID PRIMARY KEY,
    auth_user_id  VARCHAR(64) NOT NULL REFERENCES auth_users (auth_user_id) ON DELETE CASCADE,
    name          TEXT NOT NULL
                  CONSTRAINT badges_name_length CHECK (char_length(btrim(name)) BETWEEN 1 AND 100),
    description   TEXT CONSTRAINT badges_description_length CHECK (char_length(description) <= 500),
    icon_url      TEXT CONSTRAINT badges_icon_url_length CHECK (char_length(icon_url) <= 2048),
    date_achieved TIMESTAMPTZ NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- User.badges: newest dateAchieved first.
CREATE INDEX badges_by_user ON badges (auth_user_id, date_achieved DESC, id DESC);
