-- The admin console and the admin sign-in live under a secret path per
-- workspace; only its SHA-256 hash is kept, so the database does not give it
-- away. Sessions started at the admin sign-in are the only ones that may use
-- what only admins may do.
ALTER TABLE workspaces ADD COLUMN admin_path_hash TEXT NOT NULL DEFAULT '';
CREATE INDEX workspaces_admin_path ON workspaces (admin_path_hash);
ALTER TABLE sessions ADD COLUMN admin_route INTEGER NOT NULL DEFAULT 0;

-- A user's email address is verified when they open a link mailed to it;
-- only a verified address on an office domain may hold the admin role.
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;
CREATE TABLE email_verifications (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    email       TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX email_verifications_user ON email_verifications (user_id);
