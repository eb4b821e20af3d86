UPDATE conversations SET labels = COALESCE((SELECT string_agg(label, ',' ORDER BY label)
    FROM conversation_labels l
    WHERE l.workspace_id = conversations.workspace_id AND l.conversation_id = conversations.id),
    '');
