-- Files customers and agents attach to messages. The content lives in the
-- store itself, beside the message, so that backups, restores and deletion
-- cover it in the same transaction as the rest of a conversation; its column
-- is added by the dialect files, in each engine's binary type. name is the
-- sanitized file name shown for it, content_type what the content was
-- checked to be, sha256 the content's digest. uploader_type is customer or
-- agent; uploader_id is the agent's user id, empty for a customer.
CREATE TABLE attachments (
    workspace_id     TEXT NOT NULL REFERENCES workspaces(id),
    id               TEXT NOT NULL,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id),
    message_id       TEXT NOT NULL REFERENCES messages(id),
    name             TEXT NOT NULL,
    content_type     TEXT NOT NULL,
    size             BIGINT NOT NULL,
    sha256           TEXT NOT NULL,
    uploader_type    TEXT NOT NULL CHECK (uploader_type IN ('customer', 'agent')),
    uploader_id      TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX attachments_conversation ON attachments (conversation_id, created_at);
CREATE INDEX attachments_age ON attachments (workspace_id, created_at);

-- How many files a message was sent with: once retention removes a file,
-- the message still says that it had one.
ALTER TABLE messages ADD COLUMN attached INTEGER NOT NULL DEFAULT 0;
