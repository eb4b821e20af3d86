-- A contact from an integrator's channel may carry the channel's own id for
-- the person ("meta:1234" for a Meta-connected page or account), so that the
-- channel's data-deletion callback finds them.
ALTER TABLE contacts ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
CREATE INDEX contacts_external ON contacts (workspace_id, external_id);

-- The Meta app secret that signs a workspace's data-deletion callbacks,
-- sealed with the master keyring.
CREATE TABLE meta_apps (
    workspace_id       TEXT PRIMARY KEY REFERENCES workspaces(id),
    app_secret_sealed  TEXT NOT NULL,
    updated_at         BIGINT NOT NULL
);
