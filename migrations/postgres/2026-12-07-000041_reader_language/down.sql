ALTER TABLE accounts DROP COLUMN invitation_message;
ALTER TABLE accounts DROP COLUMN email_display_name;
ALTER TABLE accounts DROP COLUMN email_locale;
ALTER TABLE invitation_import_rows DROP COLUMN locale;
ALTER TABLE invitations DROP COLUMN locale;
ALTER TABLE users DROP COLUMN time_zone;
ALTER TABLE users DROP COLUMN locale;
