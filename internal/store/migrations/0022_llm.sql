-- A workspace's optional LLM provider, an OpenAI-compatible chat-completions
-- service that rewrites the knowledge base's answers in the workspace's tone.
-- Its API key is kept only sealed, with its last four characters to tell keys
-- apart. monthly_budget bounds the tokens spent in a calendar month (UTC).
CREATE TABLE llm_settings (
    workspace_id    TEXT PRIMARY KEY REFERENCES workspaces(id),
    enabled         INTEGER NOT NULL,
    base_url        TEXT NOT NULL,
    model           TEXT NOT NULL,
    key_sealed      TEXT NOT NULL,
    key_last4       TEXT NOT NULL,
    tone            TEXT NOT NULL,
    monthly_budget  BIGINT NOT NULL
);

-- The tokens a workspace's provider reported spending, by month ("2026-12").
CREATE TABLE llm_usage (
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
    month         TEXT NOT NULL,
    tokens        BIGINT NOT NULL,
    calls         BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, month)
);
