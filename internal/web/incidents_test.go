package web_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/checklist"
	"github.com/thunaivi/thunaivi/internal/incident"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

// confirmOf reads the confirm value of the latest baseline's differences, as
// an admin reviewing them gets it.
func (e *env) confirmOf(c *http.Client) string {
	e.t.Helper()
	var diff struct{ Confirm string }
	e.post(c, "GET", "/api/v1/security/baselines/latest/diff", nil, http.StatusOK).JSON(e.t,
		&diff)
	return diff.Confirm
}

// incidentOf decodes {"incident": ...}.
func incidentOf(t testing.TB, r response) incident.Incident {
	t.Helper()
	var out struct {
		Incident incident.Incident `json:"incident"`
	}
	r.JSON(t, &out)
	return out.Incident
}

// addUnenrolledAdmin makes a user an admin of the workspace directly in the
// store, as an intruder with database access would: no invitation, no audit
// entry, no second factor.
func (e *env) addUnenrolledAdmin(wsID, email string) string {
	e.t.Helper()
	ctx := context.Background()
	var id string
	err := e.App.DB.InTx(ctx, func(tx *store.Tx) error {
		u, err := e.App.Identity.CreateUser(ctx, tx, email, "", Password)
		if err != nil {
			return err
		}
		id = u.ID
		return e.App.Workspaces.AddMember(ctx, tx, wsID, u.ID, access.Admin)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// TestIncidentDrill runs the playbook as a drill of a real leak: a leaked key
// is reported, an incident opens on its own, containment ends every session
// and rolls the keys, isolation pauses the AI and freezes exports, the
// integrity checks find an admin added during the incident, the baseline
// restore removes them, and the postmortem exports. Every step is in the
// audit log, and the log verifies.
func TestIncidentDrill(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ws := e.WS.Workspace.ID
		admin := e.login(e.AdminEmail)
		agentEmail := "agent@first.example"
		e.addMember(ws, agentEmail, access.Agent, e.WS.Inbox.ID)
		agent := e.login(agentEmail)
		leakedID, leaked := e.newKey(admin, "conversations:read")
		keptID, kept := e.newKey(admin, "conversations:read")
		if v := e.startChat(e.WS.Inbox.WidgetToken); v.send("how long does shipping take?") !=
			brain.ActionAnswer {
			t.Fatal("before the incident the AI should answer a shipping question")
		}
		e.post(admin, "POST", "/api/v1/security/baselines",
			map[string]string{"name": "known good"}, http.StatusCreated)

		// Detect: the public leak report opens an incident on its own.
		e.post(nil, "POST", "/api/v1/keys/report-leak",
			map[string]string{"text": "pasted in a gist: " + leaked}, http.StatusAccepted)
		var list struct {
			Incidents []incident.Incident `json:"incidents"`
		}
		e.post(admin, "GET", "/api/v1/incidents", nil, http.StatusOK).JSON(t, &list)
		if len(list.Incidents) != 1 || list.Incidents[0].Detector != incident.DetectLeakedKey {
			t.Fatalf("incidents after a leak report: %+v", list.Incidents)
		}
		id := list.Incidents[0].ID
		in := incidentOf(t, e.post(admin, "GET", "/api/v1/incidents/"+id, nil, http.StatusOK))
		if in.Severity != 2 || !in.ResponseDue.Equal(in.DetectedAt.Add(4*time.Hour)) {
			t.Errorf("severity %d, response due %s for detection at %s", in.Severity,
				in.ResponseDue, in.DetectedAt)
		}
		if !slices.Contains(in.Timeline[0].Refs, "apikey:"+leakedID) ||
			!slices.ContainsFunc(in.Timeline[0].Refs, func(r string) bool {
				return strings.HasPrefix(r, "audit:")
			}) {
			t.Errorf("the detection does not name its events: %+v", in.Timeline[0])
		}
		in = incidentOf(t, e.post(admin, "PATCH", "/api/v1/incidents/"+id,
			map[string]any{"personal_data": true, "owner_id": e.WS.Admin.ID}, http.StatusOK))
		if in.NotifyBy == nil || !in.NotifyBy.Equal(in.DetectedAt.Add(72*time.Hour)) {
			t.Errorf("the GDPR clock: %v from %s", in.NotifyBy, in.DetectedAt)
		}
		wantError(t, e.do(admin, "POST", "/api/v1/incidents/"+id+"/contain", nil,
			map[string]any{}), http.StatusConflict, "wrong_step")
		e.post(admin, "POST", "/api/v1/incidents/"+id+"/detect",
			map[string]any{"note": "reported through the public form"}, http.StatusOK)

		// Contain: every other session ends, every key is rolled at once.
		admin = e.login(e.AdminEmail) // containment asks for a recent sign-in
		var contained incident.Contained
		e.post(admin, "POST", "/api/v1/incidents/"+id+"/contain", map[string]any{},
			http.StatusOK).JSON(t, &contained)
		if contained.SessionsEnded < 1 || len(contained.Keys) != 1 ||
			contained.Keys[0].OldID != keptID || !contained.AdminPathRotated {
			t.Fatalf("contained: %+v", contained)
		}
		e.adminPaths.Store(ws, contained.AdminPath)
		if signedIn(t, e, agent) {
			t.Error("the agent's session outlived containment")
		}
		wantError(t, e.withKey(kept, "GET", "/api/v1/conversations", nil),
			http.StatusUnauthorized, "invalid_api_key")
		if r := e.withKey(contained.Keys[0].Secret, "GET", "/api/v1/conversations",
			nil); r.Status != http.StatusOK {
			t.Errorf("the rolled key: %d %s", r.Status, r.Body)
		}
		if r := e.do(nil, "GET", "/"+e.WS.AdminPath+"/login", nil, nil); r.Status !=
			http.StatusNotFound {
			t.Errorf("the old admin path answers %d", r.Status)
		}

		// Isolate: the AI is paused, exports frozen.
		e.post(admin, "POST", "/api/v1/incidents/"+id+"/isolate",
			map[string]any{"pause_ai": true, "freeze_exports": true}, http.StatusOK)
		v := e.startChat(e.WS.Inbox.WidgetToken)
		if got := v.send("how long does shipping take?"); got != brain.ActionHandoff {
			t.Errorf("with the AI paused a shipping question was %s, want a handoff", got)
		}
		wantError(t, e.do(admin, "GET", "/api/v1/data-requests/any/export", nil, nil),
			http.StatusLocked, "exports_frozen")

		// Validate: an admin slipped in during the incident is found.
		intruder := "intruder@first.example"
		e.addUnenrolledAdmin(ws, intruder)
		var integrity incident.Integrity
		e.post(admin, "POST", "/api/v1/incidents/"+id+"/validate", nil,
			http.StatusOK).JSON(t, &integrity)
		checks := map[string]incident.Check{}
		for _, c := range integrity.Checks {
			checks[c.Name] = c
		}
		for name, want := range map[string]string{
			"members and roles against the baseline": incident.CheckFailed,
			"admins without 2FA":                     incident.CheckFailed,
			"audit chain":                            incident.CheckOK,
			"product binary":                         incident.CheckUnknown,
		} {
			c := checks[name]
			if c.Status != want {
				t.Errorf("check %q: %s (%s), want %s", name, c.Status, c.Detail, want)
			}
			if want == incident.CheckFailed && !strings.Contains(strings.Join(c.Items, " "),
				intruder) {
				t.Errorf("check %q does not name the intruder: %v", name, c.Items)
			}
		}
		if !strings.Contains(checks["product binary"].Detail, "no manifest") {
			t.Errorf("product binary: %s", checks["product binary"].Detail)
		}

		// Restore: the baseline removes the intruder.
		var diff struct {
			Differences []incident.Difference `json:"differences"`
		}
		e.post(admin, "GET", "/api/v1/security/baselines/latest/diff", nil,
			http.StatusOK).JSON(t, &diff)
		if !slices.ContainsFunc(diff.Differences, func(d incident.Difference) bool {
			return d.Area == "member" && d.Subject == intruder
		}) {
			t.Errorf("the diff misses the intruder: %+v", diff.Differences)
		}
		// A restore applies only differences an admin saw as they stand.
		wantError(t, e.do(admin, "POST", "/api/v1/incidents/"+id+"/restore", nil,
			map[string]any{}), http.StatusConflict, "confirm_differences")
		wantError(t, e.do(admin, "POST", "/api/v1/incidents/"+id+"/restore", nil,
			map[string]any{"confirm": "0000000000000000"}), http.StatusConflict,
			"confirm_differences")
		e.post(admin, "POST", "/api/v1/incidents/"+id+"/restore",
			map[string]any{"confirm": e.confirmOf(admin)}, http.StatusOK)
		members, err := e.App.Workspaces.Members(context.Background(), ws)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range members {
			if m.Email == intruder {
				t.Error("the restore left the intruder a member")
			}
		}

		// Document and export.
		in = incidentOf(t, e.post(admin, "POST", "/api/v1/incidents/"+id+"/document",
			map[string]any{"root_cause": "A key was committed to a public repository.",
				"impact": "None found.", "preventive": "A secret scanner in CI.",
				"follow_ups": []string{"Add the scanner", "Rotate quarterly"}}, http.StatusOK))
		if in.NextStep != "" || len(in.StepsDone) != 6 {
			t.Errorf("steps after documenting: %v", in.StepsDone)
		}
		md := string(e.post(admin, "GET", "/api/v1/incidents/"+id+"/postmortem", nil,
			http.StatusOK).Body)
		for _, want := range []string{"# Incident " + id, "## Root cause",
			"A secret scanner in CI.", "- [ ] Add the scanner", "GDPR article 33",
			"| contain |", "| restore |", "Restored member " + intruder} {
			if !strings.Contains(md, want) {
				t.Errorf("the postmortem lacks %q:\n%s", want, md)
			}
		}
		e.post(admin, "PATCH", "/api/v1/incidents/"+id, map[string]any{"closed": true},
			http.StatusOK)

		entries, err := e.App.Audit.List(context.Background(), audit.Filter{Workspace: ws})
		if err != nil {
			t.Fatal(err)
		}
		var steps []string
		seen := map[audit.Action]bool{}
		for _, en := range entries {
			seen[en.Action] = true
			if en.Action == audit.IncidentStepDone && en.TargetID == id {
				steps = append(steps, en.Diff)
			}
		}
		if len(steps) != 6 {
			t.Errorf("%d steps in the audit log, want 6: %v", len(steps), steps)
		}
		for _, a := range []audit.Action{audit.APIKeyLeaked, audit.IncidentOpened,
			audit.SessionRevoked, audit.APIKeyRolled, audit.AdminPathRotated,
			audit.LockdownChanged, audit.MemberRemoved, audit.IncidentExported,
			audit.IncidentUpdated, audit.BaselineSaved, audit.BaselineRestored} {
			if !seen[a] {
				t.Errorf("the audit log has no %s", a)
			}
		}
		var rep audit.Report
		e.post(admin, "POST", "/api/v1/audit/verify", nil, http.StatusOK).JSON(t, &rep)
		if !rep.OK {
			t.Errorf("audit verify: %+v", rep)
		}
	})
}

// TestIncidentInputIsChecked sends bad input to the incident routes: each
// answers a 4xx JSON error and changes nothing.
func TestIncidentInputIsChecked(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	admin := e.login(e.AdminEmail)
	for _, c := range []struct {
		method, path string
		body         any
		status       int
		code         string
	}{
		{"POST", "/api/v1/incidents", map[string]any{"title": "", "severity": 2}, 422,
			"invalid"},
		{"POST", "/api/v1/incidents", map[string]any{"title": "x", "severity": 7}, 422,
			"invalid"},
		{"POST", "/api/v1/incidents", map[string]any{"title": "x", "severity": 2,
			"owner_id": "us_nobody"}, 422, "invalid"},
		{"POST", "/api/v1/incidents", `{"title": 3}`, 400, "bad_request"},
		{"PUT", "/api/v1/security/lockdown", map[string]any{"ip_deny": []string{"nonsense"}},
			422, "invalid"},
		{"PUT", "/api/v1/security/lockdown", map[string]any{"ip_deny": []string{"127.0.0.0/8"}},
			422, "invalid"},
		{"PUT", "/api/v1/security/lockdown", map[string]any{"release_sha256": "abc"}, 422,
			"invalid"},
		{"GET", "/api/v1/incidents/in_nothing", nil, 404, "not_found"},
		{"GET", "/api/v1/security/baselines/latest/diff", nil, 404, "not_found"},
		{"GET", "/api/v1/checklists/export?format=pdf", nil, 400, "bad_request"},
	} {
		wantError(t, e.do(admin, c.method, c.path, nil, c.body), c.status, c.code)
	}
	if n := e.count("incidents"); n != 0 {
		t.Errorf("%d incidents after bad input", n)
	}
	if n := e.count("workspace_lockdown"); n != 0 {
		t.Errorf("%d lockdown rows after bad input", n)
	}
	in := incidentOf(t, e.post(admin, "POST", "/api/v1/incidents",
		map[string]any{"title": "Laptop stolen", "severity": 3}, http.StatusCreated))
	wantError(t, e.do(admin, "POST", "/api/v1/incidents/"+in.ID+"/detect", nil,
		map[string]any{"audit_seqs": []int64{999999}}), 422, "invalid")
	wantError(t, e.do(admin, "PATCH", "/api/v1/incidents/"+in.ID, nil,
		map[string]any{"closed": true}), 422, "invalid")
	wantError(t, e.do(admin, "POST", "/api/v1/incidents/"+in.ID+"/document", nil,
		map[string]any{"root_cause": "x"}), 422, "invalid")
	got := incidentOf(t, e.post(admin, "GET", "/api/v1/incidents/"+in.ID, nil, http.StatusOK))
	if len(got.StepsDone) != 0 || got.ClosedAt != nil {
		t.Errorf("bad input changed the incident: %+v", got)
	}
}

// TestRefusedRangesStopMembersAndKeys refuses the range the test's requests
// come from (as another admin elsewhere would): members and API keys are
// refused until it is lifted.
func TestRefusedRangesStopMembersAndKeys(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	ws := e.WS.Workspace.ID
	admin := e.login(e.AdminEmail)
	_, key := e.newKey(admin, "conversations:read")
	e.addMember(ws, "agent@first.example", access.Agent, e.WS.Inbox.ID)
	agent := e.login("agent@first.example")
	open := e.openStream(agent, "/api/v1/events", nil)
	ranges := []string{"127.0.0.0/8"}
	if _, err := e.App.Incidents.SetLockdown(context.Background(), ws, "192.0.2.1",
		incident.LockdownChange{IPDeny: &ranges}); err != nil {
		t.Fatal(err)
	}
	// A stream opened before the range was refused ends at its next check.
	e.advance(3 * time.Second)
	e.startChat(e.WS.Inbox.WidgetToken).send("where is my order?")
	deadline := time.After(5 * time.Second)
	for ended := false; !ended; {
		select {
		case _, ok := <-open.events:
			ended = !ok
		case <-deadline:
			t.Fatal("an open event stream outlived the refusal of its address")
		}
	}
	wantError(t, e.do(agent, "GET", "/api/v1/me", nil, nil), http.StatusForbidden,
		"address_refused")
	wantError(t, e.withKey(key, "GET", "/api/v1/conversations", nil), http.StatusForbidden,
		"address_refused")
	other := e.newWorkspace("Other", "admin@other.example")
	if r := e.do(e.session(other.Admin.ID, other.Workspace.ID), "GET", "/api/v1/me", nil,
		nil); r.Status != http.StatusOK {
		t.Errorf("another workspace's member was refused: %d", r.Status)
	}
	none := []string{}
	if _, err := e.App.Incidents.SetLockdown(context.Background(), ws, "192.0.2.1",
		incident.LockdownChange{IPDeny: &none}); err != nil {
		t.Fatal(err)
	}
	if r := e.do(agent, "GET", "/api/v1/me", nil, nil); r.Status != http.StatusOK {
		t.Errorf("after lifting the range: %d %s", r.Status, r.Body)
	}
}

// TestDetectorsOpenIncidents trips the other detectors: a session used from
// another network and browser, and an audit log that does not verify. A
// second firing while the incident is open joins it.
func TestDetectorsOpenIncidents(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	ws := e.WS.Workspace.ID
	agentID := e.addMember(ws, "agent@first.example", access.Agent, e.WS.Inbox.ID)
	ctx := context.Background()
	for range 2 {
		if err := e.App.Identity.EndUserSessions(ctx, agentID,
			"a session was used from another network and another browser"); err != nil {
			t.Fatal(err)
		}
	}
	list, err := e.App.Incidents.List(ctx, ws)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Detector != incident.DetectSuspicious {
		t.Fatalf("incidents: %+v", list)
	}
	in, err := e.App.Incidents.Get(ctx, ws, list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Timeline) != 2 || in.Timeline[1].Kind != "detected" {
		t.Errorf("the second firing did not join the incident: %+v", in.Timeline)
	}
	e.waitForMail(e.AdminEmail, "Security incident (SEV2)")
	if err := e.App.Identity.EndUserSessions(ctx, agentID, "a sign-in succeeded right "+
		"after failures from several addresses"); err != nil {
		t.Fatal(err)
	}
	list, _ = e.App.Incidents.List(ctx, ws)
	if len(list) != 2 || !slices.ContainsFunc(list, func(in incident.Incident) bool {
		return in.Detector == incident.DetectFailureBurst
	}) {
		t.Errorf("a burst of failed sign-ins: %+v", list)
	}

	admin := e.login(e.AdminEmail)
	for _, q := range []string{"DROP TRIGGER audit_log_no_update",
		"UPDATE audit_log SET actor_email = 'someone@else.example' WHERE seq = 2"} {
		if _, err := e.App.DB.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	var rep audit.Report
	e.post(admin, "POST", "/api/v1/audit/verify", nil, http.StatusOK).JSON(t, &rep)
	if rep.OK {
		t.Fatal("a changed entry verified")
	}
	list, _ = e.App.Incidents.List(ctx, ws)
	if !slices.ContainsFunc(list, func(in incident.Incident) bool {
		return in.Detector == incident.DetectAuditBroken && in.Severity == 1
	}) {
		t.Errorf("no incident for the broken audit chain: %+v", list)
	}
}

// TestMonthlyChecklist moves the clock to the first of a month: the
// checklist appears with its evidence, once however often the worker runs;
// an admin signs an item off, and two weeks on the unsigned items turn
// overdue and the admins are mailed.
func TestMonthlyChecklist(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ws := e.WS.Workspace.ID
		ctx := context.Background()
		admin := e.login(e.AdminEmail)
		e.newKeyWith(admin, map[string]any{"name": "CRM sync",
			"scopes": []string{"conversations:read"}, "expires_in_days": 365})

		// The first of the month at least 61 days on, 00:10 UTC: the key is
		// then due for rotation.
		now := e.now().UTC()
		first := time.Date(now.Year(), now.Month(), 1, 0, 10, 0, 0, time.UTC).AddDate(0, 3, 0)
		e.advance(first.Add(-2 * time.Hour).Sub(now))
		if err := e.App.Checklists.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		month := checklist.Month(first)
		if _, err := e.App.Checklists.Get(ctx, ws, month); err == nil {
			t.Fatalf("the checklist of %s exists before the month begins", month)
		}
		e.advance(2 * time.Hour)
		for range 3 {
			if err := e.App.Checklists.Tick(ctx); err != nil {
				t.Fatal(err)
			}
		}
		admin = e.login(e.AdminEmail)
		var got struct {
			Checklist checklist.Checklist `json:"checklist"`
		}
		e.post(admin, "GET", "/api/v1/checklists/"+month, nil, http.StatusOK).JSON(t, &got)
		c := got.Checklist
		if c.CreatedAt.Day() != 1 || c.CreatedAt.Month() != first.Month() {
			t.Errorf("generated at %s, want the first of %s", c.CreatedAt, month)
		}
		items := map[string]checklist.Item{}
		for _, it := range c.Items {
			items[it.Key] = it
		}
		for key, want := range map[string]string{
			"credentials": "CRM sync",
			"admins":      e.AdminEmail,
			"sign_ins":    "failed_sign_ins_by_account",
			"backup":      "verified",
			"drill":       "[]",
			"updates":     "website chat widget",
		} {
			if !strings.Contains(string(items[key].Evidence), want) {
				t.Errorf("item %s: evidence %s lacks %q", key, items[key].Evidence, want)
			}
		}
		if !strings.Contains(items["backup"].Summary, "no verified restore recorded") {
			t.Errorf("backup: %s", items["backup"].Summary)
		}
		var generated int
		entries, _ := e.App.Audit.List(ctx, audit.Filter{Workspace: ws,
			Action: string(audit.ChecklistGenerated)})
		for _, en := range entries {
			if en.TargetID == month {
				generated++
			}
		}
		if generated != 1 {
			t.Errorf("the checklist of %s was generated %d times", month, generated)
		}

		sign := "/api/v1/checklists/" + month + "/items/admins/sign"
		wantError(t, e.do(admin, "POST", sign, nil, map[string]string{"note": " "}), 422,
			"invalid")
		e.post(admin, "POST", sign, map[string]string{"note": "Two admins, both needed."},
			http.StatusOK)
		wantError(t, e.do(admin, "POST", sign, nil, map[string]string{"note": "again"}), 409,
			"already_signed")

		e.advance(checklist.SignWithin - time.Hour)
		if err := e.App.Checklists.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		if c, _ := e.App.Checklists.Get(ctx, ws, month); c.Items[0].Overdue {
			t.Error("an item turned overdue before its due date")
		}
		e.advance(2 * time.Hour)
		for range 2 {
			if err := e.App.Checklists.Tick(ctx); err != nil {
				t.Fatal(err)
			}
		}
		c, _ = e.App.Checklists.Get(ctx, ws, month)
		for _, it := range c.Items {
			if it.Overdue != (it.Key != "admins") {
				t.Errorf("item %s overdue %v", it.Key, it.Overdue)
			}
		}
		entries, _ = e.App.Audit.List(ctx, audit.Filter{Workspace: ws,
			Action: string(audit.ChecklistOverdue)})
		overdue := 0
		for _, en := range entries {
			if strings.HasPrefix(en.TargetID, month+"/") {
				overdue++
			}
		}
		if overdue != len(c.Items)-1 {
			t.Errorf("%d overdue entries for %d unsigned items", overdue, len(c.Items)-1)
		}
		e.waitForMail(e.AdminEmail, "overdue item")

		admin = e.login(e.AdminEmail)
		md := string(e.post(admin, "GET", "/api/v1/checklists/export?format=md", nil,
			http.StatusOK).Body)
		for _, want := range []string{"## " + month, "**overdue**",
			"signed by " + e.AdminEmail} {
			if !strings.Contains(md, want) {
				t.Errorf("the Markdown export lacks %q:\n%s", want, md)
			}
		}
		js := string(e.post(admin, "GET", "/api/v1/checklists/export", nil, http.StatusOK).Body)
		if !strings.Contains(js, `"month":"`+month+`"`) {
			t.Errorf("the JSON export: %s", js)
		}
	})
}

