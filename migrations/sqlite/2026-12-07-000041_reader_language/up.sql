-- The language people read emails in. A user may choose their own language
-- (a BCP 47 tag) and time zone (an IANA name); an invitation (or a row of
-- a spreadsheet) may name the language of someone who has no user yet; an
-- account may name the language of its emails, a name its emails use in
-- place of its own, and a message its invitations carry (as in PostgreSQL's migration 41).
ALTER TABLE users ADD COLUMN locale TEXT;
ALTER TABLE users ADD COLUMN time_zone TEXT;
ALTER TABLE invitations ADD COLUMN locale TEXT;
-- A spreadsheet's optional `locale` column, kept with its row until the row is imported.
ALTER TABLE invitation_import_rows ADD COLUMN locale TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN email_locale TEXT;
ALTER TABLE accounts ADD COLUMN email_display_name TEXT;
ALTER TABLE accounts ADD COLUMN invitation_message TEXT;
