-- name: LockHead
-- On PostgreSQL the update locks the head row until the transaction ends,
-- which orders concurrent appends. SQLite's one writer needs no lock, and
-- reads the head instead (NextSeq).
UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash;

-- name: NextSeq
SELECT seq + 1, hash FROM audit_head WHERE id = 1;

-- name: SetHead
UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1;

-- name: InsertEntry
INSERT INTO audit_log (seq, at, workspace_id, actor_type, actor_id, actor_email, ip,
    user_agent, action, target_type, target_id, outcome, reason, request_id, diff, hash)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: Head
SELECT seq, hash, base_seq, base_hash FROM audit_head WHERE id = 1;

-- name: PastHead
-- Entries past the head. Every append commits its entry and the head
-- together, so in one statement's snapshot there are none, unless planted.
SELECT COALESCE(MIN(seq), 0) FROM audit_log WHERE seq > (SELECT seq FROM audit_head WHERE id = 1);

-- name: SealedSeq
SELECT sealed_seq FROM audit_head WHERE id = 1;

-- name: MarkSealed
UPDATE audit_head SET sealed_seq = ? WHERE id = 1 AND sealed_seq < ?;

-- name: KeyID
SELECT key_id FROM audit_head WHERE id = 1;

-- name: ClaimKey
UPDATE audit_head SET key_id = ? WHERE id = 1 AND key_id = '';

-- name: ChainFrom
SELECT seq, at, workspace_id, actor_type, actor_id, actor_email, ip, user_agent, action,
    target_type, target_id, outcome, reason, request_id, diff, hash
FROM audit_log WHERE seq > ? AND seq <= ? ORDER BY seq;

-- name: ListEntries
-- A filter left empty matches everything; an action filter also matches the
-- actions under it ("authn" matches "authn.login.fail"). Only the chain's
-- entries are shown: none at or below the prune point, none past the head.
SELECT seq, at, workspace_id, actor_type, actor_id, actor_email, ip, user_agent, action,
    target_type, target_id, outcome, reason, request_id, diff, hash
FROM audit_log
WHERE workspace_id = ? AND at >= ? AND at < ? AND seq < ?
  AND seq > (SELECT base_seq FROM audit_head WHERE id = 1)
  AND seq <= (SELECT seq FROM audit_head WHERE id = 1)
  AND (? = '' OR actor_id = ? OR actor_email = ? OR actor_type = ?)
  AND (? = '' OR action = ? OR action LIKE ?)
  AND (? = '' OR target_id = ? OR target_type = ?)
  AND (? = '' OR outcome = ?)
ORDER BY seq DESC LIMIT ?;

-- name: LastBefore
SELECT COALESCE(MAX(seq), 0) FROM audit_log WHERE at < ? AND seq <= ?;

-- name: HashOf
SELECT hash FROM audit_log WHERE seq = ?;

-- name: HashAndTimeOf
SELECT hash, at FROM audit_log WHERE seq = ?;

-- name: SetBase
UPDATE audit_head SET base_seq = ?, base_hash = ? WHERE id = 1;

-- name: PruneBatch
DELETE FROM audit_log WHERE seq > ? AND seq <= ?;

-- name: KeyUseSeen
SELECT COUNT(*) FROM audit_log
WHERE target_id = ? AND action = 'apikey.used' AND (? = '' OR ip = ?)
  AND seq > (SELECT base_seq FROM audit_head WHERE id = 1)
  AND seq <= (SELECT seq FROM audit_head WHERE id = 1);

-- name: SecurityEvents
-- Failed sign-ins and anomalies of a workspace since a time, grouped for the
-- security page.
SELECT action, reason, actor_email, ip, COUNT(*), MAX(at)
FROM audit_log
WHERE workspace_id = ? AND at >= ?
  AND seq > (SELECT base_seq FROM audit_head WHERE id = 1)
  AND seq <= (SELECT seq FROM audit_head WHERE id = 1)
  AND action IN ('authn.login.fail', 'authz.denied', 'probe.blocked', 'session.revoked')
GROUP BY action, reason, actor_email, ip;
