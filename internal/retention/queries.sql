-- A conversation is held when a live legal hold names it or its contact.

-- name: Policy
SELECT class, days FROM retention_policies WHERE workspace_id = ?;

-- name: SetPolicy
INSERT INTO retention_policies (workspace_id, class, days) VALUES (?, ?, ?)
ON CONFLICT (workspace_id, class) DO UPDATE SET days = excluded.days;

-- name: InsertHold
INSERT INTO legal_holds (workspace_id, id, target_type, target_id, reason, placed_by,
    placed_at)
VALUES (?, ?, ?, ?, ?, ?, ?);

-- name: LiftHold
UPDATE legal_holds SET lifted_by = ?, lifted_at = ?, lift_reason = ?
WHERE workspace_id = ? AND id = ? AND lifted_at = 0;

-- name: HoldByID
SELECT id, target_type, target_id, reason, placed_by, placed_at, lifted_by, lifted_at,
    lift_reason
FROM legal_holds WHERE workspace_id = ? AND id = ?;

-- name: ListHolds
SELECT id, target_type, target_id, reason, placed_by, placed_at, lifted_by, lifted_at,
    lift_reason
FROM legal_holds WHERE workspace_id = ? ORDER BY placed_at DESC, id LIMIT 500;

-- name: LiveHold
SELECT id FROM legal_holds
WHERE workspace_id = ? AND target_type = ? AND target_id = ? AND lifted_at = 0;

-- name: ConversationExists
SELECT COUNT(*) FROM conversations WHERE workspace_id = ? AND id = ?;

-- name: ContactExists
SELECT COUNT(*) FROM contacts WHERE workspace_id = ? AND id = ?;

-- name: DueConversations
SELECT c.id FROM conversations c
WHERE c.workspace_id = ? AND c.last_message_at < ?
    AND NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.workspace_id = c.workspace_id
        AND h.lifted_at = 0 AND ((h.target_type = 'conversation' AND h.target_id = c.id)
            OR (h.target_type = 'contact' AND h.target_id = c.contact_id)))
ORDER BY c.last_message_at LIMIT ?;

-- name: CountDueConversations
SELECT COUNT(*), COALESCE(SUM((SELECT COUNT(*) FROM messages m
    WHERE m.conversation_id = c.id)), 0)
FROM conversations c
WHERE c.workspace_id = ? AND c.last_message_at < ?
    AND NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.workspace_id = c.workspace_id
        AND h.lifted_at = 0 AND ((h.target_type = 'conversation' AND h.target_id = c.id)
            OR (h.target_type = 'contact' AND h.target_id = c.contact_id)));

-- name: DueDecisions
SELECT d.id FROM decisions d JOIN conversations c ON c.id = d.conversation_id
WHERE d.workspace_id = ? AND d.created_at < ?
    AND NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.workspace_id = c.workspace_id
        AND h.lifted_at = 0 AND ((h.target_type = 'conversation' AND h.target_id = c.id)
            OR (h.target_type = 'contact' AND h.target_id = c.contact_id)))
LIMIT ?;

-- name: CountDueDecisions
SELECT COUNT(*) FROM decisions d JOIN conversations c ON c.id = d.conversation_id
WHERE d.workspace_id = ? AND (d.created_at < ? OR c.last_message_at < ?)
    AND NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.workspace_id = c.workspace_id
        AND h.lifted_at = 0 AND ((h.target_type = 'conversation' AND h.target_id = c.id)
            OR (h.target_type = 'contact' AND h.target_id = c.contact_id)));

-- name: DeleteDecision
DELETE FROM decisions WHERE id = ?;

-- name: DueAttachments
SELECT a.id FROM attachments a JOIN conversations c ON c.id = a.conversation_id
WHERE a.workspace_id = ? AND a.created_at < ?
    AND NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.workspace_id = c.workspace_id
        AND h.lifted_at = 0 AND ((h.target_type = 'conversation' AND h.target_id = c.id)
            OR (h.target_type = 'contact' AND h.target_id = c.contact_id)))
ORDER BY a.created_at LIMIT ?;

-- name: CountDueAttachments
-- The files past their own period, and those that go with a conversation
-- past its period.
SELECT COUNT(*) FROM attachments a JOIN conversations c ON c.id = a.conversation_id
WHERE a.workspace_id = ? AND (a.created_at < ? OR c.last_message_at < ?)
    AND NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.workspace_id = c.workspace_id
        AND h.lifted_at = 0 AND ((h.target_type = 'conversation' AND h.target_id = c.id)
            OR (h.target_type = 'contact' AND h.target_id = c.contact_id)));

-- name: DeleteAttachment
DELETE FROM attachments WHERE workspace_id = ? AND id = ?;

-- name: DueContacts
SELECT ct.id FROM contacts ct
WHERE ct.workspace_id = ? AND ct.created_at < ?
    AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.workspace_id = ct.workspace_id
        AND c.contact_id = ct.id)
    AND NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.workspace_id = ct.workspace_id
        AND h.lifted_at = 0 AND h.target_type = 'contact' AND h.target_id = ct.id)
LIMIT ?;

-- name: CountDueContacts
SELECT COUNT(*) FROM contacts ct
WHERE ct.workspace_id = ? AND ct.created_at < ?
    AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.workspace_id = ct.workspace_id
        AND c.contact_id = ct.id AND NOT (c.last_message_at < ?
            AND NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.workspace_id = c.workspace_id
                AND h.lifted_at = 0 AND ((h.target_type = 'conversation' AND h.target_id = c.id)
                    OR (h.target_type = 'contact' AND h.target_id = c.contact_id)))))
    AND NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.workspace_id = ct.workspace_id
        AND h.lifted_at = 0 AND h.target_type = 'contact' AND h.target_id = ct.id);

-- name: DeleteContact
DELETE FROM contacts WHERE id = ?;

-- name: DueSessions
SELECT token_hash FROM sessions WHERE workspace_id = ? AND expires_at < ? LIMIT ?;

-- name: CountDueSessions
SELECT COUNT(*) FROM sessions WHERE workspace_id = ? AND expires_at < ?;

-- name: DeleteSession
DELETE FROM sessions WHERE token_hash = ?;

