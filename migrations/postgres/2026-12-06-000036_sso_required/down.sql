ALTER TABLE accounts DROP COLUMN sso_break_glass_user_id;
ALTER TABLE accounts DROP COLUMN sso_required;
