-- name: InsertEndpoint
INSERT INTO webhook_endpoints (id, workspace_id, url, events, secret_sealed, secret_last4,
    created_at)
VALUES (?, ?, ?, ?, ?, ?, ?);

-- name: EndpointByID
SELECT id, workspace_id, url, events, secret_last4, old_secret_until, created_at
FROM webhook_endpoints WHERE workspace_id = ? AND id = ?;

-- name: ListEndpoints
SELECT id, workspace_id, url, events, secret_last4, old_secret_until, created_at
FROM webhook_endpoints WHERE workspace_id = ? ORDER BY created_at DESC, id;

-- name: DeleteDeliveries
DELETE FROM webhook_deliveries WHERE workspace_id = ? AND endpoint_id = ?;

-- name: DeleteEndpoint
DELETE FROM webhook_endpoints WHERE workspace_id = ? AND id = ?;

-- name: RotateSecret
-- The current secret becomes the old one, which signs until the overlap ends.
UPDATE webhook_endpoints SET old_secret_sealed = secret_sealed, old_secret_until = ?,
    secret_sealed = ?, secret_last4 = ?
WHERE workspace_id = ? AND id = ?;

-- name: Subscribers
SELECT id, events FROM webhook_endpoints WHERE workspace_id = ?;

-- name: InsertDelivery
INSERT INTO webhook_deliveries (id, workspace_id, endpoint_id, event, payload, status,
    next_attempt_at, created_at)
VALUES (?, ?, ?, ?, ?, 'pending', ?, ?);

-- name: DueDeliveries
SELECT id, endpoint_id FROM webhook_deliveries
WHERE status = 'pending' AND next_attempt_at <= ? AND claimed_until < ?
ORDER BY next_attempt_at, id LIMIT ?;

-- name: ClaimDelivery
-- Only one node's claim changes the row; the others see no row affected.
UPDATE webhook_deliveries SET claimed_until = ?
WHERE id = ? AND status = 'pending' AND next_attempt_at <= ? AND claimed_until < ?;

-- name: DeliveryToSend
SELECT d.payload, d.attempts, e.url, e.secret_sealed, e.old_secret_sealed, e.old_secret_until
FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
WHERE d.id = ?;

-- name: RecordAttempt
-- A claim that ran out and was taken by another node records nothing.
UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, last_status = ?,
    last_error = ?, last_attempt_at = ?, next_attempt_at = ?, claimed_until = 0
WHERE id = ? AND claimed_until = ?;

-- name: ListDeliveries
SELECT id, endpoint_id, event, status, attempts, last_status, last_error, last_attempt_at,
    next_attempt_at, created_at
FROM webhook_deliveries WHERE workspace_id = ? AND endpoint_id = ?
ORDER BY created_at DESC, id DESC LIMIT ?;

-- name: PruneDeliveries
DELETE FROM webhook_deliveries WHERE status <> 'pending' AND created_at < ?;

-- name: CountEndpoints
SELECT COUNT(*) FROM webhook_endpoints WHERE workspace_id = ?;
