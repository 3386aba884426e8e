-- Member pages are keyset scans of one account's memberships in id order.
CREATE INDEX memberships_account_page_idx ON memberships (account_id, id);
