-- A second factor: a TOTP secret per user, encrypted with a key kept outside
-- the database, and single-use recovery codes, stored hashed. last_step is
-- the newest TOTP step accepted, so that no code is accepted twice.
CREATE TABLE user_totp (
    user_id     TEXT PRIMARY KEY REFERENCES users(id),
    secret_enc  TEXT NOT NULL,
    enabled_at  BIGINT,
    last_step   BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE recovery_codes (
    user_id    TEXT NOT NULL REFERENCES users(id),
    code_hash  TEXT NOT NULL,
    used_at    BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- When the session's holder last gave their password (and code): sign-in,
-- or a step-up before a sensitive action.
ALTER TABLE sessions ADD COLUMN auth_at BIGINT NOT NULL DEFAULT 0;
