-- SQLite stores an INTEGER PRIMARY KEY as the row id, which spares an index
-- on every append; PostgreSQL needs the wider type said.
ALTER TABLE audit_log ALTER COLUMN seq TYPE BIGINT;

-- On PostgreSQL the database itself keeps the audit log append-only: no
-- UPDATE, no TRUNCATE, and DELETE only by the retention prune, which names
-- itself with a transaction setting and may only remove entries the head
-- already marks as pruned. The head's base moves forward only, and only to
-- an entry older than 365 days, so even a hijacked connection cannot prune
-- recent history.

CREATE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND current_setting('thunaivi.audit_prune', true) = 'on'
       AND OLD.seq <= (SELECT base_seq FROM audit_head WHERE id = 1) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_guard();

-- An entry is appended at the head the append just moved to (an append
-- first moves the head's number, locking it, then inserts), never anywhere
-- else.
CREATE FUNCTION audit_log_in_turn() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq <> (SELECT seq FROM audit_head WHERE id = 1) THEN
        RAISE EXCEPTION 'the audit log is append-only (an entry out of turn refused)'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER audit_log_in_turn BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_in_turn();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_guard();

CREATE FUNCTION audit_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' THEN
        RAISE EXCEPTION 'the audit head is never % ', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT (NEW.seq = OLD.seq OR NEW.seq = OLD.seq + 1)
       OR (NEW.hash <> OLD.hash AND NOT EXISTS (
           SELECT 1 FROM audit_log WHERE seq = NEW.seq AND hash = NEW.hash))
       OR NEW.base_seq < OLD.base_seq OR NEW.sealed_seq < OLD.sealed_seq
       OR NEW.sealed_seq > NEW.seq
       OR (NEW.base_hash <> OLD.base_hash AND NEW.base_seq = OLD.base_seq)
       OR (OLD.key_id <> '' AND NEW.key_id <> OLD.key_id) THEN
        RAISE EXCEPTION 'the audit head only moves one entry on, under one key'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.base_seq <> OLD.base_seq AND NOT EXISTS (
        SELECT 1 FROM audit_log
        WHERE seq = NEW.base_seq AND hash = NEW.base_hash
          AND at < (EXTRACT(EPOCH FROM now()) * 1000)::BIGINT - 365::BIGINT * 86400000) THEN
        RAISE EXCEPTION 'audit entries younger than 365 days are never pruned'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER audit_head_forward BEFORE UPDATE OR DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_head_guard();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_head_guard();
