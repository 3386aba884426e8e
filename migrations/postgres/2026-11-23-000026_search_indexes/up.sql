-- Search by "contains" (`q` on members and invitations) through trigram
-- indexes instead of scanning the account: each LIKE '%…%' the listing
-- runs on an email or a lower-cased name can use one of these. Without
-- GIN's pending list (fastupdate off): a search would otherwise also read
-- up to 4 MB of not-yet-merged entries, tens of milliseconds after a burst
-- of sign-ups; each insert pays for its index entries at once instead.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX users_email_trgm_idx ON users USING gin (email gin_trgm_ops) WITH (fastupdate = off);
CREATE INDEX users_first_name_trgm_idx ON users USING gin (lower(first_name) gin_trgm_ops) WITH (fastupdate = off);
CREATE INDEX users_last_name_trgm_idx ON users USING gin (lower(last_name) gin_trgm_ops) WITH (fastupdate = off);
CREATE INDEX invitations_email_trgm_idx ON invitations USING gin (email gin_trgm_ops) WITH (fastupdate = off);
CREATE INDEX invitations_first_name_trgm_idx ON invitations USING gin (lower(first_name) gin_trgm_ops) WITH (fastupdate = off);
CREATE INDEX invitations_last_name_trgm_idx ON invitations USING gin (lower(last_name) gin_trgm_ops) WITH (fastupdate = off);
