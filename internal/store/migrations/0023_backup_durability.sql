-- Durability: a customer message may carry the id its channel or client gave
-- it, so that a retry after a lost answer or a crash is recognised and stored
-- once. The id is unique within its conversation only: one conversation's ids
-- say nothing about another's.
ALTER TABLE messages ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX messages_external_id ON messages (conversation_id, external_id)
    WHERE external_id IS NOT NULL;

-- Each `thunaivi restore --verify`: when it ran, which backup file (its
-- SHA-256), what the backup said of itself, and whether the restored copy
-- held up. The monthly checklist reads the newest row.
CREATE TABLE backup_verifications (
    id               TEXT PRIMARY KEY,
    verified_at      BIGINT NOT NULL,
    file_sha256      TEXT NOT NULL,
    backup_at        BIGINT NOT NULL,
    engine           TEXT NOT NULL,
    schema_version   INTEGER NOT NULL,
    ok               BOOLEAN NOT NULL,
    rows_restored    BIGINT NOT NULL,
    audit_entries    BIGINT NOT NULL,
    secrets_checked  INTEGER NOT NULL,
    detail           TEXT NOT NULL
);
CREATE INDEX backup_verifications_at ON backup_verifications (verified_at);
