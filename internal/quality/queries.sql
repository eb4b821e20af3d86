-- name: InsertCase
INSERT INTO golden_cases (id, workspace_id, text, expect, entry_id, category, note, source,
    conversation_id, message_id, created_by, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: ListCases
SELECT id, text, expect, entry_id, category, note, source, conversation_id, message_id,
    created_by, created_at
FROM golden_cases WHERE workspace_id = ?
ORDER BY created_at, id
LIMIT 10001;

-- name: CountCases
SELECT COUNT(*) FROM golden_cases WHERE workspace_id = ?;

-- name: CaseForMessage
SELECT COUNT(*) FROM golden_cases WHERE workspace_id = ? AND message_id = ?;

-- name: DeleteCase
DELETE FROM golden_cases WHERE workspace_id = ? AND id = ?;

-- name: InsertRun
INSERT INTO quality_runs (id, workspace_id, trigger_kind, started_at, cases, restricted_recall,
    answer_precision, deflection, oos_false_answer_rate, by_category, kb_revision, below)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: ListRuns
SELECT id, trigger_kind, started_at, cases, restricted_recall, answer_precision, deflection,
    oos_false_answer_rate, by_category, kb_revision, below
FROM quality_runs WHERE workspace_id = ?
ORDER BY started_at DESC, id DESC
LIMIT ?;

-- name: LastRun
SELECT COALESCE(MAX(started_at), 0) FROM quality_runs
WHERE workspace_id = ? AND trigger_kind = ?;

-- name: ThresholdsOf
SELECT restricted_recall, answer_precision FROM quality_thresholds WHERE workspace_id = ?;

-- name: SetThresholds
INSERT INTO quality_thresholds (workspace_id, restricted_recall, answer_precision)
VALUES (?, ?, ?)
ON CONFLICT (workspace_id) DO UPDATE SET restricted_recall = excluded.restricted_recall,
    answer_precision = excluded.answer_precision;
