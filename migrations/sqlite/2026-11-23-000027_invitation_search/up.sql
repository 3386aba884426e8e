-- Invitation search (`q`) through an FTS5 trigram index, as for members
-- (migration 26): candidates here, then the same LIKE as PostgreSQL, whose
-- trigram indexes on invitations came with migration 26.
CREATE VIRTUAL TABLE invitations_search USING fts5 (
    invitation_id UNINDEXED,
    email,
    first_name,
    last_name,
    tokenize = 'trigram'
);
INSERT INTO invitations_search (rowid, invitation_id, email, first_name, last_name)
    SELECT rowid, id, email, first_name, last_name FROM invitations;
CREATE TRIGGER invitations_search_insert AFTER INSERT ON invitations BEGIN
    INSERT INTO invitations_search (rowid, invitation_id, email, first_name, last_name)
        VALUES (new.rowid, new.id, new.email, new.first_name, new.last_name);
END;
CREATE TRIGGER invitations_search_update AFTER UPDATE OF email, first_name, last_name ON invitations BEGIN
    UPDATE invitations_search SET email = new.email, first_name = new.first_name, last_name = new.last_name
        WHERE rowid = new.rowid;
END;
CREATE TRIGGER invitations_search_delete AFTER DELETE ON invitations BEGIN
    DELETE FROM invitations_search WHERE rowid = old.rowid;
END;
