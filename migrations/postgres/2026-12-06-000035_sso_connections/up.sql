-- An account's OpenID providers. The client secret is sealed with the
-- deployment's secrets key (never shown again); the role mapping is JSON
-- that names roles by key and groups by id (a rule naming a role or group
-- deleted since gives nothing).
CREATE TABLE sso_connections (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    issuer          TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    client_secret   TEXT NOT NULL,
    scopes          TEXT NOT NULL,
    email_claim     TEXT NOT NULL,
    groups_claim    TEXT,
    group_rules     TEXT NOT NULL,
    default_roles   TEXT NOT NULL,
    enabled         BOOLEAN NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX sso_connections_account_idx ON sso_connections (account_id);

-- Who signed in through a connection: the provider's subject, which stays
-- the same person when their email changes there.
CREATE TABLE sso_identities (
    connection_id   TEXT NOT NULL REFERENCES sso_connections (id) ON DELETE CASCADE,
    subject         TEXT NOT NULL,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      TIMESTAMP NOT NULL,
    last_sign_in_at TIMESTAMP NOT NULL,
    PRIMARY KEY (connection_id, subject)
);
CREATE INDEX sso_identities_user_idx ON sso_identities (user_id);

-- A sign-in sent to the provider and not back yet: found by the digest of
-- its state, used once. The PKCE verifier is sealed.
CREATE TABLE sso_attempts (
    state_digest    TEXT PRIMARY KEY,
    connection_id   TEXT NOT NULL REFERENCES sso_connections (id) ON DELETE CASCADE,
    nonce           TEXT NOT NULL,
    pkce_verifier   TEXT NOT NULL,
    redirect_uri    TEXT NOT NULL,
    expires_at      TIMESTAMP NOT NULL
);

-- The one-time code the frontend exchanges for Roster's tokens.
CREATE TABLE sso_grants (
    code_digest     TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    connection_id   TEXT NOT NULL REFERENCES sso_connections (id) ON DELETE CASCADE,
    expires_at      TIMESTAMP NOT NULL
);

-- Roles a connection's mapping gave: taken back when the mapping no
-- longer gives them; roles given by hand (NULL) are left alone.
ALTER TABLE role_assignments ADD COLUMN sso_connection_id TEXT REFERENCES sso_connections (id) ON DELETE SET NULL;
-- The connection a session signed in through, if any.
ALTER TABLE sessions ADD COLUMN sso_connection_id TEXT REFERENCES sso_connections (id) ON DELETE SET NULL;
