-- name: InsertEntry
INSERT INTO kb_entries (workspace_id, id, title, questions, answer, tags, handoff,
    published, version, updated_by, updated_at, owner)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: UpdateEntry
UPDATE kb_entries SET title = ?, questions = ?, answer = ?, tags = ?, handoff = ?,
    published = ?, version = ?, updated_by = ?, updated_at = ?, owner = ?
WHERE workspace_id = ? AND id = ? AND version = ?;

-- name: EntryByID
SELECT id, title, questions, answer, tags, handoff, published, version, updated_by, updated_at,
    owner
FROM kb_entries WHERE workspace_id = ? AND id = ?;

-- name: ListEntries
SELECT id, title, questions, answer, tags, handoff, published, version, updated_by, updated_at,
    owner
FROM kb_entries WHERE workspace_id = ? ORDER BY title, id;

-- name: InsertVersion
INSERT INTO kb_versions (workspace_id, entry_id, version, title, questions, answer, tags,
    handoff, published, changed_by, reason, created_at, reviewed_by)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: ListVersions
SELECT version, title, questions, answer, tags, handoff, published, changed_by, reason, created_at,
    reviewed_by
FROM kb_versions WHERE workspace_id = ? AND entry_id = ? ORDER BY version DESC;

-- name: ListCategories
SELECT name, description, phrases, examples, reply, languages FROM restricted_categories
WHERE workspace_id = ? ORDER BY name;

-- name: UpsertCategory
INSERT INTO restricted_categories (workspace_id, name, description, phrases, examples, updated_at,
    reply, languages)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (workspace_id, name) DO UPDATE SET description = excluded.description,
    phrases = excluded.phrases, examples = excluded.examples, updated_at = excluded.updated_at,
    reply = excluded.reply, languages = excluded.languages;

-- name: BumpRevision
INSERT INTO brain_settings (workspace_id, revision) VALUES (?, 1)
ON CONFLICT (workspace_id) DO UPDATE SET revision = brain_settings.revision + 1;

-- name: SetThresholds
INSERT INTO brain_settings (workspace_id, revision, thresholds) VALUES (?, 1, ?)
ON CONFLICT (workspace_id) DO UPDATE SET revision = brain_settings.revision + 1,
    thresholds = excluded.thresholds;

-- name: BrainSettings
SELECT revision, thresholds FROM brain_settings WHERE workspace_id = ?;

-- name: AIPolicy
SELECT claims, max_chars FROM ai_policies WHERE workspace_id = ?;

-- name: SetAIPolicy
INSERT INTO ai_policies (workspace_id, claims, max_chars) VALUES (?, ?, ?)
ON CONFLICT (workspace_id) DO UPDATE SET claims = excluded.claims,
    max_chars = excluded.max_chars;

-- name: ReviewMode
SELECT kb_review FROM brain_settings WHERE workspace_id = ?;

-- name: SetReviewMode
INSERT INTO brain_settings (workspace_id, revision, kb_review) VALUES (?, 1, ?)
ON CONFLICT (workspace_id) DO UPDATE SET kb_review = excluded.kb_review;

-- name: InsertProposal
INSERT INTO kb_proposals (workspace_id, id, entry_id, base_version, title, questions, answer,
    tags, handoff, published, owner, proposed_by, author_id, reason, created_at, state)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending');

-- name: ProposalByID
SELECT id, entry_id, base_version, title, questions, answer, tags, handoff, published, owner,
    proposed_by, author_id, reason, created_at, state, reviewed_by, review_note, reviewed_at
FROM kb_proposals WHERE workspace_id = ? AND id = ?;

-- name: ListProposals
SELECT id, entry_id, base_version, title, questions, answer, tags, handoff, published, owner,
    proposed_by, author_id, reason, created_at, state, reviewed_by, review_note, reviewed_at
FROM kb_proposals WHERE workspace_id = ? AND (state = ? OR ? = '')
ORDER BY created_at DESC, id LIMIT 200;

-- name: CloseProposal
UPDATE kb_proposals SET state = ?, reviewed_by = ?, review_note = ?, reviewed_at = ?
WHERE workspace_id = ? AND id = ? AND state = 'pending';
