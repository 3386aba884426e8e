-- The plan an account is on (a key of the operator's plans file); empty:
-- the default plan.
ALTER TABLE accounts ADD COLUMN plan TEXT NOT NULL DEFAULT '';
