-- Data-subject requests: a customer asks for their data (access,
-- portability) or its deletion. contact_id stays after a deletion as the
-- request's only, pseudonymous, reference to the person: it names nothing
-- once the contact is gone. token_hash lets the requester follow the request
-- from a link; code_hash, when set, is the link's proof that they read the
-- contact's mail.
CREATE TABLE data_requests (
    workspace_id     TEXT NOT NULL REFERENCES workspaces(id),
    id               TEXT NOT NULL,
    contact_id       TEXT NOT NULL,
    kinds            TEXT NOT NULL,
    source           TEXT NOT NULL CHECK (source IN ('widget', 'email', 'agent', 'meta')),
    state            TEXT NOT NULL,
    token_hash       TEXT NOT NULL,
    verified_by      TEXT NOT NULL DEFAULT '',
    filed_by         TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    due_at           BIGINT NOT NULL,
    verified_at      BIGINT NOT NULL DEFAULT 0,
    decided_by       TEXT NOT NULL DEFAULT '',
    decided_at       BIGINT NOT NULL DEFAULT 0,
    note             TEXT NOT NULL DEFAULT '',
    completed_at     BIGINT NOT NULL DEFAULT 0,
    receipt          TEXT NOT NULL DEFAULT '',
    reminded_at      BIGINT NOT NULL DEFAULT 0,
    overdue_at       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX data_requests_open ON data_requests (state, due_at);

-- An export waits here, sealed with the master key, for its requester to
-- download it, and is removed when it expires.
CREATE TABLE data_exports (
    workspace_id  TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    archive       TEXT NOT NULL,
    expires_at    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, request_id)
);
