DROP TRIGGER IF EXISTS activity_events_announce ON activity_events;
DROP FUNCTION IF EXISTS announce_activity();
