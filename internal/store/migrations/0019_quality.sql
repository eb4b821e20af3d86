-- Measured answer quality and customer feedback.
--
-- golden_cases: a workspace's golden set, messages with the outcome the AI
-- should reach (answer with entry_id, or handoff for category), imported or
-- recorded by an agent from a conversation (conversation_id, message_id).
-- quality_runs: each run of the golden set through the workspace's router and
-- guardrails, with eval's metrics, per-category counts (JSON), the knowledge
-- base's revision when it ran, and the metrics that fell below the
-- workspace's thresholds (comma-separated, empty when none).
-- quality_thresholds: a workspace's thresholds, when it set its own.
-- ai_reply_flags: an agent's flag on an AI reply they found wrong, with the
-- right outcome when they gave it; one flag a reply.
-- csat_ratings: a customer's one rating of their resolved conversation.
CREATE TABLE golden_cases (
    id               TEXT PRIMARY KEY,
    workspace_id     TEXT NOT NULL REFERENCES workspaces(id),
    text             TEXT NOT NULL,
    expect           TEXT NOT NULL CHECK (expect IN ('answer', 'handoff')),
    entry_id         TEXT NOT NULL DEFAULT '',
    category         TEXT NOT NULL DEFAULT '',
    note             TEXT NOT NULL DEFAULT '',
    source           TEXT NOT NULL CHECK (source IN ('import', 'conversation', 'flag')),
    conversation_id  TEXT NOT NULL DEFAULT '',
    message_id       TEXT NOT NULL DEFAULT '',
    created_by       TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL
);
CREATE INDEX golden_cases_workspace ON golden_cases (workspace_id, created_at);

CREATE TABLE quality_runs (
    id                     TEXT PRIMARY KEY,
    workspace_id           TEXT NOT NULL REFERENCES workspaces(id),
    trigger_kind           TEXT NOT NULL CHECK (trigger_kind IN ('weekly', 'publish', 'manual')),
    started_at             BIGINT NOT NULL,
    cases                  INTEGER NOT NULL,
    restricted_recall      DOUBLE PRECISION NOT NULL,
    answer_precision       DOUBLE PRECISION NOT NULL,
    deflection             DOUBLE PRECISION NOT NULL,
    oos_false_answer_rate  DOUBLE PRECISION NOT NULL,
    by_category            TEXT NOT NULL,
    kb_revision            BIGINT NOT NULL,
    below                  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX quality_runs_workspace ON quality_runs (workspace_id, trigger_kind, started_at);

CREATE TABLE quality_thresholds (
    workspace_id       TEXT PRIMARY KEY REFERENCES workspaces(id),
    restricted_recall  DOUBLE PRECISION NOT NULL,
    answer_precision   DOUBLE PRECISION NOT NULL
);

CREATE TABLE ai_reply_flags (
    id               TEXT PRIMARY KEY,
    workspace_id     TEXT NOT NULL REFERENCES workspaces(id),
    conversation_id  TEXT NOT NULL REFERENCES conversations(id),
    message_id       TEXT NOT NULL REFERENCES messages(id),
    flagged_by       TEXT NOT NULL,
    note             TEXT NOT NULL DEFAULT '',
    expect           TEXT NOT NULL DEFAULT '' CHECK (expect IN ('', 'answer', 'handoff')),
    entry_id         TEXT NOT NULL DEFAULT '',
    category         TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL,
    UNIQUE (workspace_id, message_id)
);

CREATE TABLE csat_ratings (
    conversation_id  TEXT PRIMARY KEY REFERENCES conversations(id),
    workspace_id     TEXT NOT NULL REFERENCES workspaces(id),
    score            INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment          TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL
);

-- The KPIs read a workspace's conversations and AI replies by week.
CREATE INDEX conversations_created ON conversations (workspace_id, created_at);
CREATE INDEX messages_created ON messages (workspace_id, created_at);
