-- When the next reminder of a pending invitation is due, computed from the
-- account's schedule when the invitation is (re)sent or reminded, so the
-- scheduler finds due reminders with one indexed range scan.
ALTER TABLE invitations ADD COLUMN next_reminder_at TEXT;
CREATE INDEX invitations_reminder_idx ON invitations (next_reminder_at) WHERE status = 'pending';
UPDATE invitations SET next_reminder_at = strftime('%Y-%m-%d %H:%M:%f', sent_at, '+3 days')
    WHERE status = 'pending' AND reminders_sent = 0 AND strftime('%Y-%m-%d %H:%M:%f', sent_at, '+3 days') < expires_at;