// TestBrowserAdminContainsAnIncident has an agent signed in in one browser
// while an admin, in another, opens an incident and runs the containment
// step from the console: the agent's next page sends them to sign in.
func TestBrowserAdminContainsAnIncident(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	agentEmail := "agent@first.example"
	e.addMember(e.WS.Workspace.ID, agentEmail, access.Agent, e.WS.Inbox.ID)
	b := startBrowser(t)
	agent := b.window(t)
	admin := b.window(t)
	b.do(t, agent, "sign in as the agent",
		chromedp.Navigate(e.URL+"/login"),
		chromedp.SendKeys(chromedp.CSS("input[name=email]"), agentEmail),
		chromedp.SendKeys(chromedp.CSS("input[name=password]"), Password),
		follow("form button[type=submit]"),
		chromedp.WaitVisible(chromedp.CSS("nav.top")))

	b.signInAdmin(t, e, admin)
	root := e.adminPath()
	b.do(t, admin, "open an incident",
		follow(`nav.top a[href="`+root+`/settings/incidents"]`),
		chromedp.SendKeys(chromedp.CSS(`form.entry input[name=title]`), "Phished agent"),
		follow(`form[action="`+root+`/settings/incidents"] button[type=submit]`),
		waitText("h2", "Next: detect"))
	b.do(t, admin, "attach the detection",
		follow(`#step-detect button[type=submit]`), waitText("h2", "Next: contain"))
	b.do(t, admin, "contain",
		follow(`#contain`), waitText("#contained", "sessions ended"),
		waitText("#timeline", "Every session of the workspace ended"))
	b.shot(t, admin, "console-incident-contained")

	b.do(t, agent, "reload the inbox, and land on the sign-in page",
		chromedp.Navigate(e.URL+"/inbox"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/login"]`)))
	b.checkNoErrors(t)
}

// TestIncidentClockFollowsTheEscalationContacts: a workspace that promises
// SEV1 answers within 30 minutes sees its incidents due 30 minutes after
// detection, not the default hour.
func TestIncidentClockFollowsTheEscalationContacts(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	admin := e.login(e.AdminEmail)
	open := func() time.Duration {
		var out struct {
			Incident struct {
				DetectedAt  time.Time `json:"detected_at"`
				ResponseDue time.Time `json:"response_due"`
			}
		}
		e.post(admin, "POST", "/api/v1/incidents", map[string]any{"title": "outage",
			"severity": 1}, http.StatusCreated).JSON(t, &out)
		return out.Incident.ResponseDue.Sub(out.Incident.DetectedAt)
	}
	if got := open(); got != time.Hour {
		t.Fatalf("default SEV1 clock %v, want 1h", got)
	}
	e.post(admin, "PUT", "/api/v1/trust/contacts", trustContacts("security@first.example"),
		http.StatusOK)
	if got := open(); got != 30*time.Minute {
		t.Fatalf("SEV1 clock %v after promising 30 minutes", got)
	}
}

// TestContainmentIsShownOnceAndRunsOnce: the credentials containment shows
// are never kept for an idempotent replay, a double submission rotates them
// once, isolation names only the workspace's own and never the admin, and
// lifting isolation asks for the password again like isolating does.
func TestContainmentIsShownOnceAndRunsOnce(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	ws := e.WS.Workspace.ID
	admin := e.login(e.AdminEmail)
	agentID := e.addMember(ws, "agent@first.example", access.Agent)
	in := incidentOf(t, e.post(admin, "POST", "/api/v1/incidents",
		map[string]any{"title": "Phished admin", "severity": 2}, http.StatusCreated))
	e.post(admin, "POST", "/api/v1/incidents/"+in.ID+"/detect", map[string]any{},
		http.StatusOK)

	rotated := func() int {
		es, err := e.App.Audit.List(context.Background(), audit.Filter{Workspace: ws,
			Action: string(audit.AdminPathRotated), Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return len(es)
	}
	before := rotated()
	results := make(chan int, 3)
	for range 3 {
		go func() {
			r := e.do(admin, "POST", "/api/v1/incidents/"+in.ID+"/contain",
				map[string]string{"Idempotency-Key": "contain-" + store.NewID("k")},
				map[string]any{"keep_api_keys": true})
			results <- r.Status
		}()
	}
	ok := 0
	for range 3 {
		if <-results == http.StatusOK {
			ok++
		}
	}
	if n := rotated() - before; ok != 1 || n != 1 {
		t.Fatalf("three submissions: %d succeeded, admin path rotated %d times", ok, n)
	}
	if n := e.count("idempotency_keys"); n != 0 {
		t.Fatalf("containment's answer, with its new secrets, was kept %d times", n)
	}

	// Containment kept the admin's own session.
	wantError(t, e.do(admin, "POST", "/api/v1/incidents/"+in.ID+"/isolate", nil,
		map[string]any{"user_ids": []string{e.WS.Admin.ID}}), 422, "invalid")
	wantError(t, e.do(admin, "POST", "/api/v1/incidents/"+in.ID+"/isolate", nil,
		map[string]any{"user_ids": []string{agentID, "us_elsewhere"}}), 404, "not_found")
	members, err := e.App.Workspaces.Members(context.Background(), ws)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if m.Disabled {
			t.Fatalf("a refused isolation disabled %s", m.Email)
		}
	}
	e.advance(11 * time.Minute)
	wantError(t, e.do(admin, "PUT", "/api/v1/security/lockdown", nil,
		map[string]any{"ai_paused": false}), 403, "step_up_required")
}

// TestAStepRunningOnAnotherNodeIsNotRunAgain: the claim on an incident's
// step is held in the database, so a node sharing it refuses the same step
// while another node runs it, and runs it once that one is done.
func TestAStepRunningOnAnotherNodeIsNotRunAgain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin := e.login(e.AdminEmail)
		in := incidentOf(t, e.post(admin, "POST", "/api/v1/incidents",
			map[string]any{"title": "Leaked key", "severity": 2}, http.StatusCreated))
		e.post(admin, "POST", "/api/v1/incidents/"+in.ID+"/detect", map[string]any{},
			http.StatusOK)
		ctx := context.Background()
		now := e.now()
		lease := "incident.step:" + in.ID
		ok, err := db.TakeLease(ctx, lease, "another-node", now, now.Add(time.Minute))
		if err != nil || !ok {
			t.Fatalf("the other node's lease: %v, %v", ok, err)
		}
		wantError(t, e.do(admin, "POST", "/api/v1/incidents/"+in.ID+"/contain", nil,
			map[string]any{"keep_api_keys": true}), http.StatusConflict, "wrong_step")
		if got := incidentOf(t, e.post(admin, "GET", "/api/v1/incidents/"+in.ID, nil,
			http.StatusOK)); slices.Contains(got.StepsDone, "contain") {
			t.Fatal("containment ran while another node held the step")
		}
		if err := db.ReleaseLease(ctx, lease, "another-node"); err != nil {
			t.Fatal(err)
		}
		e.post(admin, "POST", "/api/v1/incidents/"+in.ID+"/contain",
			map[string]any{"keep_api_keys": true}, http.StatusOK)
		if n := e.count("job_leases"); n != 0 {
			t.Fatalf("%d leases left behind by steps that ended", n)
		}
	})
}

