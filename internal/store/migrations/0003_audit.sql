-- The audit log: one hash chain over every workspace. Each row's hash is an
-- HMAC, with a key kept outside the database, over the previous row's hash
-- and the row's canonical encoding; see internal/audit. Rows are only ever
-- appended, and pruned from the oldest end by the retention job.

CREATE TABLE audit_log (
    seq           INTEGER PRIMARY KEY,
    at            BIGINT NOT NULL,
    workspace_id  TEXT NOT NULL,
    actor_type    TEXT NOT NULL,
    actor_id      TEXT NOT NULL,
    actor_email   TEXT NOT NULL,
    ip            TEXT NOT NULL,
    user_agent    TEXT NOT NULL,
    action        TEXT NOT NULL,
    target_type   TEXT NOT NULL,
    target_id     TEXT NOT NULL,
    outcome       TEXT NOT NULL,
    reason        TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    diff          TEXT NOT NULL,
    hash          TEXT NOT NULL
);
CREATE INDEX audit_log_workspace ON audit_log (workspace_id, at);
-- API-key use is looked up by key, so only its entries need the index.
CREATE INDEX audit_log_key_use ON audit_log (target_id) WHERE action = 'apikey.used';

-- The chain's head and base. seq and hash are the newest entry's; base_seq
-- and base_hash the newest pruned one's, from which the remaining chain is
-- verified. key_id names, without revealing it, the key the chain is written
-- with, so that a product started with another key refuses rather than
-- breaking the chain. sealed_seq is the newest entry a checkpoint was written
-- for, so that checkpoints gone from their sink are noticed. One row, locked
-- by every append so that appends are ordered.
CREATE TABLE audit_head (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    seq         BIGINT NOT NULL,
    hash        TEXT NOT NULL,
    base_seq    BIGINT NOT NULL,
    base_hash   TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    sealed_seq  BIGINT NOT NULL
);
INSERT INTO audit_head (id, seq, hash, base_seq, base_hash, key_id, sealed_seq)
VALUES (1, 0, '', 0, '', '', 0);

-- A disconnected inbox keeps its conversations; its widget token is replaced
-- by one nobody holds, so the old one stops working at once.
ALTER TABLE inboxes ADD COLUMN disconnected_at BIGINT;
