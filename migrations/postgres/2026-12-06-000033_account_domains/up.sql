-- Email domains an account claims, each proved by a DNS TXT record
-- (`_roster-verification.<domain>` = `roster-verification=<token>`; the
-- token is published in DNS, so it is no secret). A domain is verified by
-- one account at most; subdomains are domains of their own. A verified
-- domain whose record goes missing keeps `missing_since` until the record
-- is back or the grace runs out.
CREATE TABLE account_domains (
    id             TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    domain         TEXT NOT NULL,
    token          TEXT NOT NULL,
    verified_at    TIMESTAMP,
    missing_since  TIMESTAMP,
    checked_at     TIMESTAMP,
    created_at     TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX account_domains_claim_idx ON account_domains (account_id, domain);
CREATE UNIQUE INDEX account_domains_verified_idx ON account_domains (domain) WHERE verified_at IS NOT NULL;
