-- SQLite keeps the audit log append-only for the application too: whoever
-- holds the database file can drop these triggers, which is why the chain
-- and its checkpoints exist, but a statement the product runs cannot
-- change or remove an entry the retention prune has not released.

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only (UPDATE refused)');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN OLD.seq > (SELECT base_seq FROM audit_head WHERE id = 1)
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only (DELETE refused)');
END;

CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head
WHEN NEW.seq < OLD.seq OR NEW.base_seq < OLD.base_seq
    OR (OLD.key_id <> '' AND NEW.key_id <> OLD.key_id)
BEGIN
    SELECT RAISE(ABORT, 'the audit head only moves forward, under one key');
END;

CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN
    SELECT RAISE(ABORT, 'the audit head is never deleted');
END;

-- INSERT OR REPLACE deletes the row it replaces without firing the delete
-- trigger: refuse an entry whose number is taken, and any new head row.
CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log
WHEN EXISTS (SELECT 1 FROM audit_log WHERE seq = NEW.seq)
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only (REPLACE refused)');
END;

CREATE TRIGGER audit_head_no_insert BEFORE INSERT ON audit_head
BEGIN
    SELECT RAISE(ABORT, 'the audit head is never replaced');
END;
