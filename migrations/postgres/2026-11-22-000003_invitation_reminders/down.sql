DROP INDEX invitations_reminder_idx;
ALTER TABLE invitations DROP COLUMN next_reminder_at;
