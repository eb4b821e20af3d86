UPDATE conversations SET labels = COALESCE((SELECT group_concat(label, ',')
    FROM conversation_labels l
    WHERE l.workspace_id = conversations.workspace_id AND l.conversation_id = conversations.id),
    '');