// TestThePostmortemIsPlainText: what admins typed into an incident reads as
// itself in the exported Markdown, with no heading, link or HTML of its own.
func TestThePostmortemIsPlainText(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	admin := e.login(e.AdminEmail)
	in := incidentOf(t, e.post(admin, "POST", "/api/v1/incidents", map[string]any{
		"title": "<script>alert(1)</script> [x](javascript:alert(1))", "severity": 4,
		"drill": true}, http.StatusCreated))
	e.post(admin, "POST", "/api/v1/incidents/"+in.ID+"/detect", map[string]any{},
		http.StatusOK)
	for _, step := range []string{"contain", "isolate", "validate", "restore"} {
		body := map[string]any{"keep_api_keys": true, "keep_admin_path": true,
			"keep_webhook_secrets": true}
		if step != "contain" {
			body = map[string]any{}
		}
		if step == "restore" {
			e.post(admin, "POST", "/api/v1/security/baselines", map[string]any{
				"name": "now"}, http.StatusCreated)
			body = map[string]any{"confirm": e.confirmOf(admin)}
		}
		e.post(admin, "POST", "/api/v1/incidents/"+in.ID+"/"+step, body, http.StatusOK)
	}
	e.post(admin, "POST", "/api/v1/incidents/"+in.ID+"/document", map[string]any{
		"root_cause": "Fake\n===", "impact": "x\n---\n![i](https://evil.example/i.png)",
		"preventive": "# none", "follow_ups": []string{"<img src=x onerror=alert(1)>"}},
		http.StatusOK)
	md := string(e.post(admin, "GET", "/api/v1/incidents/"+in.ID+"/postmortem", nil,
		http.StatusOK).Body)
	for _, bad := range []string{"<script", "<img", "](javascript", "](https", "\n===",
		"\n---\n!", "\n# none"} {
		if strings.Contains(md, bad) {
			t.Errorf("the postmortem holds %q:\n%s", bad, md)
		}
	}
}
