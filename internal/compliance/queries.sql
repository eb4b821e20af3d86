-- name: Contacts
SELECT contacts, updated_by, updated_at FROM trust_contacts WHERE workspace_id = ?;

-- name: SetContacts
INSERT INTO trust_contacts (workspace_id, contacts, updated_by, updated_at) VALUES (?, ?, ?, ?)
ON CONFLICT (workspace_id) DO UPDATE SET contacts = excluded.contacts,
    updated_by = excluded.updated_by, updated_at = excluded.updated_at;

-- name: LastVersion
SELECT COALESCE(MAX(version), 0) FROM compliance_documents
WHERE workspace_id = ? AND kind = ?;

-- name: InsertDocument
INSERT INTO compliance_documents (workspace_id, kind, version, body, draft_hash, saved_by,
    saved_at)
VALUES (?, ?, ?, ?, ?, ?, ?);

-- name: Document
SELECT version, body, draft_hash, saved_by, saved_at FROM compliance_documents
WHERE workspace_id = ? AND kind = ? AND version = ?;

-- name: CurrentDocument
SELECT version, body, draft_hash, saved_by, saved_at FROM compliance_documents
WHERE workspace_id = ? AND kind = ? ORDER BY version DESC LIMIT 1;

-- name: Versions
SELECT version, '', draft_hash, saved_by, saved_at FROM compliance_documents
WHERE workspace_id = ? AND kind = ? ORDER BY version DESC LIMIT 1000;

-- name: CurrentTerms
SELECT version, sha256, body, published_at FROM service_terms
ORDER BY version DESC LIMIT 1;

-- name: InsertTerms
INSERT INTO service_terms (version, sha256, body, published_at) VALUES (?, ?, ?, ?);

-- name: InsertAcceptance
INSERT INTO terms_acceptances (workspace_id, version, user_id, email, accepted_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (workspace_id, version, user_id) DO NOTHING;

-- name: Acceptance
SELECT email, accepted_at FROM terms_acceptances
WHERE workspace_id = ? AND version = ? ORDER BY accepted_at LIMIT 1;
