-- The inbox lists conversations newest first, ties by id: an index in that
-- order lets a page be read straight off it, with no sort.
DROP INDEX conversations_list;
CREATE INDEX conversations_page ON conversations (workspace_id, last_message_at DESC, id);
