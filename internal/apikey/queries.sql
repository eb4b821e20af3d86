-- name: InsertKey
INSERT INTO api_keys (id, workspace_id, name, created_by, key_hash, last4, scopes, allowed_ips,
    rate_limit, created_at, expires_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: KeyByHash
SELECT id, workspace_id, name, created_by, last4, scopes, allowed_ips, rate_limit, created_at,
    expires_at, revoked_at, revoked_reason, rolled_to, last_used_at, last_used_ip
FROM api_keys WHERE key_hash = ?;

-- name: KeyByID
SELECT id, workspace_id, name, created_by, last4, scopes, allowed_ips, rate_limit, created_at,
    expires_at, revoked_at, revoked_reason, rolled_to, last_used_at, last_used_ip
FROM api_keys WHERE workspace_id = ? AND id = ?;

-- name: ListKeys
SELECT id, workspace_id, name, created_by, last4, scopes, allowed_ips, rate_limit, created_at,
    expires_at, revoked_at, revoked_reason, rolled_to, last_used_at, last_used_ip
FROM api_keys WHERE workspace_id = ? ORDER BY created_at DESC, id;

-- name: RevokeKey
UPDATE api_keys SET revoked_at = ?, revoked_reason = ?
WHERE workspace_id = ? AND id = ? AND revoked_at IS NULL;

-- name: RollKey
-- The old key lives on for the overlap, never longer than it would have.
UPDATE api_keys SET rolled_to = ?, expires_at = CASE WHEN expires_at < ? THEN expires_at ELSE ? END
WHERE workspace_id = ? AND id = ? AND revoked_at IS NULL AND rolled_to = '' AND expires_at > ?;

-- name: TouchKey
UPDATE api_keys SET last_used_at = ?, last_used_ip = ? WHERE id = ?;

-- name: UpdateKey
UPDATE api_keys SET name = ?, scopes = ?, allowed_ips = ?, rate_limit = ?
WHERE workspace_id = ? AND id = ? AND revoked_at IS NULL;
