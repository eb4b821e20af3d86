package web_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

// TestOnlyOfficeAddressesAreAdmins lists the workspace's office domain:
// free mail is refused as one, nobody off it can be made an admin (and the
// refusal is audited), and an admin already off it loses the admin console.
func TestOnlyOfficeAddressesAreAdmins(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	ws := e.WS.Workspace.ID
	e.addMember(ws, "old-admin@elsewhere.example", access.Admin)
	outsiderID := e.addMember(ws, "helper@elsewhere.example", access.Agent)
	admin := e.login(e.AdminEmail)
	oldAdmin := e.login("old-admin@elsewhere.example")
	put := func(domains ...string) response {
		return e.do(admin, "PUT", "/api/v1/security/settings", nil,
			map[string]any{"office_domains": domains})
	}
	wantError(t, put("gmail.com"), http.StatusUnprocessableEntity, "invalid")
	wantError(t, put("not a domain"), http.StatusUnprocessableEntity, "invalid")
	wantError(t, put("elsewhere.example"), http.StatusUnprocessableEntity, "invalid")
	if r := put("First.Example"); r.Status != http.StatusOK {
		t.Fatalf("setting the office domain: %d %s", r.Status, r.Body)
	}

	wantError(t, e.do(admin, "PATCH", "/api/v1/members/"+outsiderID, nil,
		map[string]string{"role": "admin"}), http.StatusForbidden, "not_office_address")
	if role, _ := e.App.Workspaces.Role(context.Background(), ws, outsiderID); role !=
		access.Agent {
		t.Fatalf("the outsider is now %s", role)
	}
	if got := e.newest(ws, audit.RoleChanged); got.Outcome != audit.Refused {
		t.Fatalf("the refused promotion was recorded as %+v", got)
	}
	wantError(t, e.do(admin, "POST", "/api/v1/invitations", nil,
		map[string]string{"email": "boss@gmail.com", "role": "admin"}),
		http.StatusForbidden, "not_office_address")
	e.post(admin, "POST", "/api/v1/invitations",
		map[string]string{"email": "helper2@gmail.com", "role": "agent"}, http.StatusCreated)

	wantError(t, e.do(oldAdmin, "GET", "/api/v1/audit", nil, nil), http.StatusForbidden,
		"office_domain_required")
}

// TestAWorkspaceCanRequireASecondFactorOfEveryone turns the setting on: an
// agent without a second factor then reaches only their account.
func TestAWorkspaceCanRequireASecondFactorOfEveryone(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	e.addMember(e.WS.Workspace.ID, "agent@first.example", access.Agent)
	agent := e.login("agent@first.example")
	e.post(agent, "GET", "/api/v1/conversations", nil, http.StatusOK)
	e.post(e.login(e.AdminEmail), "PUT", "/api/v1/security/settings",
		map[string]any{"require_2fa": true}, http.StatusOK)
	wantError(t, e.do(agent, "GET", "/api/v1/conversations", nil, nil), http.StatusForbidden,
		"second_factor_setup_required")
	e.enableTOTP(agent)
	e.post(agent, "GET", "/api/v1/conversations", nil, http.StatusOK)
}
