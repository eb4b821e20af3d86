-- How long each workspace keeps each class of data, in days; a class without
-- a row keeps the product's default. 0 keeps it until deleted by hand.
CREATE TABLE retention_policies (
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
    class         TEXT NOT NULL,
    days          INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, class)
);

-- A legal hold keeps a contact's or a conversation's data past retention
-- until it is lifted. Lifted holds stay, for the record.
CREATE TABLE legal_holds (
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
    id            TEXT NOT NULL,
    target_type   TEXT NOT NULL CHECK (target_type IN ('contact', 'conversation')),
    target_id     TEXT NOT NULL,
    reason        TEXT NOT NULL,
    placed_by     TEXT NOT NULL,
    placed_at     BIGINT NOT NULL,
    lifted_by     TEXT NOT NULL DEFAULT '',
    lifted_at     BIGINT NOT NULL DEFAULT 0,
    lift_reason   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX legal_holds_target ON legal_holds (workspace_id, target_type, target_id);

-- A lease lets one node at a time run a job such as the nightly purge.
CREATE TABLE job_leases (
    name    TEXT PRIMARY KEY,
    holder  TEXT NOT NULL,
    until   BIGINT NOT NULL
);

-- Deleting a contact or a message checks what still refers to it: these
-- indexes keep each check from reading the whole referring table.
CREATE INDEX conversations_contact ON conversations (contact_id);
CREATE INDEX decisions_message ON decisions (message_id);
CREATE INDEX sessions_expiry ON sessions (workspace_id, expires_at);
CREATE INDEX decisions_age ON decisions (workspace_id, created_at);
