-- A change to the knowledge base can wait for review: agents propose, and a
-- manager or admin other than the author approves or rejects. A workspace may
-- require review of every change, managers' own included ("four_eyes").
CREATE TABLE kb_proposals (
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
    id            TEXT NOT NULL,
    entry_id      TEXT NOT NULL,
    base_version  INTEGER NOT NULL,
    title         TEXT NOT NULL,
    questions     TEXT NOT NULL,
    answer        TEXT NOT NULL,
    tags          TEXT NOT NULL,
    handoff       TEXT NOT NULL,
    published     INTEGER NOT NULL,
    owner         TEXT NOT NULL,
    proposed_by   TEXT NOT NULL,
    author_id     TEXT NOT NULL,
    reason        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    state         TEXT NOT NULL,
    reviewed_by   TEXT NOT NULL DEFAULT '',
    review_note   TEXT NOT NULL DEFAULT '',
    reviewed_at   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, id)
);

CREATE INDEX kb_proposals_state ON kb_proposals (workspace_id, state, created_at);

-- Who approved a version that went through review.
ALTER TABLE kb_versions ADD COLUMN reviewed_by TEXT NOT NULL DEFAULT '';

ALTER TABLE brain_settings ADD COLUMN kb_review TEXT NOT NULL DEFAULT 'managers';
