-- Each knowledge-base entry has an owner: the member who answers for it,
-- its author unless someone is named. Entries from before have none.
ALTER TABLE kb_entries ADD COLUMN owner TEXT NOT NULL DEFAULT '';
