-- A workspace's escalation contacts and the response times it promises, by
-- severity, as JSON (internal/compliance.Contacts); published in its
-- security.txt, trust page and security document.
CREATE TABLE trust_contacts (
    workspace_id  TEXT PRIMARY KEY REFERENCES workspaces(id),
    contacts      TEXT NOT NULL,
    updated_by    TEXT NOT NULL,
    updated_at    BIGINT NOT NULL
);

-- Every saved version of a workspace's compliance documents, by kind. The
-- newest is published; older ones stay, at their own address. draft_hash is
-- the SHA-256 of the draft the settings gave when the version was saved, to
-- tell when the settings a document quotes changed since.
CREATE TABLE compliance_documents (
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
    kind          TEXT NOT NULL,
    version       INTEGER NOT NULL,
    body          TEXT NOT NULL,
    draft_hash    TEXT NOT NULL,
    saved_by      TEXT NOT NULL,
    saved_at      BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, kind, version)
);

-- The terms of the hosted service, as the operator published them; a new
-- text is a new version, and every version stays.
CREATE TABLE service_terms (
    version       INTEGER PRIMARY KEY,
    sha256        TEXT NOT NULL,
    body          TEXT NOT NULL,
    published_at  BIGINT NOT NULL
);

-- Who accepted which version of the service's terms for a workspace, and when.
CREATE TABLE terms_acceptances (
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
    version       INTEGER NOT NULL REFERENCES service_terms(version),
    user_id       TEXT NOT NULL,
    email         TEXT NOT NULL,
    accepted_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, version, user_id)
);
