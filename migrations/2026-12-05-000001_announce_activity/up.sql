-- Live updates: every recorded activity event (one per data-changing
-- mutation, in the same transaction as the change) is announced on the
-- `user_service_activity` channel. PostgreSQL delivers a NOTIFY only when
-- its transaction commits, to every listening session: every replica
-- hears every committed change, and nothing of a rolled-back one.
-- The summary is cut to 1000 characters so the payload stays far below
-- NOTIFY's 8000-byte limit.
CREATE FUNCTION announce_activity() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('user_service_activity', json_build_object(
        'id', NEW.id,
        'auth_user_id', NEW.auth_user_id,
        'kind', NEW.kind,
        'occurred_at', NEW.occurred_at,
        'goal_id', NEW.goal_id,
        'badge_id', NEW.badge_id,
        'summary', left(NEW.summary, 1000)
    )::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER activity_events_announce
    AFTER INSERT ON activity_events
    FOR EACH ROW EXECUTE FUNCTION announce_activity();
