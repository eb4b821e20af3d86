-- An admin disables a member rather than remove them, as when a laptop is
-- lost: their sessions end and they cannot sign in until enabled again,
-- while their role, inboxes and history stay.
ALTER TABLE members ADD COLUMN disabled_at BIGINT;
