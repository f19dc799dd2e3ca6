DROP INDEX profiles_search_text_trgm;
DROP TRIGGER auth_users_search_text ON auth_users;
DROP FUNCTION auth_users_refresh_search_text();
DROP TRIGGER profiles_search_text ON profiles;
DROP FUNCTION profiles_set_search_text();
ALTER TABLE profiles DROP COLUMN search_text;
DROP FUNCTION user_search_text(TEXT, TEXT, TEXT[]);
-- pg_trgm stays: other databases objects may use it.
