-- name: Claim
INSERT INTO idempotency_keys (scope, idem_key, fingerprint, status, created_at)
VALUES (?, ?, ?, 0, ?)
ON CONFLICT (scope, idem_key) DO NOTHING;

-- name: Stored
SELECT fingerprint, status, content_type, body, created_at FROM idempotency_keys
WHERE scope = ? AND idem_key = ?;

-- name: Finish
UPDATE idempotency_keys SET status = ?, content_type = ?, body = ?
WHERE scope = ? AND idem_key = ? AND status = 0;

-- name: Release
DELETE FROM idempotency_keys WHERE scope = ? AND idem_key = ? AND status = 0;

-- name: Expire
DELETE FROM idempotency_keys WHERE scope = ? AND idem_key = ? AND created_at < ?;

-- name: Prune
DELETE FROM idempotency_keys WHERE created_at < ?;
