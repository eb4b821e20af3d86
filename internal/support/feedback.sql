-- name: InsertFlag
INSERT INTO ai_reply_flags (id, workspace_id, conversation_id, message_id, flagged_by, note,
    expect, entry_id, category, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (workspace_id, message_id) DO NOTHING;

-- name: ListFlags
SELECT f.id, f.conversation_id, f.message_id, f.flagged_by, f.note, f.expect, f.entry_id,
    f.category, f.created_at, m.body, COALESCE((SELECT q.body FROM messages q
        WHERE q.workspace_id = m.workspace_id AND q.conversation_id = m.conversation_id
            AND q.kind = 'incoming' AND q.seq < m.seq
        ORDER BY q.seq DESC LIMIT 1), '')
FROM ai_reply_flags f JOIN messages m ON m.id = f.message_id
WHERE f.workspace_id = ? AND (f.id = ? OR ? = '')
ORDER BY f.created_at DESC, f.id
LIMIT 200;

-- name: ConversationFlags
SELECT message_id FROM ai_reply_flags WHERE workspace_id = ? AND conversation_id = ?;

-- name: InsertRating
INSERT INTO csat_ratings (conversation_id, workspace_id, score, comment, created_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (conversation_id) DO NOTHING;

-- name: RatingOf
SELECT score, comment, created_at FROM csat_ratings
WHERE workspace_id = ? AND conversation_id = ?;

-- name: KPIConversations
-- Conversations a customer wrote in, by the week they started (0 is the
-- first week asked for): how many; resolved with only the AI's replies; with
-- a person stepping in (a handoff message or an agent's reply); and the
-- ratings of each kind.
WITH conv AS (
    SELECT c.id, c.status, (c.created_at - ?) / 604800000 AS week,
        EXISTS (SELECT 1 FROM messages m WHERE m.workspace_id = c.workspace_id
            AND m.conversation_id = c.id AND m.kind = 'outgoing' AND m.state = 'sent'
            AND m.author_type IN ('agent', 'system')) AS human,
        EXISTS (SELECT 1 FROM messages m WHERE m.workspace_id = c.workspace_id
            AND m.conversation_id = c.id AND m.kind = 'outgoing' AND m.state = 'sent'
            AND m.author_type = 'ai') AS ai
    FROM conversations c
    WHERE c.workspace_id = ? AND c.created_at >= ? AND c.created_at < ?
        AND c.last_seq > 0
)
SELECT conv.week, COUNT(*),
    SUM(CASE WHEN conv.status = 'resolved' AND conv.ai AND NOT conv.human THEN 1 ELSE 0 END),
    SUM(CASE WHEN conv.human THEN 1 ELSE 0 END),
    SUM(CASE WHEN r.score IS NOT NULL AND conv.ai AND NOT conv.human THEN 1 ELSE 0 END),
    SUM(CASE WHEN conv.ai AND NOT conv.human THEN COALESCE(r.score, 0) ELSE 0 END),
    SUM(CASE WHEN r.score IS NOT NULL AND conv.human THEN 1 ELSE 0 END),
    SUM(CASE WHEN conv.human THEN COALESCE(r.score, 0) ELSE 0 END)
FROM conv LEFT JOIN csat_ratings r ON r.conversation_id = conv.id
GROUP BY conv.week
ORDER BY conv.week;

-- name: KPIReplies
-- AI replies customers received, by the week they were sent, and how many
-- of them an agent flagged as wrong.
SELECT (m.created_at - ?) / 604800000 AS week, COUNT(*), COUNT(f.id)
FROM messages m LEFT JOIN ai_reply_flags f
    ON f.workspace_id = m.workspace_id AND f.message_id = m.id
WHERE m.workspace_id = ? AND m.created_at >= ? AND m.created_at < ?
    AND m.kind = 'outgoing' AND m.author_type = 'ai' AND m.state = 'sent'
GROUP BY 1
ORDER BY 1;

-- name: KPIFirstResponses
-- How long each conversation's customer waited for the first reply from the
-- AI or an agent, in milliseconds, by the week the conversation started.
SELECT week, wait FROM (
    SELECT (c.created_at - ?) / 604800000 AS week,
        (SELECT MIN(m.created_at) FROM messages m WHERE m.workspace_id = c.workspace_id
            AND m.conversation_id = c.id AND m.kind = 'outgoing' AND m.state = 'sent'
            AND m.author_type IN ('ai', 'agent'))
        - (SELECT MIN(m.created_at) FROM messages m WHERE m.workspace_id = c.workspace_id
            AND m.conversation_id = c.id AND m.kind = 'incoming') AS wait
    FROM conversations c
    WHERE c.workspace_id = ? AND c.created_at >= ? AND c.created_at < ?
) t
WHERE wait IS NOT NULL
ORDER BY week, wait;
