-- What hangs from a conversation, deleted before it (foreign keys) or with it.

-- name: Flags
DELETE FROM ai_reply_flags WHERE conversation_id = ?;

-- name: Rating
DELETE FROM csat_ratings WHERE conversation_id = ?;

-- name: Decisions
DELETE FROM decisions WHERE conversation_id = ?;

-- name: Attachments
DELETE FROM attachments WHERE conversation_id = ?;

-- name: Messages
DELETE FROM messages WHERE conversation_id = ?;

-- name: Labels
DELETE FROM conversation_labels WHERE conversation_id = ?;

-- name: GoldenCases
DELETE FROM golden_cases WHERE workspace_id = ? AND conversation_id = ?;

-- name: Conversation
DELETE FROM conversations WHERE id = ?;

-- A webhook delivery or a kept API answer carries the ids of what it is
-- about in its body; ids are random, so a match is theirs.

-- name: Deliveries
DELETE FROM webhook_deliveries WHERE workspace_id = ? AND payload LIKE ?;

-- name: KeptAnswers
DELETE FROM idempotency_keys WHERE body LIKE ?;
