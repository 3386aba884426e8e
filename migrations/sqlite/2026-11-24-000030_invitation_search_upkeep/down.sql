INSERT INTO invitations_search (rowid, invitation_id, email, first_name, last_name)
    SELECT i.rowid, i.id, i.email, i.first_name, i.last_name
    FROM invitations i JOIN invitations_search_queue q ON q.invitation_id = i.id;
DROP TRIGGER invitations_search_delete;
CREATE TRIGGER invitations_search_delete AFTER DELETE ON invitations BEGIN
    DELETE FROM invitations_search WHERE rowid = old.rowid;
END;
DROP TRIGGER invitations_search_insert;
CREATE TRIGGER invitations_search_insert AFTER INSERT ON invitations BEGIN
    INSERT INTO invitations_search (rowid, invitation_id, email, first_name, last_name)
        VALUES (new.rowid, new.id, new.email, new.first_name, new.last_name);
END;
DROP TABLE invitations_search_queue;
