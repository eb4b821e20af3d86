package workspace

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/identity"
	"github.com/thunaivi/thunaivi/internal/store"
)

// SetupLinkTTL is how long the one-time setup link printed on first start works.
const SetupLinkTTL = time.Hour

// ErrSetupDone is returned when setup is attempted on a store that already
// has a workspace, or with a setup token that is unknown, used or expired.
var ErrSetupDone = errors.New("workspace: setup is not available")

// SetupRequest is what first-run setup needs.
type SetupRequest struct {
	Workspace     string
	AdminEmail    string
	AdminName     string
	AdminPassword string
}

// SetupResult names what setup created.
type SetupResult struct {
	Workspace Workspace
	Admin     identity.User
	Inbox     Inbox
	// AdminPath is the secret first path segment of the admin console and
	// the admin sign-in, shown this once.
	AdminPath string
}

// Setup creates the first workspace, its admin and a website-chat inbox the
// admin belongs to, all or nothing. With a non-empty setupToken the token must
// be valid and is used up in the same transaction.
func (s *Service) Setup(ctx context.Context, ids *identity.Service, setupToken string,
	r SetupRequest) (SetupResult, error) {
	var res SetupResult
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if setupToken != "" {
			now := s.now().UnixMilli()
			out, err := tx.ExecContext(
				ctx,
				s.q.UseSetupToken,
				now,
				identity.HashToken(setupToken),
				now,
			)
			if err != nil {
				return err
			}
			if n, _ := out.RowsAffected(); n != 1 {
				return ErrSetupDone
			}
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.q.CountWorkspaces).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return ErrSetupDone
		}
		var err error
		res, err = s.createWithAdmin(ctx, tx, ids, r)
		return err
	})
	if err != nil {
		return SetupResult{}, err
	}
	return res, nil
}

// IssueSetupToken creates the one-time token of the first-run setup link.
func (s *Service) IssueSetupToken(ctx context.Context) (string, error) {
	token := identity.RandomToken(32)
	_, err := s.db.ExecContext(ctx, s.q.InsertSetupToken, identity.HashToken(token),
		s.now().Add(SetupLinkTTL).UnixMilli())
	if err != nil {
		return "", fmt.Errorf("workspace: issue setup token: %w", err)
	}
	return token, nil
}

// SetupTokenValid reports whether a setup token can still be used.
func (s *Service) SetupTokenValid(ctx context.Context, token string) bool {
	var n int
	err := s.db.QueryRowContext(ctx, s.q.ValidSetupToken, identity.HashToken(token),
		s.now().UnixMilli()).Scan(&n)
	if err != nil || n != 1 {
		return false
	}
	empty, err := s.Empty(ctx)
	return err == nil && empty
}

// CreateWithAdmin creates a further workspace with its admin and a
// website-chat inbox, all or nothing.
func (s *Service) CreateWithAdmin(
	ctx context.Context,
	ids *identity.Service,
	r SetupRequest,
) (SetupResult, error) {
	var res SetupResult
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		res, err = s.createWithAdmin(ctx, tx, ids, r)
		return err
	})
	return res, err
}

func (s *Service) createWithAdmin(ctx context.Context, tx *store.Tx, ids *identity.Service,
	r SetupRequest) (SetupResult, error) {
	var res SetupResult
	var err error
	if res.Workspace, err = s.Create(ctx, tx, r.Workspace); err != nil {
		return res, err
	}
	res.Admin, err = ids.CreateUser(ctx, tx, r.AdminEmail, r.AdminName, r.AdminPassword,
		r.Workspace)
	if err != nil {
		return res, err
	}
	if err := s.AddMember(ctx, tx, res.Workspace.ID, res.Admin.ID, access.Admin); err != nil {
		return res, err
	}
	if res.AdminPath, err = s.setAdminPath(ctx, tx, res.Workspace.ID, ""); err != nil {
		return res, err
	}
	if res.Inbox, err = s.CreateInbox(ctx, tx, res.Workspace.ID, "Website chat"); err != nil {
		return res, err
	}
	if err = s.AddInboxMember(ctx, tx, res.Workspace.ID, res.Inbox.ID, res.Admin.ID); err != nil {
		return res, err
	}
	return res, s.audit.Record(ctx, tx, audit.Event{Workspace: res.Workspace.ID,
		Action: audit.WorkspaceCreated, TargetType: "workspace", TargetID: res.Workspace.ID,
		Diff: audit.Diff{"name": {nil, res.Workspace.Name}, "admin_id": {nil, res.Admin.ID},
			"admin_email": {nil, res.Admin.Email}}})
}
