-- Invitations: how an admin brings a colleague into a workspace. The link's
-- token is stored only as a hash; it works once, until it expires.
CREATE TABLE invitations (
    token_hash    TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
    email         TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'agent')),
    inbox_ids     TEXT NOT NULL,
    invited_by    TEXT NOT NULL REFERENCES users(id),
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    used_at       BIGINT
);
CREATE INDEX invitations_workspace ON invitations (workspace_id);
