-- Search by "contains" (`q` on members) through an FTS5 trigram index
-- instead of scanning the account: a search of three characters or more
-- first finds the users whose email or names contain it here, then checks
-- them with the same LIKE as PostgreSQL. Kept in step with `users` by
-- triggers, row for row by `users`' rowid (stable: Roster never runs
-- VACUUM, the one thing that could renumber it); case-insensitive.
CREATE VIRTUAL TABLE users_search USING fts5 (
    user_id UNINDEXED,
    email,
    first_name,
    last_name,
    tokenize = 'trigram'
);
INSERT INTO users_search (rowid, user_id, email, first_name, last_name)
    SELECT rowid, id, email, first_name, last_name FROM users;
CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_search (rowid, user_id, email, first_name, last_name)
        VALUES (new.rowid, new.id, new.email, new.first_name, new.last_name);
END;
CREATE TRIGGER users_search_update AFTER UPDATE OF email, first_name, last_name ON users BEGIN
    UPDATE users_search SET email = new.email, first_name = new.first_name, last_name = new.last_name
        WHERE rowid = new.rowid;
END;
CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN
    DELETE FROM users_search WHERE rowid = old.rowid;
END;
