-- An account may require its people (members whose email is at one of its
-- verified domains) to sign in through its identity provider. One owner,
-- the break-glass owner, keeps password access; when that user is no
-- longer an owner, every owner does.
ALTER TABLE accounts ADD COLUMN sso_required BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN sso_break_glass_user_id TEXT REFERENCES users (id) ON DELETE SET NULL;
