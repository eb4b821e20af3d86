package workspace_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/audit/audittest"
	"github.com/thunaivi/thunaivi/internal/clocktest"
	"github.com/thunaivi/thunaivi/internal/identity"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"github.com/thunaivi/thunaivi/internal/workspace"
)

func services(t *testing.T, db *store.DB, c *clocktest.Clock) (*workspace.Service,
	*identity.Service) {
	t.Helper()
	ws, err := workspace.New(db, c.Now, audittest.New(t, db, c.Now))
	if err != nil {
		t.Fatal(err)
	}
	ids, err := identity.New(db, c.Now, audittest.New(t, db, c.Now))
	if err != nil {
		t.Fatal(err)
	}
	return ws, ids
}

var admin = workspace.SetupRequest{Workspace: "Acme", AdminEmail: "Admin@Acme.example",
	AdminPassword: "twelve chars and more"}

func TestSetupLinkExpiresAfterAnHour(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := clocktest.New(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
		ws, ids := services(t, db, c)
		ctx := context.Background()
		token, err := ws.IssueSetupToken(ctx)
		if err != nil {
			t.Fatal(err)
		}
		c.Add(workspace.SetupLinkTTL)
		if ws.SetupTokenValid(ctx, token) {
			t.Fatal("the setup link still works after an hour")
		}
		if _, err := ws.Setup(ctx, ids, token, admin); !errors.Is(err, workspace.ErrSetupDone) {
			t.Fatalf("setup with an expired link: %v, want ErrSetupDone", err)
		}
		if empty, _ := ws.Empty(ctx); !empty {
			t.Fatal("an expired link created a workspace")
		}
	})
}

func TestSetupLinkWorksOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := clocktest.New(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
		ws, ids := services(t, db, c)
		ctx := context.Background()
		token, _ := ws.IssueSetupToken(ctx)
		c.Add(59 * time.Minute)
		res, err := ws.Setup(ctx, ids, token, admin)
		if err != nil {
			t.Fatal(err)
		}
		if res.Admin.Email != "admin@acme.example" || res.Inbox.WidgetToken == "" {
			t.Fatalf("setup result %+v", res)
		}
		role, err := ws.Role(ctx, res.Workspace.ID, res.Admin.ID)
		if err != nil || role != "admin" {
			t.Fatalf("admin role %q, %v", role, err)
		}
		second := admin
		second.AdminEmail = "other@acme.example"
		if _, err := ws.Setup(ctx, ids, token, second); !errors.Is(err, workspace.ErrSetupDone) {
			t.Fatalf("second use of the link: %v, want ErrSetupDone", err)
		}
		if _, err := ws.Setup(ctx, ids, "", second); !errors.Is(err, workspace.ErrSetupDone) {
			t.Fatalf("setup on a store with a workspace: %v, want ErrSetupDone", err)
		}
	})
}

func TestSetupIsAllOrNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := clocktest.New(time.Now())
		ws, ids := services(t, db, c)
		ctx := context.Background()
		weak := admin
		weak.AdminPassword = "short"
		if _, err := ws.Setup(ctx, ids, "", weak); !errors.Is(err, identity.ErrWeakPassword) {
			t.Fatalf("setup with a weak password: %v", err)
		}
		if empty, _ := ws.Empty(ctx); !empty {
			t.Fatal("a failed setup left a workspace behind")
		}
	})
}

// TestWorkspacesWithoutAnAdminPathAreListed lists a workspace whose admin
// path predates admin paths, so that serve can warn of it.
func TestWorkspacesWithoutAnAdminPathAreListed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		_, ws, _, res := setUp(t, db)
		ctx := context.Background()
		if ids, err := ws.WithoutAdminPath(ctx); err != nil || len(ids) != 0 {
			t.Fatalf("a new workspace: %v, %v", ids, err)
		}
		if _, err := db.ExecContext(ctx, db.Rebind(
			"UPDATE workspaces SET admin_path_hash = '' WHERE id = ?"),
			res.Workspace.ID); err != nil {
			t.Fatal(err)
		}
		if ids, err := ws.WithoutAdminPath(ctx); err != nil || len(ids) != 1 ||
			ids[0] != res.Workspace.ID {
			t.Fatalf("an old workspace: %v, %v", ids, err)
		}
	})
}
