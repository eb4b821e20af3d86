-- A workspace's settings for the guardrails every AI reply passes: phrases
-- no reply may hold (one a line), and the longest reply (0: the default).
CREATE TABLE ai_policies (
    workspace_id  TEXT PRIMARY KEY REFERENCES workspaces(id),
    claims        TEXT NOT NULL,
    max_chars     INTEGER NOT NULL
);
