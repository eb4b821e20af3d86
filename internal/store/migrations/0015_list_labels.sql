-- A conversation's labels are kept on it too, comma-separated (labels hold
-- no commas), so that listing a page of conversations reads one table row
-- each. conversation_labels stays the place to search by label.
ALTER TABLE conversations ADD COLUMN labels TEXT NOT NULL DEFAULT '';
