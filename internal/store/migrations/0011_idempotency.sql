-- The first answer to a POST sent with an Idempotency-Key, kept for 24 hours
-- so that a retry gets it again instead of acting twice. scope names who sent
-- it (an API key or a user), fingerprint the request's method, path and body.
-- status 0 marks a request still being served.
CREATE TABLE idempotency_keys (
    scope         TEXT NOT NULL,
    idem_key      TEXT NOT NULL,
    fingerprint   TEXT NOT NULL,
    status        INTEGER NOT NULL,
    content_type  TEXT NOT NULL DEFAULT '',
    body          TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (scope, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
