DROP TABLE activity_events;
