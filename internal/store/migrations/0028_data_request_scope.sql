-- The address a request was confirmed through, in lower case, while it is
-- open: the request covers that address's contacts, whichever of them is
-- deleted first. It is cleared once the request is decided.
ALTER TABLE data_requests ADD COLUMN verified_address TEXT NOT NULL DEFAULT '';
UPDATE data_requests SET verified_address = COALESCE((SELECT lower(c.email) FROM contacts c
    WHERE c.workspace_id = data_requests.workspace_id AND c.id = data_requests.contact_id),
    '')
WHERE verified_by = 'email link' AND state = 'awaiting_approval';

-- The contacts an export holds, as ",id,id,": deleting any of them deletes
-- the export too, whichever request made it.
ALTER TABLE data_exports ADD COLUMN contact_ids TEXT NOT NULL DEFAULT '';
UPDATE data_exports SET contact_ids = COALESCE((SELECT ',' || r.contact_id || ','
    FROM data_requests r WHERE r.workspace_id = data_exports.workspace_id
    AND r.id = data_exports.request_id), '');

-- One open request from Meta a contact, however many callbacks arrive at
-- once.
CREATE UNIQUE INDEX data_requests_open_meta ON data_requests (workspace_id, contact_id)
    WHERE source = 'meta' AND state IN ('awaiting_verification', 'awaiting_approval');
