package workspace_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/clocktest"
	"github.com/thunaivi/thunaivi/internal/identity"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"github.com/thunaivi/thunaivi/internal/workspace"
)

// setUp creates a workspace with its admin on db, under a fake clock.
func setUp(t *testing.T, db *store.DB) (*clocktest.Clock, *workspace.Service, *identity.Service,
	workspace.SetupResult) {
	t.Helper()
	c := clocktest.New(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	ws, ids := services(t, db, c)
	res, err := ws.Setup(context.Background(), ids, "", admin)
	if err != nil {
		t.Fatal(err)
	}
	return c, ws, ids, res
}

// wantErr fails the test unless err is target.
func wantErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: %v, want %v", what, err, target)
	}
}

func TestInvitations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c, ws, ids, res := setUp(t, db)
		ctx := context.Background()
		w := res.Workspace.ID
		_, err := ws.Invite(ctx, w, res.Admin.ID, workspace.Invitation{Email: "x@y.example",
			Role: access.Agent, InboxIDs: []string{"ib_of_someone_else"}})
		wantErr(t, err, workspace.ErrInvalid, "invitation to an inbox of another workspace")
		token, err := ws.Invite(ctx, w, res.Admin.ID, workspace.Invitation{
			Email: "Agent@Acme.example", Role: access.Agent, InboxIDs: []string{res.Inbox.ID}})
		if err != nil {
			t.Fatal(err)
		}
		u, inv, err := ws.Accept(ctx, ids, token, "Agent", "a fine long password")
		if err != nil || u.Email != "agent@acme.example" || inv.Role != access.Agent {
			t.Fatalf("accept: %+v %+v %v", u, inv, err)
		}
		if role, _ := ws.Role(ctx, w, u.ID); role != access.Agent {
			t.Fatalf("role %q after accepting", role)
		}
		if in, _ := ws.MemberInboxes(ctx, w, u.ID); len(in) != 1 || in[0] != res.Inbox.ID {
			t.Fatalf("inboxes %v after accepting", in)
		}
		_, _, err = ws.Accept(ctx, ids, token, "Again", "another long password")
		wantErr(t, err, workspace.ErrInvitationInvalid, "second accept")
		late, _ := ws.Invite(ctx, w, res.Admin.ID, workspace.Invitation{
			Email: "late@acme.example", Role: access.Manager})
		c.Add(workspace.InvitationTTL)
		_, _, err = ws.Accept(ctx, ids, late, "Late", "a fine long password")
		wantErr(t, err, workspace.ErrInvitationInvalid, "accept after expiry")
	})
}

func TestWorkspaceKeepsAnAdmin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		_, ws, ids, res := setUp(t, db)
		ctx := context.Background()
		w, first := res.Workspace.ID, res.Admin.ID
		wantErr(t, ws.SetRole(ctx, ids, w, first, access.Agent), workspace.ErrInvalid,
			"demoting the only admin")
		wantErr(t, ws.RemoveMember(ctx, ids, w, first), workspace.ErrInvalid,
			"removing the only admin")
		token, _ := ws.Invite(ctx, w, first, workspace.Invitation{Email: "two@acme.example",
			Role: access.Admin})
		second, _, err := ws.Accept(ctx, ids, token, "", "a fine long password")
		if err != nil {
			t.Fatal(err)
		}
		session, err := ids.StartSession(ctx, first, w)
		if err != nil {
			t.Fatal(err)
		}
		if err := ws.RemoveMember(ctx, ids, w, first); err != nil {
			t.Fatalf("removing one of two admins: %v", err)
		}
		_, err = ids.SessionByToken(ctx, session, nil)
		wantErr(t, err, store.ErrNotFound, "the removed member's session")
		_, err = ws.Role(ctx, w, first)
		wantErr(t, err, store.ErrNotFound, "the removed member's role")
		wantErr(t, ws.SetRole(ctx, ids, w, second.ID, access.Manager), workspace.ErrInvalid,
			"demoting the remaining admin")
	})
}

func TestInvitationsCanBeRevokedAndDieWithTheirAuthorsRights(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		_, ws, ids, res := setUp(t, db)
		ctx := context.Background()
		w := res.Workspace.ID
		token, _ := ws.Invite(ctx, w, res.Admin.ID, workspace.Invitation{
			Email: "second@acme.example", Role: access.Admin})
		second, _, err := ws.Accept(ctx, ids, token, "", "a fine long password")
		if err != nil {
			t.Fatal(err)
		}
		revoked, _ := ws.Invite(ctx, w, second.ID, workspace.Invitation{
			Email: "r@acme.example", Role: access.Agent})
		orphan, _ := ws.Invite(ctx, w, second.ID, workspace.Invitation{
			Email: "o@acme.example", Role: access.Admin})
		pending, err := ws.Invitations(ctx, w)
		if err != nil || len(pending) != 2 {
			t.Fatalf("pending invitations: %+v, %v", pending, err)
		}
		if err := ws.Revoke(ctx, w, pending[0].ID); err != nil {
			t.Fatal(err)
		}
		_, _, err = ws.Accept(ctx, ids, revoked, "", "a fine long password")
		wantErr(t, err, workspace.ErrInvitationInvalid, "accepting a revoked invitation")
		if err := ws.SetRole(ctx, ids, w, second.ID, access.Agent); err != nil {
			t.Fatal(err)
		}
		_, _, err = ws.Accept(ctx, ids, orphan, "", "a fine long password")
		wantErr(t, err, workspace.ErrInvitationInvalid,
			"accepting the invitation of an author who may no longer invite")
		err = ws.SetRole(ctx, ids, w, second.ID, access.Admin)
		wantErr(t, err, workspace.ErrUnverifiedAddress,
			"making a member whose address is not verified an admin")
		link, _, err := ids.IssueEmailToken(ctx, second.ID, w)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ids.VerifyEmail(ctx, link); err != nil {
			t.Fatal(err)
		}
		if err := ws.SetRole(ctx, ids, w, second.ID, access.Admin); err != nil {
			t.Fatal(err)
		}
		_, _, err = ws.Accept(ctx, ids, orphan, "", "a fine long password")
		wantErr(t, err, workspace.ErrInvitationInvalid,
			"an invitation that came back with its author's rights")
	})
}

func TestARemovedMemberCanBeInvitedBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		_, ws, ids, res := setUp(t, db)
		ctx := context.Background()
		w := res.Workspace.ID
		invite := func() string {
			token, err := ws.Invite(ctx, w, res.Admin.ID, workspace.Invitation{
				Email: "back@acme.example", Role: access.Agent})
			if err != nil {
				t.Fatal(err)
			}
			return token
		}
		u, _, err := ws.Accept(ctx, ids, invite(), "", "the first long password")
		if err != nil {
			t.Fatal(err)
		}
		if err := ws.RemoveMember(ctx, ids, w, u.ID); err != nil {
			t.Fatal(err)
		}
		token := invite()
		if _, _, err := ws.Accept(ctx, ids, token, "", "somebody else's guess"); err == nil {
			t.Fatal("an existing account joined without its password")
		}
		back, _, err := ws.Accept(ctx, ids, invite(), "", "the first long password")
		if err != nil || back.ID != u.ID {
			t.Fatalf("rejoining with the account's password: %+v, %v", back, err)
		}
		if role, _ := ws.Role(ctx, w, u.ID); role != access.Agent {
			t.Fatalf("role %q after rejoining", role)
		}
	})
}
