-- searchUsers: a case-insensitive substring match on username, displayName
-- and skills. The three are folded into profiles.search_text (lower case,
-- separated by U+001F so a match cannot span two fields), kept current by
-- triggers, and indexed with trigrams so '%term%' stays fast at scale.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE FUNCTION user_search_text(username TEXT, display_name TEXT, skills TEXT[])
RETURNS TEXT
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT lower(coalesce(username, '') || chr(31) || coalesce(display_name, '') || chr(31)
                 || coalesce(array_to_string(skills, chr(31)), ''))
$$;

ALTER TABLE profiles ADD COLUMN search_text TEXT NOT NULL DEFAULT '';

CREATE FUNCTION profiles_set_search_text() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    NEW.search_text := user_search_text(
        (SELECT username FROM auth_users WHERE auth_user_id = NEW.auth_user_id),
        NEW.display_name,
        NEW.skills);
    RETURN NEW;
END
$$;

CREATE TRIGGER profiles_search_text
    BEFORE INSERT OR UPDATE OF display_name, skills ON profiles
    FOR EACH ROW EXECUTE FUNCTION profiles_set_search_text();

CREATE FUNCTION auth_users_refresh_search_text() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE profiles
       SET search_text = user_search_text(NEW.username, display_name, skills)
     WHERE auth_user_id = NEW.auth_user_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER auth_users_search_text
    AFTER UPDATE OF username ON auth_users
    FOR EACH ROW WHEN (OLD.username IS DISTINCT FROM NEW.username)
    EXECUTE FUNCTION auth_users_refresh_search_text();

UPDATE profiles p
   SET search_text = user_search_text(a.username, p.display_name, p.skills)
  FROM auth_users a
 WHERE a.auth_user_id = p.auth_user_id;

CREATE INDEX profiles_search_text_trgm ON profiles USING gin (search_text gin_trgm_ops);
