-- Consecutive failed sign-ins per account; at the cap (NIST SP 800-63B
-- allows at most 100) the account is locked until an admin unlocks it.
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_at BIGINT;
