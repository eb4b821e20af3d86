-- SQLite adds a NOT NULL column with a default only; every insert gives the
-- content.
ALTER TABLE attachments ADD COLUMN content BLOB NOT NULL DEFAULT x'';
