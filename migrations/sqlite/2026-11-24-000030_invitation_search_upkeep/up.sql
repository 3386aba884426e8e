-- A new invitation waits in a queue for the search index instead of
-- entering it in its own transaction: FTS5 writes a segment per
-- transaction (~70 µs under the write lock, 10–20 % of an invite→accept
-- flow), and the job runner moves the queue into the index in batches,
-- one segment each. Searches read the index and the queue, so a queued
-- invitation is found as soon as it is committed.
CREATE TABLE invitations_search_queue (
    invitation_id TEXT PRIMARY KEY
) WITHOUT ROWID;
DROP TRIGGER invitations_search_insert;
CREATE TRIGGER invitations_search_insert AFTER INSERT ON invitations BEGIN
    INSERT INTO invitations_search_queue (invitation_id) VALUES (new.id);
END;
DROP TRIGGER invitations_search_delete;
CREATE TRIGGER invitations_search_delete AFTER DELETE ON invitations BEGIN
    DELETE FROM invitations_search WHERE rowid = old.rowid;
    DELETE FROM invitations_search_queue WHERE invitation_id = old.id;
END;
