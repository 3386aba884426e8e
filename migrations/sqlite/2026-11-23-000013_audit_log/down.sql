DROP TABLE audit_event_targets;
DROP TABLE audit_events;
DROP TABLE audit_purge_permits;
DROP TABLE audit_anchors;
