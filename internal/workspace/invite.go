package workspace

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/identity"
	"github.com/thunaivi/thunaivi/internal/origin"
	"github.com/thunaivi/thunaivi/internal/store"
)

// InvitationTTL is how long an invitation link works.
const InvitationTTL = 7 * 24 * time.Hour

// ErrInvitationInvalid is returned for an invitation link that is unknown,
// used or expired.
var ErrInvitationInvalid = errors.New("workspace: the invitation is not valid")

// Invitation is a pending invitation.
type Invitation struct {
	// ID names the invitation to the admins who may revoke it: the hash of
	// its token, from which the token cannot be recovered.
	ID          string      `json:"id"`
	WorkspaceID string      `json:"-"`
	Email       string      `json:"email"`
	Role        access.Role `json:"role"`
	InboxIDs    []string    `json:"inbox_ids"`
	InvitedBy   string      `json:"invited_by"`
	ExpiresAt   time.Time   `json:"expires_at"`
}

// Invite creates a one-time invitation for email to join the workspace with a
// role and, for agents, the inboxes they will work. It returns the token
// for the invitation link; only its hash is kept.
func (s *Service) Invite(
	ctx context.Context,
	wsID, invitedBy string,
	inv Invitation,
) (string, error) {
	email, err := identity.CleanEmail(inv.Email)
	if err != nil {
		return "", fmt.Errorf("workspace: %w: the email address is not valid", ErrInvalid)
	}
	if !inv.Role.Valid() {
		return "", fmt.Errorf("workspace: %w: the role must be admin, manager or agent", ErrInvalid)
	}
	if err := s.checkAdminAddress(ctx, wsID, email, inv.Role); err != nil {
		return "", err
	}
	inboxes, err := s.Inboxes(ctx, wsID)
	if err != nil {
		return "", err
	}
	for _, id := range inv.InboxIDs {
		if !slices.ContainsFunc(inboxes, func(in Inbox) bool { return in.ID == id }) {
			return "", fmt.Errorf("workspace: %w: no such inbox in this workspace", ErrInvalid)
		}
	}
	if inv.InboxIDs == nil {
		inv.InboxIDs = []string{}
	}
	ids, _ := json.Marshal(inv.InboxIDs)
	token := identity.RandomToken(32)
	now := s.now()
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, s.q.InsertInvitation, identity.HashToken(token), wsID,
			email, string(inv.Role), string(ids), invitedBy, now.UnixMilli(),
			now.Add(InvitationTTL).UnixMilli())
		if err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.MemberInvited, TargetType: "invitation",
			TargetID: identity.HashToken(token),
			Diff: audit.Diff{"email": {nil, email}, "role": {nil, inv.Role},
				"inbox_ids": {nil, inv.InboxIDs}}})
	})
	if err != nil {
		return "", fmt.Errorf("workspace: invite: %w", err)
	}
	return token, nil
}

// Invitation returns the pending invitation a token opens.
func (s *Service) Invitation(ctx context.Context, token string) (Invitation, error) {
	return s.invitation(ctx, s.db, token)
}

func (s *Service) invitation(
	ctx context.Context,
	q store.Querier,
	token string,
) (Invitation, error) {
	inv, err := scanInvitation(q.QueryRowContext(ctx, s.q.InvitationByHash,
		identity.HashToken(token), s.now().UnixMilli()))
	if errors.Is(err, sql.ErrNoRows) {
		return Invitation{}, ErrInvitationInvalid
	}
	return inv, err
}

func scanInvitation(row interface{ Scan(...any) error }) (Invitation, error) {
	var inv Invitation
	var role, ids string
	var expires int64
	err := row.Scan(&inv.WorkspaceID, &inv.Email, &role, &ids, &inv.InvitedBy, &inv.ID,
		&expires)
	if err != nil {
		return Invitation{}, err
	}
	inv.Role, inv.ExpiresAt = access.Role(role), time.UnixMilli(expires).UTC()
	return inv, json.Unmarshal([]byte(ids), &inv.InboxIDs)
}

// Invitations lists a workspace's pending invitations.
func (s *Service) Invitations(ctx context.Context, wsID string) ([]Invitation, error) {
	return store.Collect(ctx, s.db, s.q.PendingInvitations,
		func(rows *sql.Rows) (Invitation, error) { return scanInvitation(rows) },
		wsID, s.now().UnixMilli())
}

