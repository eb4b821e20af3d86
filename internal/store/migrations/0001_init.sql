-- The support core: workspaces, people, inboxes, conversations, the knowledge
-- base and the AI's decisions. Every workspace-owned table carries
-- workspace_id and every query filters by it. Times are Unix milliseconds.

CREATE TABLE workspaces (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL DEFAULT '',
    password_hash  TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);

CREATE TABLE members (
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
    user_id       TEXT NOT NULL REFERENCES users(id),
    role          TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'agent')),
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);

CREATE TABLE teams (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
    name          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE team_members (
    workspace_id  TEXT NOT NULL,
    team_id       TEXT NOT NULL REFERENCES teams(id),
    user_id       TEXT NOT NULL REFERENCES users(id),
    PRIMARY KEY (team_id, user_id)
);

CREATE TABLE inboxes (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
    name          TEXT NOT NULL,
    channel       TEXT NOT NULL CHECK (channel IN ('website')),
    widget_token  TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL
);
CREATE INDEX inboxes_workspace ON inboxes (workspace_id);

CREATE TABLE inbox_members (
    workspace_id  TEXT NOT NULL,
    inbox_id      TEXT NOT NULL REFERENCES inboxes(id),
    user_id       TEXT NOT NULL REFERENCES users(id),
    PRIMARY KEY (inbox_id, user_id)
);
CREATE INDEX inbox_members_user ON inbox_members (workspace_id, user_id);

CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id),
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE setup_tokens (
    token_hash  TEXT PRIMARY KEY,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);

CREATE TABLE contacts (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
    name          TEXT NOT NULL DEFAULT '',
    email         TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL
);
CREATE INDEX contacts_workspace ON contacts (workspace_id);

CREATE TABLE conversations (
    id               TEXT PRIMARY KEY,
    workspace_id     TEXT NOT NULL REFERENCES workspaces(id),
    inbox_id         TEXT NOT NULL REFERENCES inboxes(id),
    contact_id       TEXT NOT NULL REFERENCES contacts(id),
    visitor_hash     TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'open'
                     CHECK (status IN ('open', 'pending', 'resolved', 'escalated')),
    priority         TEXT NOT NULL DEFAULT 'medium'
                     CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
    assignee_id      TEXT REFERENCES users(id),
    team_id          TEXT REFERENCES teams(id),
    subject          TEXT NOT NULL DEFAULT '',
    last_seq         BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    last_message_at  BIGINT NOT NULL
);
CREATE INDEX conversations_list ON conversations (workspace_id, last_message_at);
CREATE INDEX conversations_inbox ON conversations (workspace_id, inbox_id, last_message_at);

CREATE TABLE conversation_labels (
    workspace_id     TEXT NOT NULL,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id),
    label            TEXT NOT NULL,
    PRIMARY KEY (conversation_id, label)
);

-- kind: incoming (from the customer), outgoing (to the customer) or note
-- (internal). state: sent, draft (an AI reply waiting for an agent) or
-- rejected (a draft an agent turned down). Customers see only sent incoming
-- and outgoing messages.
CREATE TABLE messages (
    id               TEXT PRIMARY KEY,
    workspace_id     TEXT NOT NULL,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id),
    seq              BIGINT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('incoming', 'outgoing', 'note')),
    author_type      TEXT NOT NULL CHECK (author_type IN ('customer', 'ai', 'agent', 'system')),
    author_id        TEXT,
    body             TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'sent' CHECK (state IN ('sent', 'draft', 'rejected')),
    kb_entry_id      TEXT,
    created_at       BIGINT NOT NULL,
    UNIQUE (conversation_id, seq)
);

CREATE TABLE decisions (
    id               TEXT PRIMARY KEY,
    workspace_id     TEXT NOT NULL,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id),
    message_id       TEXT NOT NULL REFERENCES messages(id),
    action           TEXT NOT NULL CHECK (action IN ('answer', 'draft', 'handoff')),
    category         TEXT NOT NULL DEFAULT '',
    matched_phrase   TEXT NOT NULL DEFAULT '',
    entry_id         TEXT NOT NULL DEFAULT '',
    confidence       DOUBLE PRECISION NOT NULL,
    candidates       TEXT NOT NULL,
    reason           TEXT NOT NULL,
    created_at       BIGINT NOT NULL
);
CREATE INDEX decisions_conversation ON decisions (conversation_id);

CREATE TABLE kb_entries (
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
    id            TEXT NOT NULL,
    title         TEXT NOT NULL,
    questions     TEXT NOT NULL,
    answer        TEXT NOT NULL,
    tags          TEXT NOT NULL,
    handoff       TEXT NOT NULL DEFAULT '',
    published     INTEGER NOT NULL DEFAULT 1,
    version       INTEGER NOT NULL,
    updated_by    TEXT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);

CREATE TABLE kb_versions (
    workspace_id  TEXT NOT NULL,
    entry_id      TEXT NOT NULL,
    version       INTEGER NOT NULL,
    title         TEXT NOT NULL,
    questions     TEXT NOT NULL,
    answer        TEXT NOT NULL,
    tags          TEXT NOT NULL,
    handoff       TEXT NOT NULL,
    published     INTEGER NOT NULL,
    changed_by    TEXT NOT NULL,
    reason        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, entry_id, version)
);

CREATE TABLE restricted_categories (
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
    name          TEXT NOT NULL,
    description   TEXT NOT NULL,
    phrases       TEXT NOT NULL,
    examples      TEXT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, name)
);

-- One row per workspace once its AI settings or knowledge change: revision
-- grows with every change, so each node rebuilds its router when it sees a
-- newer one.
CREATE TABLE brain_settings (
    workspace_id  TEXT PRIMARY KEY REFERENCES workspaces(id),
    revision      BIGINT NOT NULL,
    thresholds    TEXT NOT NULL DEFAULT ''
);
