-- An incident: a security event a workspace works through the six steps of
-- the playbook. steps_done lists the steps finished, in order.
CREATE TABLE incidents (
    workspace_id   TEXT NOT NULL REFERENCES workspaces(id),
    id             TEXT NOT NULL,
    title          TEXT NOT NULL,
    severity       INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 4),
    detector       TEXT NOT NULL DEFAULT '',
    owner_id       TEXT NOT NULL DEFAULT '',
    opened_by      TEXT NOT NULL DEFAULT '',
    detected_at    BIGINT NOT NULL,
    window_from    BIGINT NOT NULL,
    personal_data  INTEGER NOT NULL DEFAULT 0,
    drill          INTEGER NOT NULL DEFAULT 0,
    steps_done     TEXT NOT NULL DEFAULT '',
    root_cause     TEXT NOT NULL DEFAULT '',
    impact         TEXT NOT NULL DEFAULT '',
    preventive     TEXT NOT NULL DEFAULT '',
    follow_ups     TEXT NOT NULL DEFAULT '',
    closed_at      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX incidents_open ON incidents (workspace_id, closed_at, detector);

-- The timeline of an incident: detections, steps, actions and notes. refs
-- names what an entry stands on, such as audit entry sequence numbers.
CREATE TABLE incident_timeline (
    workspace_id  TEXT NOT NULL,
    incident_id   TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    at            BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    step          TEXT NOT NULL DEFAULT '',
    actor         TEXT NOT NULL DEFAULT '',
    text          TEXT NOT NULL,
    refs          TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (workspace_id, incident_id, seq)
);

-- A saved security baseline: the workspace's members and roles, security
-- settings, restricted categories, retention and webhook targets, as JSON.
CREATE TABLE security_baselines (
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
    id            TEXT NOT NULL,
    name          TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    body          TEXT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);

-- Isolation in force in a workspace: AI auto-replies paused, exports
-- frozen, address ranges refused; and what the operator recorded about the
-- release it runs.
CREATE TABLE workspace_lockdown (
    workspace_id     TEXT PRIMARY KEY REFERENCES workspaces(id),
    ai_paused        INTEGER NOT NULL DEFAULT 0,
    exports_frozen   INTEGER NOT NULL DEFAULT 0,
    ip_deny          TEXT NOT NULL DEFAULT '',
    release_sha256   TEXT NOT NULL DEFAULT '',
    latest_release   TEXT NOT NULL DEFAULT '',
    updated_at       BIGINT NOT NULL DEFAULT 0
);

-- The monthly security checklist, one per workspace and month, and its
-- items with the evidence gathered and the sign-off.
CREATE TABLE checklists (
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
    month         TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, month)
);

CREATE TABLE checklist_items (
    workspace_id  TEXT NOT NULL,
    month         TEXT NOT NULL,
    item          TEXT NOT NULL,
    position      INTEGER NOT NULL,
    title         TEXT NOT NULL,
    summary       TEXT NOT NULL,
    evidence      TEXT NOT NULL,
    signed_by     TEXT NOT NULL DEFAULT '',
    signed_note   TEXT NOT NULL DEFAULT '',
    signed_at     BIGINT NOT NULL DEFAULT 0,
    overdue_at    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, month, item)
);