// Revoke deletes a pending invitation, so its link stops working.
func (s *Service) Revoke(ctx context.Context, wsID, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, s.q.DeleteInvitation, wsID, id)
		if err != nil {
			return fmt.Errorf("workspace: revoke invitation: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return store.ErrNotFound
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.InvitationRevoked, TargetType: "invitation", TargetID: id})
	})
}

// Accept uses up an invitation: it creates the invited user with the
// password they chose (or, when the address has an account already, checks
// that account's password), makes them a member with the invited role and
// puts them in the invited inboxes, all or nothing.
func (s *Service) Accept(ctx context.Context, ids *identity.Service, token, name,
	password string) (identity.User, Invitation, error) {
	var u identity.User
	var inv Invitation
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if inv, err = s.invitation(ctx, tx, token); err != nil {
			return err
		}
		// An invitation is only as good as its author's right to invite.
		var role string
		err = tx.QueryRowContext(ctx, s.q.ActiveRole, inv.WorkspaceID, inv.InvitedBy).
			Scan(&role)
		if err != nil || !access.Allowed(access.Role(role), access.MembersManage) {
			return ErrInvitationInvalid
		}
		now := s.now().UnixMilli()
		if _, err := tx.ExecContext(ctx, s.q.UseInvitation, now, identity.HashToken(token),
			now); err != nil {
			return err
		}
		// An invitation to someone who is a member already, disabled or not,
		// is no longer valid, before any password is looked at: the answer
		// must not tell whether the password was right.
		if id, err := ids.UserIDByEmail(ctx, tx, inv.Email); err == nil {
			var role string
			if tx.QueryRowContext(ctx, s.q.MemberRole, inv.WorkspaceID, id).
				Scan(&role) == nil {
				return ErrInvitationInvalid
			}
		}
		// Someone who has an account already (in another workspace, or
		// removed from this one) joins with it, by giving its password.
		u, err = ids.CheckPassword(ctx, tx, inv.Email, password)
		switch {
		case err == nil:
		case errors.Is(err, store.ErrNotFound):
			var w Workspace
			if w, err = s.Get(ctx, inv.WorkspaceID); err != nil {
				return err
			}
			if u, err = ids.CreateUser(ctx, tx, inv.Email, name, password, w.Name); err != nil {
				return err
			}
		default:
			return err
		}
		if err := s.AddMember(ctx, tx, inv.WorkspaceID, u.ID, inv.Role); err != nil {
			return err
		}
		for _, in := range inv.InboxIDs {
			if err := s.AddInboxMember(ctx, tx, inv.WorkspaceID, in, u.ID); err != nil {
				return err
			}
		}
		actor := origin.Actor{Type: origin.User, ID: u.ID, Email: u.Email}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: inv.WorkspaceID,
			Action: audit.MemberJoined, TargetType: "user", TargetID: u.ID, Actor: &actor,
			Diff: audit.Diff{"role": {nil, inv.Role}, "inbox_ids": {nil, inv.InboxIDs},
				"invited_by": {nil, inv.InvitedBy}}})
	})
	if errors.Is(err, identity.ErrBadCredentials) {
		// The transaction that would have held it rolled back: record the
		// refused password on its own.
		err = ids.Refused(ctx, inv.Email, "wrong password when accepting an invitation")
	}
	return u, inv, err
}

// SetRole changes a member's role. It takes effect on their next request,
// and ends their sessions in the workspace: whoever holds one signs in again
// under the new role. The workspace always keeps at least one admin.
func (s *Service) SetRole(ctx context.Context, ids *identity.Service, wsID, userID string,
	role access.Role) error {
	if !role.Valid() {
		return fmt.Errorf("workspace: %w: the role must be admin, manager or agent", ErrInvalid)
	}
	u, err := ids.User(ctx, userID)
	if err != nil {
		return err
	}
	if err := s.checkAdminAddress(ctx, wsID, u.Email, role); err != nil {
		return err
	}
	if err := s.checkVerified(ctx, ids, wsID, u, role); err != nil {
		return err
	}
	return s.changeMember(ctx, wsID, userID, func(tx *store.Tx, current access.Role) error {
		if current == role {
			return nil // nothing changes, so nothing is recorded
		}
		if current == access.Admin && role != access.Admin {
			if err := s.keepAnAdmin(ctx, tx, wsID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, s.q.SetRole, string(role), wsID, userID); err != nil {
			return err
		}
		if !access.Allowed(role, access.MembersManage) {
			// Invitations are only as good as their author's right to invite.
			if _, err := tx.ExecContext(ctx, s.q.DeleteInvitationsBy, wsID,
				userID); err != nil {
				return err
			}
		}
		if err := ids.EndSessionsIn(ctx, tx, userID, wsID, "role changed"); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.RoleChanged, TargetType: "user", TargetID: userID,
			Diff: audit.Diff{"role": {current, role}}})
	})
}

