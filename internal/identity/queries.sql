-- name: InsertUser
INSERT INTO users (id, email, name, password_hash, created_at) VALUES (?, ?, ?, ?, ?);

-- name: UserByEmail
SELECT id, email, name, password_hash, locked_at IS NOT NULL FROM users WHERE email = ?;

-- name: UserByID
SELECT id, email, name, password_hash FROM users WHERE id = ?;

-- name: InsertSession
INSERT INTO sessions (token_hash, id, user_id, workspace_id, created_at, expires_at,
    last_seen_at, ip, user_agent, auth_at, admin_route)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: SteppedUp
UPDATE sessions SET auth_at = ? WHERE token_hash = ?;

-- name: SessionByHash
SELECT s.id, s.user_id, s.workspace_id, s.created_at, s.expires_at, s.last_seen_at, s.ip,
    s.user_agent, u.email, u.name,
    EXISTS (SELECT 1 FROM user_totp t WHERE t.user_id = s.user_id AND t.enabled_at IS NOT NULL),
    s.auth_at, s.admin_route, u.email_verified_at IS NOT NULL
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.token_hash = ?;

-- name: TouchSession
UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?;

-- name: UserSessions
SELECT s.id, s.user_id, s.workspace_id, s.created_at, s.expires_at, s.last_seen_at, s.ip,
    s.user_agent, u.email, u.name,
    EXISTS (SELECT 1 FROM user_totp t WHERE t.user_id = s.user_id AND t.enabled_at IS NOT NULL),
    s.auth_at, s.admin_route, u.email_verified_at IS NOT NULL
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.user_id = ? AND s.workspace_id = ? AND s.expires_at > ?
ORDER BY s.last_seen_at DESC;

-- name: DeleteSessionByID
DELETE FROM sessions WHERE id = ? AND user_id = ? AND workspace_id = ?;

-- name: DeleteWorkspaceSessions
DELETE FROM sessions WHERE workspace_id = ? AND token_hash <> ?;

-- name: DeleteSession
DELETE FROM sessions WHERE token_hash = ?;

-- name: DeleteSessionsIn
DELETE FROM sessions WHERE user_id = ? AND workspace_id = ?;

-- name: HomeWorkspace
-- The workspace a refused sign-in is recorded in: the user's first.
SELECT workspace_id FROM members WHERE user_id = ? ORDER BY created_at, workspace_id LIMIT 1;

-- name: TOTPOf
SELECT secret_enc, enabled_at IS NOT NULL, last_step FROM user_totp WHERE user_id = ?;

-- name: PutPendingTOTP
-- A new enrolment replaces a pending one, never an enabled one.
INSERT INTO user_totp (user_id, secret_enc, enabled_at, last_step, created_at)
VALUES (?, ?, NULL, 0, ?)
ON CONFLICT (user_id) DO UPDATE SET secret_enc = excluded.secret_enc,
    created_at = excluded.created_at
WHERE user_totp.enabled_at IS NULL;

-- name: EnableTOTP
UPDATE user_totp SET enabled_at = ?, last_step = ? WHERE user_id = ? AND enabled_at IS NULL;

-- name: UseTOTPStep
-- Moves last_step forward only: of two requests with one code, one wins.
UPDATE user_totp SET last_step = ? WHERE user_id = ? AND last_step < ?;

-- name: DeleteTOTP
DELETE FROM user_totp WHERE user_id = ?;

-- name: InsertRecoveryCode
INSERT INTO recovery_codes (user_id, code_hash, used_at) VALUES (?, ?, NULL);

-- name: UseRecoveryCode
UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL;

-- name: DeleteRecoveryCodes
DELETE FROM recovery_codes WHERE user_id = ?;

-- name: DeleteOtherSessions
DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?;

-- name: DeleteUserSessions
DELETE FROM sessions WHERE user_id = ?;

-- name: SessionUsersFrom
SELECT DISTINCT user_id FROM sessions WHERE ip = ?;

-- name: UserWorkspaces
SELECT workspace_id FROM members WHERE user_id = ? ORDER BY workspace_id;

-- name: SetPasswordHash
UPDATE users SET password_hash = ? WHERE id = ?;

-- name: CountFailedLogin
UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ? RETURNING failed_logins;

-- name: LockUser
UPDATE users SET locked_at = ? WHERE id = ? AND locked_at IS NULL;

-- name: ClearFailedLogins
UPDATE users SET failed_logins = 0 WHERE id = ? AND failed_logins <> 0;

-- name: UnlockUser
UPDATE users SET failed_logins = 0, locked_at = NULL WHERE id = ? AND locked_at IS NOT NULL;

-- name: InsertEmailToken
INSERT INTO email_verifications (token_hash, user_id, email, expires_at) VALUES (?, ?, ?, ?);

-- name: UseEmailToken
-- A link works once, before it expires, and only for the address it was
-- mailed to: not after the user changed it.
DELETE FROM email_verifications
WHERE token_hash = ? AND expires_at > ?
    AND email = (SELECT email FROM users WHERE users.id = email_verifications.user_id)
RETURNING user_id;

-- name: DeleteEmailTokens
DELETE FROM email_verifications WHERE user_id = ?;

-- name: SetEmailVerified
UPDATE users SET email_verified_at = ? WHERE id = ?;

-- name: SetEmail
UPDATE users SET email = ?, email_verified_at = NULL WHERE id = ?;

-- name: EmailVerified
SELECT email_verified_at IS NOT NULL FROM users WHERE id = ?;

-- name: RotateToken
UPDATE sessions SET token_hash = ? WHERE token_hash = ?;
