-- Workspace API keys. Only an HMAC of each key (under a pepper kept outside
-- the database) is stored, with its last four characters to tell keys apart.
-- A key holds scopes (comma-separated, none by default), an optional list of
-- CIDR ranges it may be used from, a rate limit, an expiry, and once revoked
-- the reason. A rolled key names the key that replaced it.
CREATE TABLE api_keys (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id),
    name            TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    key_hash        TEXT NOT NULL UNIQUE,
    last4           TEXT NOT NULL,
    scopes          TEXT NOT NULL,
    allowed_ips     TEXT NOT NULL,
    rate_limit      INTEGER NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    revoked_at      BIGINT,
    revoked_reason  TEXT NOT NULL DEFAULT '',
    rolled_to       TEXT NOT NULL DEFAULT '',
    last_used_at    BIGINT,
    last_used_ip    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX api_keys_workspace ON api_keys (workspace_id, created_at);