// RemoveMember takes a user out of the workspace, its inboxes and teams, and
// ends their sessions in it. The workspace always keeps at least one admin.
func (s *Service) RemoveMember(ctx context.Context, ids *identity.Service, wsID,
	userID string) error {
	return s.changeMember(ctx, wsID, userID, func(tx *store.Tx, current access.Role) error {
		if current == access.Admin {
			if err := s.keepAnAdmin(ctx, tx, wsID); err != nil {
				return err
			}
		}
		for _, q := range []string{s.q.DeleteMemberInboxes, s.q.DeleteMemberTeams,
			s.q.DeleteInvitationsBy, s.q.DeleteMember} {
			if _, err := tx.ExecContext(ctx, q, wsID, userID); err != nil {
				return err
			}
		}
		if err := ids.EndSessionsIn(ctx, tx, userID, wsID,
			"removed from the workspace"); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.MemberRemoved, TargetType: "user", TargetID: userID,
			Diff: audit.Diff{"role": {current, nil}}})
	})
}

// SetDisabled disables a member, ending their sessions at once, or enables
// them again. A disabled member cannot sign in and holds no role; the
// workspace keeps at least one admin who is not disabled.
func (s *Service) SetDisabled(ctx context.Context, ids *identity.Service, wsID,
	userID string, disabled bool) error {
	return s.changeMember(ctx, wsID, userID, func(tx *store.Tx, current access.Role) error {
		var at any
		action := audit.MemberEnabled
		if disabled {
			at, action = s.now().UnixMilli(), audit.MemberDisabled
			if current == access.Admin {
				if err := s.keepAnAdmin(ctx, tx, wsID); err != nil {
					return err
				}
			}
		}
		if _, err := tx.ExecContext(ctx, s.q.SetMemberDisabled, at, wsID, userID); err != nil {
			return err
		}
		if disabled {
			if err := ids.EndSessionsIn(ctx, tx, userID, wsID, "member disabled"); err != nil {
				return err
			}
			// Their invitations die with their right to invite.
			if _, err := tx.ExecContext(ctx, s.q.DeleteInvitationsBy, wsID, userID); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID, Action: action,
			TargetType: "user", TargetID: userID,
			Diff: audit.Diff{"disabled": {!disabled, disabled}}})
	})
}

// changeMember runs fn on a member in a transaction that holds the
// workspace, so that two changes at once cannot both remove its last admin.
func (s *Service) changeMember(ctx context.Context, wsID, userID string,
	fn func(tx *store.Tx, current access.Role) error) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q.LockWorkspace, wsID); err != nil {
			return err
		}
		var role string
		err := tx.QueryRowContext(ctx, s.q.MemberRole, wsID, userID).Scan(&role)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		return fn(tx, access.Role(role))
	})
}

func (s *Service) keepAnAdmin(ctx context.Context, tx *store.Tx, wsID string) error {
	var admins int
	if err := tx.QueryRowContext(ctx, s.q.CountAdmins, wsID).Scan(&admins); err != nil {
		return err
	}
	if admins <= 1 {
		return fmt.Errorf("workspace: %w: the workspace needs at least one admin", ErrInvalid)
	}
	return nil
}

// SetInboxMember adds a member to an inbox or removes them from it.
func (s *Service) SetInboxMember(
	ctx context.Context,
	wsID, inboxID, userID string,
	member bool,
) error {
	if _, err := s.Inbox(ctx, wsID, inboxID); err != nil {
		return err
	}
	if _, err := s.Role(ctx, wsID, userID); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if member {
			if err := s.AddInboxMember(ctx, tx, wsID, inboxID, userID); err != nil {
				return err
			}
		} else if _, err := tx.ExecContext(ctx, s.q.DeleteInboxMember, wsID, inboxID,
			userID); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.InboxAccessChanged, TargetType: "user", TargetID: userID,
			Diff: audit.Diff{"inbox:" + inboxID: {!member, member}}})
	})
}
