-- name: InsertWorkspace
INSERT INTO workspaces (id, name, created_at) VALUES (?, ?, ?);

-- name: WorkspaceByID
SELECT id, name, created_at FROM workspaces WHERE id = ?;

-- name: CountWorkspaces
SELECT COUNT(*) FROM workspaces;

-- name: InsertMember
INSERT INTO members (workspace_id, user_id, role, created_at) VALUES (?, ?, ?, ?);

-- name: MemberRole
SELECT role FROM members WHERE workspace_id = ? AND user_id = ?;

-- name: ActiveRole
SELECT role FROM members WHERE workspace_id = ? AND user_id = ? AND disabled_at IS NULL;

-- name: FirstMembership
SELECT workspace_id FROM members WHERE user_id = ? AND disabled_at IS NULL
ORDER BY created_at LIMIT 1;

-- name: ListMembers
SELECT m.user_id, u.email, u.name, m.role, m.disabled_at IS NOT NULL
FROM members m JOIN users u ON u.id = m.user_id
WHERE m.workspace_id = ? ORDER BY u.email;

-- name: InsertInbox
INSERT INTO inboxes (id, workspace_id, name, channel, widget_token, created_at)
VALUES (?, ?, ?, ?, ?, ?);

-- name: InboxByWidgetToken
SELECT id, workspace_id, name, channel, widget_token, disconnected_at IS NULL FROM inboxes
WHERE widget_token = ?;

-- name: InboxByID
SELECT id, workspace_id, name, channel, widget_token, disconnected_at IS NULL FROM inboxes
WHERE workspace_id = ? AND id = ?;

-- name: ListInboxes
SELECT id, workspace_id, name, channel, widget_token, disconnected_at IS NULL FROM inboxes
WHERE workspace_id = ? ORDER BY created_at;

-- name: DisconnectInbox
UPDATE inboxes SET disconnected_at = ?, widget_token = ?
WHERE workspace_id = ? AND id = ? AND disconnected_at IS NULL;

-- name: InsertInboxMember
INSERT INTO inbox_members (workspace_id, inbox_id, user_id) VALUES (?, ?, ?)
ON CONFLICT DO NOTHING;

-- name: MemberInboxes
SELECT inbox_id FROM inbox_members WHERE workspace_id = ? AND user_id = ?;

-- name: InsertTeam
INSERT INTO teams (id, workspace_id, name, created_at) VALUES (?, ?, ?, ?);

-- name: ListTeams
SELECT id, name FROM teams WHERE workspace_id = ? ORDER BY name;

-- name: TeamByID
SELECT id, name FROM teams WHERE workspace_id = ? AND id = ?;

-- name: InsertTeamMember
INSERT INTO team_members (workspace_id, team_id, user_id) VALUES (?, ?, ?)
ON CONFLICT DO NOTHING;

-- name: InsertSetupToken
INSERT INTO setup_tokens (token_hash, expires_at) VALUES (?, ?);

-- name: UseSetupToken
UPDATE setup_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?;

-- name: ValidSetupToken
SELECT COUNT(*) FROM setup_tokens WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?;

-- name: InboxMemberIDs
SELECT user_id FROM inbox_members WHERE workspace_id = ? AND inbox_id = ?;

-- name: InsertInvitation
INSERT INTO invitations (token_hash, workspace_id, email, role, inbox_ids, invited_by,
    created_at, expires_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?);

-- name: InvitationByHash
SELECT workspace_id, email, role, inbox_ids, invited_by, token_hash, expires_at FROM invitations
WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?;

-- name: PendingInvitations
SELECT workspace_id, email, role, inbox_ids, invited_by, token_hash, expires_at FROM invitations
WHERE workspace_id = ? AND used_at IS NULL AND expires_at > ?
ORDER BY created_at;

-- name: DeleteInvitation
DELETE FROM invitations WHERE workspace_id = ? AND token_hash = ? AND used_at IS NULL;

-- name: UseInvitation
UPDATE invitations SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?;

-- name: SetRole
UPDATE members SET role = ? WHERE workspace_id = ? AND user_id = ?;

-- name: DeleteInboxMember
DELETE FROM inbox_members WHERE workspace_id = ? AND inbox_id = ? AND user_id = ?;

-- name: ListWorkspaceIDs
SELECT id FROM workspaces ORDER BY created_at;

-- name: LockWorkspace
UPDATE workspaces SET name = name WHERE id = ?;

-- name: CountAdmins
SELECT COUNT(*) FROM members WHERE workspace_id = ? AND role = 'admin' AND disabled_at IS NULL;

-- name: DeleteMember
DELETE FROM members WHERE workspace_id = ? AND user_id = ?;

-- name: DeleteMemberInboxes
DELETE FROM inbox_members WHERE workspace_id = ? AND user_id = ?;

-- name: DeleteMemberTeams
DELETE FROM team_members WHERE workspace_id = ? AND user_id = ?;

-- name: DeleteInvitationsBy
DELETE FROM invitations WHERE workspace_id = ? AND invited_by = ? AND used_at IS NULL;

-- name: SecuritySettings
SELECT office_domains, require_2fa FROM workspaces WHERE id = ?;

-- name: SetSecuritySettings
UPDATE workspaces SET office_domains = ?, require_2fa = ? WHERE id = ?;

-- name: SetAdminPath
UPDATE workspaces SET admin_path_hash = ? WHERE id = ?;

-- name: WorkspaceByAdminPath
SELECT id FROM workspaces WHERE admin_path_hash = ?;

-- name: SetMemberDisabled
UPDATE members SET disabled_at = ? WHERE workspace_id = ? AND user_id = ?;

-- name: WithoutAdminPath
SELECT id FROM workspaces WHERE admin_path_hash = '' ORDER BY created_at;
