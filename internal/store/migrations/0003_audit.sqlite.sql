-- SQLite keeps the audit log append-only for the application too: whoever
-- holds the database file can drop these triggers, which is why the chain
-- and its checkpoints exist, but a statement the product runs cannot change
-- an entry, remove one the retention prune has not released, add one out of
-- turn, or move the head anywhere but one step on.

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only (UPDATE refused)');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN OLD.seq > (SELECT base_seq FROM audit_head WHERE id = 1)
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only (DELETE refused)');
END;

-- An entry is appended right after the head, never anywhere else. This also
-- refuses INSERT OR REPLACE, which would delete the row it replaces without
-- firing the delete trigger.
CREATE TRIGGER audit_log_in_turn BEFORE INSERT ON audit_log
WHEN NEW.seq <> (SELECT seq + 1 FROM audit_head WHERE id = 1)
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only (an entry out of turn refused)');
END;

-- The head moves one entry at a time, to an entry that exists with that
-- hash, under one key; its base (the prune point) moves only forward, to an
-- entry at least 365 days old.
CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head
WHEN NOT (NEW.seq = OLD.seq OR NEW.seq = OLD.seq + 1)
    OR (NEW.hash <> OLD.hash
        AND NOT EXISTS (SELECT 1 FROM audit_log WHERE seq = NEW.seq AND hash = NEW.hash))
    OR NEW.base_seq < OLD.base_seq OR NEW.sealed_seq < OLD.sealed_seq
    OR NEW.sealed_seq > NEW.seq
    OR (NEW.base_hash <> OLD.base_hash AND NEW.base_seq = OLD.base_seq)
    OR (NEW.base_seq <> OLD.base_seq AND NOT EXISTS (
        SELECT 1 FROM audit_log WHERE seq = NEW.base_seq AND hash = NEW.base_hash
          AND at < CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 365 * 86400000))
    OR (OLD.key_id <> '' AND NEW.key_id <> OLD.key_id)
BEGIN
    SELECT RAISE(ABORT, 'the audit head only moves one entry on, under one key');
END;

CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN
    SELECT RAISE(ABORT, 'the audit head is never deleted');
END;

CREATE TRIGGER audit_head_no_insert BEFORE INSERT ON audit_head
BEGIN
    SELECT RAISE(ABORT, 'the audit head is never replaced');
END;
