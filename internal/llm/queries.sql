-- name: Settings
SELECT enabled, base_url, model, key_sealed, key_last4, tone, monthly_budget
FROM llm_settings WHERE workspace_id = ?;

-- name: SetSettings
INSERT INTO llm_settings (workspace_id, enabled, base_url, model, key_sealed, key_last4, tone,
    monthly_budget) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (workspace_id) DO UPDATE SET enabled = excluded.enabled,
    base_url = excluded.base_url, model = excluded.model, key_sealed = excluded.key_sealed,
    key_last4 = excluded.key_last4, tone = excluded.tone,
    monthly_budget = excluded.monthly_budget;

-- name: Usage
SELECT tokens FROM llm_usage WHERE workspace_id = ? AND month = ?;

-- name: AddUsage
INSERT INTO llm_usage (workspace_id, month, tokens, calls) VALUES (?, ?, ?, 1)
ON CONFLICT (workspace_id, month) DO UPDATE SET tokens = llm_usage.tokens + excluded.tokens,
    calls = llm_usage.calls + 1;
