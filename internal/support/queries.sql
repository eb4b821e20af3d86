-- name: InsertContact
INSERT INTO contacts (id, workspace_id, name, email, created_at, external_id)
VALUES (?, ?, ?, ?, ?, ?);

-- name: InsertConversation
INSERT INTO conversations (id, workspace_id, inbox_id, contact_id, visitor_hash, status,
    priority, created_at, last_message_at)
VALUES (?, ?, ?, ?, ?, 'open', 'medium', ?, ?);

-- name: ConversationByID
SELECT c.id, c.workspace_id, c.inbox_id, c.contact_id, ct.name, ct.email, c.status,
    c.priority, COALESCE(c.assignee_id, ''), COALESCE(c.team_id, ''), c.subject,
    c.created_at, c.last_message_at, c.visitor_hash, c.last_seq, c.labels
FROM conversations c JOIN contacts ct ON ct.id = c.contact_id
WHERE c.workspace_id = ? AND c.id = ?;

-- name: ListConversations
SELECT c.id, c.workspace_id, c.inbox_id, c.contact_id, ct.name, ct.email, c.status,
    c.priority, COALESCE(c.assignee_id, ''), COALESCE(c.team_id, ''), c.subject,
    c.created_at, c.last_message_at, c.visitor_hash, c.last_seq, c.labels
FROM conversations c JOIN contacts ct ON ct.id = c.contact_id
WHERE c.workspace_id = ?

-- name: ReserveSeq
UPDATE conversations SET last_seq = last_seq + ?, last_message_at = ?, status = ?,
    priority = ?, subject = CASE WHEN subject = '' THEN ? ELSE subject END
WHERE workspace_id = ? AND id = ?
RETURNING last_seq;

-- name: InsertMessage
INSERT INTO messages (id, workspace_id, conversation_id, seq, kind, author_type, author_id,
    body, state, kb_entry_id, created_at, external_id, attached)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: MessageByExternal
-- A customer message its channel or client already sent, with the action
-- decided on it.
SELECT m.id, m.conversation_id, m.seq, m.kind, m.author_type, COALESCE(m.author_id, ''),
    m.body, m.state, COALESCE(m.kb_entry_id, ''), m.created_at, COALESCE(d.id, ''),
    COALESCE(d.action, ''), COALESCE(d.created_at, 0)
FROM messages m LEFT JOIN decisions d ON d.message_id = m.id
WHERE m.workspace_id = ? AND m.conversation_id = ? AND m.external_id = ?;

-- name: ListMessages
SELECT id, conversation_id, seq, kind, author_type, COALESCE(author_id, ''), body, state,
    COALESCE(kb_entry_id, ''), created_at, attached
FROM messages WHERE workspace_id = ? AND conversation_id = ? ORDER BY seq;

-- name: RecentMessages
SELECT kind, author_type, body, COALESCE(kb_entry_id, '') FROM messages
WHERE workspace_id = ? AND conversation_id = ? AND state = 'sent'
ORDER BY seq DESC LIMIT 20;

-- name: MessageByID
SELECT id, conversation_id, seq, kind, author_type, COALESCE(author_id, ''), body, state,
    COALESCE(kb_entry_id, ''), created_at, attached
FROM messages WHERE workspace_id = ? AND conversation_id = ? AND id = ?;

-- name: ResolveDraft
UPDATE messages SET state = ?, body = ?, author_type = ?, author_id = ?, seq = ?,
    created_at = ?
WHERE workspace_id = ? AND conversation_id = ? AND id = ? AND state = 'draft';

-- name: InsertDecision
INSERT INTO decisions (id, workspace_id, conversation_id, message_id, action, category,
    matched_phrase, entry_id, confidence, candidates, reason, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: ListDecisions
SELECT d.id, d.message_id, d.action, d.category, d.matched_phrase, d.entry_id, d.confidence,
    d.candidates, d.reason, d.created_at
FROM decisions d JOIN messages m ON m.id = d.message_id
WHERE d.workspace_id = ? AND d.conversation_id = ?
ORDER BY m.seq;

-- name: SetStatus
UPDATE conversations SET status = ? WHERE workspace_id = ? AND id = ?;

-- name: SetPriority
UPDATE conversations SET priority = ? WHERE workspace_id = ? AND id = ?;

-- name: SetAssignment
UPDATE conversations SET assignee_id = ?, team_id = ? WHERE workspace_id = ? AND id = ?;

-- name: SetLabelList
UPDATE conversations SET labels = ? WHERE workspace_id = ? AND id = ?;

-- name: DeleteLabels
DELETE FROM conversation_labels WHERE workspace_id = ? AND conversation_id = ?;

-- name: InsertLabel
INSERT INTO conversation_labels (workspace_id, conversation_id, label) VALUES (?, ?, ?);


-- name: ContactByID
SELECT name, email FROM contacts WHERE workspace_id = ? AND id = ?;

-- name: InsertAttachment
INSERT INTO attachments (workspace_id, id, conversation_id, message_id, name, content_type,
    size, sha256, uploader_type, uploader_id, created_at, content)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: CountAttachments
SELECT COUNT(*) FROM attachments WHERE workspace_id = ? AND conversation_id = ?;

-- name: ListAttachments
-- A conversation's files, without their content.
SELECT id, message_id, name, content_type, size, created_at FROM attachments
WHERE workspace_id = ? AND conversation_id = ? ORDER BY created_at, id;

-- name: AttachmentByID
-- A file with its content, and the message it came with, whose kind and
-- state say whether the customer sees it.
SELECT a.id, a.message_id, a.name, a.content_type, a.size, a.created_at, a.sha256,
    a.content, m.kind, m.state
FROM attachments a JOIN messages m ON m.id = a.message_id
WHERE a.workspace_id = ? AND a.conversation_id = ? AND a.id = ?;
