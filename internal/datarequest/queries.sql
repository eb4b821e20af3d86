-- name: Insert
INSERT INTO data_requests (workspace_id, id, contact_id, kinds, source, state, token_hash,
    verified_by, filed_by, created_at, due_at, verified_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: ByID
SELECT id, contact_id, kinds, source, state, token_hash, verified_by, filed_by, created_at,
    due_at, verified_at, decided_by, decided_at, note, completed_at, receipt, verified_address
FROM data_requests WHERE workspace_id = ? AND id = ?;

-- name: List
SELECT id, contact_id, kinds, source, state, token_hash, verified_by, filed_by, created_at,
    due_at, verified_at, decided_by, decided_at, note, completed_at, receipt, verified_address
FROM data_requests WHERE workspace_id = ? ORDER BY created_at DESC, id LIMIT 500;

-- name: SetVerified
UPDATE data_requests SET state = 'awaiting_approval', verified_by = ?, verified_at = ?,
    verified_address = ?
WHERE workspace_id = ? AND id = ? AND state = 'awaiting_verification';

-- name: SetDecided
-- The address the request was confirmed through is needed until it is
-- carried out or refused, and kept no longer.
UPDATE data_requests SET state = ?, decided_by = ?, decided_at = ?, note = ?,
    completed_at = ?, receipt = ?, verified_address = ''
WHERE workspace_id = ? AND id = ? AND state = 'awaiting_approval';

-- name: Due
SELECT workspace_id, id, due_at, reminded_at, overdue_at FROM data_requests
WHERE state IN ('awaiting_verification', 'awaiting_approval') AND due_at < ?
ORDER BY due_at LIMIT 500;

-- name: SetReminded
UPDATE data_requests SET reminded_at = ? WHERE workspace_id = ? AND id = ?;

-- name: SetOverdue
UPDATE data_requests SET overdue_at = ? WHERE workspace_id = ? AND id = ?;

-- name: Contact
SELECT name, email, created_at FROM contacts WHERE workspace_id = ? AND id = ?;

-- name: ContactConversations
SELECT id, status, subject, created_at, last_message_at, labels FROM conversations
WHERE workspace_id = ? AND contact_id = ? ORDER BY created_at;

-- name: ConversationMessages
SELECT id, seq, kind, author_type, body, state, created_at FROM messages
WHERE conversation_id = ? AND kind IN ('incoming', 'outgoing') AND state = 'sent'
ORDER BY seq;

-- name: ConversationFiles
-- The files of the messages the customer saw, with their content.
SELECT a.id, a.message_id, a.name, a.content_type, a.size, a.sha256, a.content
FROM attachments a JOIN messages m ON m.id = a.message_id
WHERE a.conversation_id = ? AND m.kind IN ('incoming', 'outgoing') AND m.state = 'sent'
ORDER BY a.created_at, a.id;

-- name: ContactConversationIDs
SELECT id FROM conversations WHERE workspace_id = ? AND contact_id = ? LIMIT 100;

-- name: SameAddress
SELECT COUNT(*) FROM contacts o JOIN contacts c ON c.workspace_id = o.workspace_id
WHERE c.workspace_id = ? AND c.id = ? AND c.email <> '' AND o.id <> c.id
    AND lower(o.email) = lower(c.email);

-- name: RatingOf
SELECT score, comment, created_at FROM csat_ratings WHERE conversation_id = ?;

-- name: AnyOpen
SELECT COUNT(*) FROM data_requests WHERE workspace_id = ? AND contact_id = ?
    AND state IN ('awaiting_verification', 'awaiting_approval');

-- name: ContactExists
SELECT COUNT(*) FROM contacts WHERE workspace_id = ? AND id = ?;

-- name: Subjects
SELECT id FROM contacts WHERE workspace_id = ? AND email <> '' AND lower(email) = ?
ORDER BY id = ? DESC, created_at, id;

-- name: HeldFor
SELECT COUNT(*) FROM legal_holds h WHERE h.workspace_id = ? AND h.lifted_at = 0
    AND ((h.target_type = 'contact' AND h.target_id = ?)
        OR (h.target_type = 'conversation' AND h.target_id IN
            (SELECT id FROM conversations WHERE workspace_id = ? AND contact_id = ?)));

-- name: DeleteContact
DELETE FROM contacts WHERE workspace_id = ? AND id = ?;

-- name: InsertExport
INSERT INTO data_exports (workspace_id, request_id, archive, expires_at, contact_ids)
VALUES (?, ?, ?, ?, ?);

-- name: Export
SELECT archive, expires_at FROM data_exports WHERE workspace_id = ? AND request_id = ?;

-- name: ExportKept
SELECT COUNT(*) FROM data_exports WHERE workspace_id = ? AND request_id = ? AND expires_at >= ?;

-- name: DeleteContactExports
DELETE FROM data_exports WHERE workspace_id = ? AND contact_ids LIKE ?;

-- name: PruneExports
DELETE FROM data_exports WHERE expires_at < ?;

-- name: InboxDisconnected
SELECT CASE WHEN disconnected_at IS NULL THEN 0 ELSE 1 END FROM inboxes
WHERE workspace_id = ? AND id = ?;

-- name: InboxConversations
SELECT c.id, c.contact_id, EXISTS (SELECT 1 FROM legal_holds h
    WHERE h.workspace_id = c.workspace_id AND h.lifted_at = 0
        AND ((h.target_type = 'conversation' AND h.target_id = c.id)
            OR (h.target_type = 'contact' AND h.target_id = c.contact_id)))
FROM conversations c WHERE c.workspace_id = ? AND c.inbox_id = ?;

-- name: DeleteOrphanContact
DELETE FROM contacts WHERE workspace_id = ? AND id = ?
    AND NOT EXISTS (SELECT 1 FROM conversations WHERE contact_id = ?);

-- name: ContactsByExternal
SELECT id FROM contacts WHERE workspace_id = ? AND external_id = ? AND external_id <> ''
ORDER BY created_at LIMIT 20;

-- name: OpenFor
SELECT id FROM data_requests WHERE workspace_id = ? AND contact_id = ? AND source = ?
    AND state IN ('awaiting_verification', 'awaiting_approval')
ORDER BY created_at DESC LIMIT 1;

-- name: ContactsByEmail
SELECT id FROM contacts WHERE workspace_id = ? AND lower(email) = lower(?) AND email <> ''
ORDER BY created_at, id;

-- name: FiledForAddress
-- The trust page's requests for an address's contacts since a time.
SELECT COUNT(*) FROM data_requests WHERE workspace_id = ? AND source = 'email'
    AND filed_by = ? AND created_at > ? AND contact_id IN
        (SELECT id FROM contacts WHERE workspace_id = ? AND email <> ''
            AND lower(email) = lower(?));

-- name: UnconfirmedForAddress
SELECT id FROM data_requests WHERE workspace_id = ? AND source = 'email' AND filed_by = ?
    AND state = 'awaiting_verification' AND contact_id IN
        (SELECT id FROM contacts WHERE workspace_id = ? AND email <> ''
            AND lower(email) = lower(?));

-- name: Supersede
UPDATE data_requests SET state = 'rejected', note = ?, decided_at = ?, verified_address = ''
WHERE workspace_id = ? AND id = ? AND state = 'awaiting_verification';
