-- name: InsertChecklist
INSERT INTO checklists (workspace_id, month, created_at) VALUES (?, ?, ?)
ON CONFLICT (workspace_id, month) DO NOTHING;

-- name: Checklist
SELECT month, created_at FROM checklists WHERE workspace_id = ? AND month = ?;

-- name: ListChecklists
SELECT month, created_at FROM checklists WHERE workspace_id = ? ORDER BY month DESC LIMIT 120;

-- name: InsertItem
INSERT INTO checklist_items (workspace_id, month, item, position, title, summary, evidence)
VALUES (?, ?, ?, ?, ?, ?, ?);

-- name: Items
SELECT item, title, summary, evidence, signed_by, signed_note, signed_at, overdue_at
FROM checklist_items WHERE workspace_id = ? AND month = ? ORDER BY position;

-- name: SignItem
UPDATE checklist_items SET signed_by = ?, signed_note = ?, signed_at = ?
WHERE workspace_id = ? AND month = ? AND item = ? AND signed_at = 0;

-- name: DueUnsigned
SELECT i.workspace_id, i.month, i.item, i.title FROM checklist_items i
JOIN checklists c ON c.workspace_id = i.workspace_id AND c.month = i.month
WHERE i.signed_at = 0 AND i.overdue_at = 0 AND c.created_at <= ?
ORDER BY i.workspace_id, i.month, i.position;

-- name: MarkOverdue
UPDATE checklist_items SET overdue_at = ?
WHERE workspace_id = ? AND month = ? AND item = ? AND overdue_at = 0 AND signed_at = 0;
