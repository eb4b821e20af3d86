-- name: InsertUser
INSERT INTO users (id, email, name, password_hash, created_at) VALUES (?, ?, ?, ?, ?);

-- name: UserByEmail
SELECT id, email, name, password_hash FROM users WHERE email = ?;

-- name: UserByID
SELECT id, email, name, password_hash FROM users WHERE id = ?;

-- name: InsertSession
INSERT INTO sessions (token_hash, user_id, workspace_id, created_at, expires_at)
VALUES (?, ?, ?, ?, ?);

-- name: SessionByHash
SELECT s.user_id, s.workspace_id, s.expires_at, u.email, u.name
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.token_hash = ?;

-- name: DeleteSession
DELETE FROM sessions WHERE token_hash = ?;

-- name: DeleteSessionsIn
DELETE FROM sessions WHERE user_id = ? AND workspace_id = ?;

-- name: HomeWorkspace
-- The workspace a refused sign-in is recorded in: the user's first.
SELECT workspace_id FROM members WHERE user_id = ? ORDER BY created_at, workspace_id LIMIT 1;
