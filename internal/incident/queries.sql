-- name: InsertIncident
INSERT INTO incidents (workspace_id, id, title, severity, detector, owner_id, opened_by,
    detected_at, window_from, personal_data, drill)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: IncidentByID
SELECT id, title, severity, detector, owner_id, opened_by, detected_at, window_from,
    personal_data, drill, steps_done, root_cause, impact, preventive, follow_ups, closed_at
FROM incidents WHERE workspace_id = ? AND id = ?;

-- name: OpenByDetector
SELECT id FROM incidents
WHERE workspace_id = ? AND detector = ? AND closed_at = 0 AND drill = 0
ORDER BY detected_at DESC, id LIMIT 1;

-- name: ListIncidents
SELECT id, title, severity, detector, owner_id, opened_by, detected_at, window_from,
    personal_data, drill, steps_done, root_cause, impact, preventive, follow_ups, closed_at
FROM incidents WHERE workspace_id = ? ORDER BY detected_at DESC, id LIMIT 200;

-- name: DrillsBetween
SELECT id, title, severity, detector, owner_id, opened_by, detected_at, window_from,
    personal_data, drill, steps_done, root_cause, impact, preventive, follow_ups, closed_at
FROM incidents WHERE workspace_id = ? AND drill = 1 AND detected_at >= ? AND detected_at < ?
ORDER BY detected_at, id;

-- name: UpdateIncident
UPDATE incidents SET severity = ?, owner_id = ?, personal_data = ?, closed_at = ?
WHERE workspace_id = ? AND id = ?;

-- name: SetSteps
UPDATE incidents SET steps_done = ? WHERE workspace_id = ? AND id = ? AND steps_done = ?;

-- name: SetDocument
UPDATE incidents SET root_cause = ?, impact = ?, preventive = ?, follow_ups = ?
WHERE workspace_id = ? AND id = ?;

-- name: NextTimelineSeq
SELECT COALESCE(MAX(seq), 0) + 1 FROM incident_timeline
WHERE workspace_id = ? AND incident_id = ?;

-- name: InsertTimeline
INSERT INTO incident_timeline (workspace_id, incident_id, seq, at, kind, step, actor, text,
    refs)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: Timeline
SELECT seq, at, kind, step, actor, text, refs FROM incident_timeline
WHERE workspace_id = ? AND incident_id = ? ORDER BY seq;

-- name: InsertBaseline
INSERT INTO security_baselines (workspace_id, id, name, created_by, created_at, body)
VALUES (?, ?, ?, ?, ?, ?);

-- name: BaselineByID
SELECT id, name, created_by, created_at, body FROM security_baselines
WHERE workspace_id = ? AND id = ?;

-- name: LatestBaseline
SELECT id, name, created_by, created_at, body FROM security_baselines
WHERE workspace_id = ? ORDER BY created_at DESC, id DESC LIMIT 1;

-- name: ListBaselines
SELECT id, name, created_by, created_at, '' FROM security_baselines
WHERE workspace_id = ? ORDER BY created_at DESC, id DESC LIMIT 100;

-- name: Lockdown
SELECT ai_paused, exports_frozen, ip_deny, release_sha256, latest_release, updated_at
FROM workspace_lockdown WHERE workspace_id = ?;

-- name: SetLockdown
INSERT INTO workspace_lockdown (workspace_id, ai_paused, exports_frozen, ip_deny,
    release_sha256, latest_release, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (workspace_id) DO UPDATE SET ai_paused = excluded.ai_paused,
    exports_frozen = excluded.exports_frozen, ip_deny = excluded.ip_deny,
    release_sha256 = excluded.release_sha256, latest_release = excluded.latest_release,
    updated_at = excluded.updated_at;
