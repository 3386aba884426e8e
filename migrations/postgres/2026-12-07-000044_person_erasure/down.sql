DROP INDEX audit_event_targets_target_idx;
DROP INDEX audit_events_actor_any_idx;
DROP TABLE person_erasures;
ALTER TABLE users DROP COLUMN erased_at;
