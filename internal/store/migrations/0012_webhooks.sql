-- Outbound webhooks. An endpoint is a URL a workspace's events are posted
-- to, with the events it wants (comma-separated). Its signing secret is kept
-- only sealed, with its last four characters to tell secrets apart; after a
-- rotation the previous secret signs too until old_secret_until.
CREATE TABLE webhook_endpoints (
    id                 TEXT PRIMARY KEY,
    workspace_id       TEXT NOT NULL REFERENCES workspaces(id),
    url                TEXT NOT NULL,
    events             TEXT NOT NULL,
    secret_sealed      TEXT NOT NULL,
    secret_last4       TEXT NOT NULL,
    old_secret_sealed  TEXT NOT NULL DEFAULT '',
    old_secret_until   BIGINT NOT NULL DEFAULT 0,
    created_at         BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_workspace ON webhook_endpoints (workspace_id, created_at);

-- One event to send to one endpoint, and how sending it went. Its id is the
-- webhook-id header, the same on every attempt. A node claims a due delivery
-- by moving claimed_until a minute ahead, so that no other sends it at the
-- same time. last_status is the last HTTP status (0 when none came back).
CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY,
    workspace_id     TEXT NOT NULL REFERENCES workspaces(id),
    endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoints(id),
    event            TEXT NOT NULL,
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_status      INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT NOT NULL DEFAULT '',
    last_attempt_at  BIGINT,
    next_attempt_at  BIGINT NOT NULL,
    claimed_until    BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at);
