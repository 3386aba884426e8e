DELETE FROM user_tokens WHERE purpose <> 'verify_email';
ALTER TABLE user_tokens DROP COLUMN purpose;
ALTER TABLE user_tokens RENAME TO email_verifications;
DROP TABLE sessions;
