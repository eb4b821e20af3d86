package web_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/compliance"
	"github.com/thunaivi/thunaivi/internal/compliance/rfc9116"
	"github.com/thunaivi/thunaivi/internal/config"
	"github.com/thunaivi/thunaivi/internal/datarequest"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

// trustContacts are contacts an admin saves in these tests.
func trustContacts(security string) map[string]any {
	return map[string]any{
		"security": map[string]string{"email": security, "phone": "+44 20 7946 0000",
			"url": "https://first.example/security"},
		"billing":  map[string]string{"email": "billing@first.example"},
		"incident": map[string]string{"email": "oncall@first.example"},
		"response_times": map[string]any{"sev1": map[string]any{"amount": 30,
			"unit": "minutes"}},
		"languages": []string{"en", "ta"},
	}
}

// publishedEnv starts a server whose first workspace's admin, signed in, has
// saved its contacts, which publishes its trust page.
func publishedEnv(t *testing.T, db *store.DB) (*env, string, *http.Client) {
	t.Helper()
	return publishedEnvWith(t, db, func(*config.Config) {})
}

// publishedEnvWith is publishedEnv with the server's settings adjusted.
func publishedEnvWith(t *testing.T, db *store.DB, adjust func(*config.Config)) (*env, string,
	*http.Client) {
	t.Helper()
	e := newEnvWith(t, db, adjust)
	admin := e.login(e.AdminEmail)
	e.post(admin, "PUT", "/api/v1/trust/contacts", trustContacts("security@first.example"),
		http.StatusOK)
	return e, e.WS.Workspace.ID, admin
}

func (e *env) get(path string) response {
	e.t.Helper()
	return e.do(nil, "GET", path, nil, nil)
}

// TestSecurityTxt checks that security.txt is published only once an admin
// saved the contacts, passes the RFC 9116 field check both at the host's
// well-known address and the workspace's own, and that a server of several
// workspaces publishes the one the operator names, or none.
func TestSecurityTxt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ws := e.WS.Workspace.ID
		admin := e.login(e.AdminEmail)
		for _, p := range []string{"/.well-known/security.txt", "/trust/" + ws,
			"/trust/" + ws + "/security.txt", "/trust/" + ws + "/documents/privacy"} {
			if r := e.get(p); r.Status != http.StatusNotFound {
				t.Errorf("%s before the contacts are saved: %d", p, r.Status)
			}
		}
		e.post(admin, "PUT", "/api/v1/trust/contacts", trustContacts("security@first.example"),
			http.StatusOK)

		// Served over HTTPS, as beyond a loopback trial it always is.
		base, client := e.serveAlso(func(*config.Config) {})
		for _, p := range []string{"/.well-known/security.txt", "/trust/" + ws + "/security.txt"} {
			r, err := client.Get(base + p)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(r.Body)
			r.Body.Close()
			if r.StatusCode != http.StatusOK ||
				!strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
				t.Fatalf("%s: %d %s", p, r.StatusCode, r.Header.Get("Content-Type"))
			}
			body := string(raw)
			if err := rfc9116.Check(body, base+p, e.now()); err != nil {
				t.Errorf("%s fails RFC 9116: %v\n%s", p, err, body)
			}
			for _, want := range []string{"Contact: mailto:security@first.example\n",
				"Contact: tel:+44-20-7946-0000\n", "Preferred-Languages: en, ta\n",
				"Policy: " + base + "/trust/" + ws + "/documents/security\n"} {
				if !strings.Contains(body, want) {
					t.Errorf("%s lacks %q:\n%s", p, want, body)
				}
			}
			// Served at the other address, its Canonical would not match.
			other := "/trust/" + ws + "/security.txt"
			if p == other {
				other = "/.well-known/security.txt"
			}
			if rfc9116.Check(body, base+other, e.now()) == nil {
				t.Errorf("%s passes as if served at %s", p, other)
			}
		}

		// A second workspace: the host no longer knows whose contacts to show.
		e.newWorkspace("Other", "admin@other.example")
		if r := e.get("/.well-known/security.txt"); r.Status != http.StatusNotFound {
			t.Errorf("a server of two workspaces, none named: %d", r.Status)
		}
		if r := e.get("/trust/" + ws + "/security.txt"); r.Status != http.StatusOK {
			t.Errorf("the workspace's own security.txt: %d", r.Status)
		}
	})
}

// serveAlso serves the env's app through a second handler built with other
// settings, over HTTPS, as another node of the same deployment would, and
// returns its address and a client that trusts its certificate.
func (e *env) serveAlso(adjust func(*config.Config)) (string, *http.Client) {
	e.t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	cfg := &config.Config{PublicURL: "https://" + srv.Listener.Addr().String(),
		DataDir: e.t.TempDir()}
	adjust(cfg)
	h, err := e.App.Handler(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	srv.Config.Handler = h
	srv.StartTLS()
	e.t.Cleanup(func() { h.CloseStreams(); srv.Close() })
	return cfg.PublicURL, srv.Client()
}

// TestSecurityTxtNamedWorkspace checks the operator's setting picks the
// workspace the host publishes, among several.
func TestSecurityTxtNamedWorkspace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		other := e.newWorkspace("Other", "admin@other.example")
		for id, domain := range map[string]string{e.WS.Workspace.ID: "first.example",
			other.Workspace.ID: "other.example"} {
			if _, err := e.App.Compliance.SetContacts(context.Background(), id,
				compliance.Contacts{Security: compliance.Contact{Email: "security@" + domain},
					Billing:  compliance.Contact{Email: "billing@other.example"},
					Incident: compliance.Contact{Email: "oncall@other.example"}},
				"admin@other.example"); err != nil {
				t.Fatal(err)
			}
		}
		base, client := e.serveAlso(func(c *config.Config) {
			c.SecurityTxtWorkspace = other.Workspace.ID
		})
		res, err := client.Get(base + "/.well-known/security.txt")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body),
			"mailto:security@other.example") {
			t.Fatalf("the named workspace: %d %s", res.StatusCode, body)
		}
		if err := rfc9116.Check(string(body), base+"/.well-known/security.txt",
			e.now()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestTrustPageFollowsSettings changes a retention period and a contact, and
// sees the trust page, the data-processing document's new draft and the
// privacy policy's published draft quote the new values, and a saved
// version flagged as quoting old settings.
func TestTrustPageFollowsSettings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, ws, admin := publishedEnv(t, db)
		page := string(e.get("/trust/" + ws).Body)
		for _, want := range []string{`data-class="conversations">730 days`,
			"security@first.example", "30 minutes", "1 business day",
			"only the conversations of the inboxes they belong to",
			"the conversations of every inbox", "thv_sk_", "Validate integrity",
			"Plain HTTP on this machine", "None: customers' data stays"} {
			if !strings.Contains(page, want) {
				t.Errorf("the trust page lacks %q", want)
			}
		}
		saved := e.post(admin, "POST", "/api/v1/trust/documents/data-processing/versions",
			map[string]string{"markdown": "# Our data processing\n"}, http.StatusCreated)
		if !strings.Contains(string(saved.Body), `"version":1`) {
			t.Fatalf("saved: %s", saved.Body)
		}
		var st struct {
			Draft string `json:"draft"`
			Stale bool   `json:"settings_changed"`
		}
		e.post(admin, "GET", "/api/v1/trust/documents/data-processing", nil,
			http.StatusOK).JSON(t, &st)
		if st.Stale {
			t.Fatal("stale right after saving")
		}

		e.post(admin, "PUT", "/api/v1/retention", map[string]int{"conversations": 90},
			http.StatusOK)
		e.post(admin, "PUT", "/api/v1/trust/contacts", trustContacts("trust@first.example"),
			http.StatusOK)
		e.post(admin, "PUT", "/api/v1/ai/llm", map[string]any{"enabled": true,
			"base_url": "http://127.0.0.1:9/v1", "model": "m", "api_key": "sk-trust-test-12345",
			"monthly_token_budget": 1000}, http.StatusOK)

		page = string(e.get("/trust/" + ws).Body)
		for _, want := range []string{`data-class="conversations">90 days`,
			"trust@first.example", "LLM provider: a service on the operator&#39;s own network"} {
			if !strings.Contains(page, want) {
				t.Errorf("after the change, the trust page lacks %q", want)
			}
		}
		for _, gone := range []string{`data-class="conversations">730 days`,
			"security@first.example", "127.0.0.1:9"} {
			if strings.Contains(page, gone) {
				t.Errorf("after the change, the trust page still shows %q", gone)
			}
		}
		e.post(admin, "GET", "/api/v1/trust/documents/data-processing", nil,
			http.StatusOK).JSON(t, &st)
		if !st.Stale || !strings.Contains(st.Draft, "| 90 days |") ||
			!strings.Contains(st.Draft, "trust@first.example") ||
			strings.Contains(st.Draft, "security@first.example") ||
			!strings.Contains(st.Draft, "LLM provider") {
			t.Errorf("the new draft (stale %v):\n%s", st.Stale, st.Draft)
		}
		privacy := string(e.get("/trust/" + ws + "/documents/privacy").Body)
		if !strings.Contains(privacy, "<td>90 days</td>") ||
			!strings.Contains(privacy, "trust@first.example") ||
			!strings.Contains(privacy, "Drafted from the workspace") {
			t.Errorf("the published privacy draft does not follow the settings:\n%s", privacy)
		}
		console := e.post(admin, "GET", e.adminPath()+"/settings/trust", nil, http.StatusOK)
		if !strings.Contains(string(console.Body), "The settings it quotes changed since") {
			t.Error("the console does not flag the document whose settings changed")
		}
	})
}

// TestComplianceDocuments saves versions, sees every one kept at its own
// address, the newest published, and nothing an admin writes runs in a
// reader's browser.
func TestComplianceDocuments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, ws, admin := publishedEnv(t, db)
		base := "/api/v1/trust/documents/terms/versions"
		attack := "# Terms v1\n\n<script>alert(1)</script>\n\n[x](javascript:alert(2))\n\n" +
			"<img src=x onerror=alert(3)>\n"
		e.post(admin, "POST", base, map[string]string{"markdown": attack}, http.StatusCreated)
		e.post(admin, "POST", base, map[string]string{"markdown": "# Terms v2\n"},
			http.StatusCreated)
		wantError(t, e.post(admin, "POST", base, map[string]string{"markdown": " "},
			http.StatusUnprocessableEntity), http.StatusUnprocessableEntity, "invalid")
		wantError(t, e.post(admin, "POST", "/api/v1/trust/documents/nope/versions",
			map[string]string{"markdown": "# x"}, http.StatusNotFound), http.StatusNotFound,
			"not_found")

		pub := "/trust/" + ws + "/documents/terms"
		cur := e.get(pub)
		if cur.Status != http.StatusOK || !strings.Contains(string(cur.Body), "Terms v2") ||
			!strings.Contains(cur.Header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Fatalf("current: %d %s", cur.Status, cur.Body)
		}
		v1 := e.get(pub + "/v/1")
		low := strings.ToLower(string(v1.Body))
		if v1.Status != http.StatusOK || !strings.Contains(low, "terms v1") {
			t.Fatalf("version 1: %d", v1.Status)
		}
		for _, bad := range []string{"<script>alert", "javascript:", "onerror"} {
			if strings.Contains(low, bad) {
				t.Errorf("version 1 serves %q", bad)
			}
		}
		for _, p := range []string{pub + "/v/3", pub + "/v/0", pub + "/v/x",
			"/trust/" + ws + "/documents/secrets", "/trust/nope/documents/terms",
			"/trust/" + e.newWorkspace("Other", "admin@other.example").Workspace.ID} {
			if r := e.get(p); r.Status != http.StatusNotFound {
				t.Errorf("%s: %d, want 404", p, r.Status)
			}
		}
		entries, err := e.App.Audit.List(context.Background(), audit.Filter{Workspace: ws,
			Action: string(audit.DocumentSaved)})
		if err != nil || len(entries) != 2 || entries[0].TargetID != "terms" {
			t.Fatalf("audit: %+v, %v", entries, err)
		}

		// Changing where security reports go asks for the password and code
		// again after ten minutes.
		e.advance(11 * time.Minute)
		wantError(t, e.post(admin, "PUT", "/api/v1/trust/contacts",
			trustContacts("x@first.example"), http.StatusForbidden), http.StatusForbidden,
			"step_up_required")

		// Only admins, and never an API key.
		e.addMember(ws, "manager@first.example", access.Manager)
		manager := e.login("manager@first.example")
		e.post(manager, "POST", base, map[string]string{"markdown": "# mine"},
			http.StatusForbidden)
		e.post(manager, "PUT", "/api/v1/trust/contacts", trustContacts("x@first.example"),
			http.StatusForbidden)
		if c, _, _ := e.App.Compliance.Contacts(context.Background(), ws); c.Security.Email !=
			"security@first.example" {
			t.Errorf("a manager changed the contacts to %s", c.Security.Email)
		}
	})
}

// TestServiceTermsAcceptance publishes the operator's terms, sees the
// console say they are not accepted, accepts them, and sees who and when;
// a new file is a new version, not accepted until an admin does.
func TestServiceTermsAcceptance(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		terms := filepath.Join(t.TempDir(), "terms.md")
		os.WriteFile(terms, []byte("# Service terms\n\nBe nice.\n"), 0o600)
		e := newEnvWith(t, db, func(c *config.Config) { c.ServiceTermsFile = terms })
		admin := e.login(e.AdminEmail)
		var got struct {
			Terms    *struct{ Version int }
			Accepted *struct {
				Email   string
				Version int
			}
		}
		e.post(admin, "GET", "/api/v1/trust/terms", nil, http.StatusOK).JSON(t, &got)
		if got.Terms == nil || got.Terms.Version != 1 || got.Accepted != nil {
			t.Fatalf("before: %+v", got)
		}
		page := string(e.post(admin, "GET", e.adminPath()+"/settings/trust", nil,
			http.StatusOK).Body)
		if !strings.Contains(page, "not accepted yet") || !strings.Contains(page, "Be nice.") {
			t.Fatal("the console does not say the terms await acceptance")
		}
		wantError(t, e.post(admin, "POST", "/api/v1/trust/terms/accept",
			map[string]int{"version": 2}, http.StatusConflict), http.StatusConflict, "conflict")
		e.post(admin, "POST", "/api/v1/trust/terms/accept", map[string]int{"version": 1},
			http.StatusCreated)
		e.post(admin, "GET", "/api/v1/trust/terms", nil, http.StatusOK).JSON(t, &got)
		if got.Accepted == nil || got.Accepted.Email != e.AdminEmail {
			t.Fatalf("after: %+v", got.Accepted)
		}
		page = string(e.post(admin, "GET", e.adminPath()+"/settings/trust", nil,
			http.StatusOK).Body)
		if !strings.Contains(page, "accepted</strong> by "+e.AdminEmail) {
			t.Fatal("the console does not show the acceptance")
		}
		entries, _ := e.App.Audit.List(context.Background(), audit.Filter{
			Workspace: e.WS.Workspace.ID, Action: string(audit.TermsAccepted)})
		if len(entries) != 1 || entries[0].ActorEmail != e.AdminEmail ||
			entries[0].TargetID != "1" {
			t.Fatalf("audit: %+v", entries)
		}

		// The operator changes the terms: a new version, not accepted yet.
		os.WriteFile(terms, []byte("# Service terms\n\nBe very nice.\n"), 0o600)
		e.serveAlso(func(c *config.Config) { c.ServiceTermsFile = terms })
		cur, err := e.App.Compliance.CurrentTerms(context.Background())
		if err != nil || cur.Version != 2 {
			t.Fatalf("the changed file: %+v, %v", cur, err)
		}
		e.post(admin, "GET", "/api/v1/trust/terms", nil, http.StatusOK).JSON(t, &got)
		if got.Terms.Version != 2 || got.Accepted != nil {
			t.Fatalf("the new version counts as accepted: %+v", got.Accepted)
		}
	})
}

// silentRelayEnv is publishedEnv on SQLite whose mail goes through a relay
// that takes connections and never greets, so that every mail waits. stop
// silences the relay for good, and the mail waiting fails; it runs at the
// test's end too, before the harness waits for the mail.
func silentRelayEnv(t *testing.T) (e *env, ws string, stop func()) {
	t.Helper()
	relay, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := relay.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	e, ws, _ = publishedEnvWith(t, storetest.OpenSQLite(t), func(c *config.Config) {
		c.MailURL = "smtp://" + relay.Addr().String()
	})
	var once sync.Once
	stop = func() {
		once.Do(func() {
			relay.Close()
			mu.Lock()
			defer mu.Unlock()
			for _, c := range conns {
				c.Close()
			}
		})
	}
	t.Cleanup(stop) // registered after the env's: runs before it drains
	return e, ws, stop
}

// TestTrustFormAnswersBeforeItMails: the trust page's form answers at once
// for a customer's address too, though its confirmation is mailed through a
// relay that takes its time: how long the answer takes must not say whether
// the workspace knows the address.
func TestTrustFormAnswersBeforeItMails(t *testing.T) {
	e, ws, _ := silentRelayEnv(t)
	e.chatAs(e.WS.Inbox.WidgetToken, "Rita Customer", "rita@example.com")
	for _, who := range []string{"rita@example.com", "nobody@example.com"} {
		start := time.Now()
		r := e.do(nil, "POST", "/trust/"+ws+"/data-requests", map[string]string{
			"Content-Type": "application/x-www-form-urlencoded", "Origin": e.URL},
			url.Values{"email": {who}, "kind": {"deletion"}}.Encode())
		if took := time.Since(start); r.Status != http.StatusOK || took > 3*time.Second {
			t.Fatalf("the form for %s answered %d after %v", who, r.Status, took)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		list, err := e.App.DataRequests.List(context.Background(), ws)
		if err == nil && len(list) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the customer's request was not filed: %v, %v", list, err)
		}
	}
}

// TestTrustDataRequest starts a deletion request from the trust page: the
// customer's address gets the confirmation link of the usual data-request
// flow, and an address the workspace does not know gets the same answer and
// no request.
func TestTrustDataRequest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, ws, _ := publishedEnv(t, db)
		v, contact := e.chatAs(e.WS.Inbox.WidgetToken, "Rita Customer", "rita@example.com")
		v.send("hello")
		form := func(email string, kinds ...string) response {
			vals := url.Values{"email": {email}, "kind": kinds}
			return e.do(nil, "POST", "/trust/"+ws+"/data-requests", map[string]string{
				"Content-Type": "application/x-www-form-urlencoded", "Origin": e.URL},
				vals.Encode())
		}
		noFollow := func(r response) {
			t.Helper()
			if r.Status != http.StatusOK || !strings.Contains(string(r.Body),
				"we have mailed it a link") {
				t.Fatalf("answer: %d", r.Status)
			}
		}
		noFollow(form("RITA@example.com", "deletion"))
		noFollow(form("nobody@example.com", "deletion"))
		e.Web.Drain() // the request is filed after the answer
		list, err := e.App.DataRequests.List(context.Background(), ws)
		if err != nil || len(list) != 1 || list[0].ContactID != contact ||
			list[0].Source != datarequest.FromEmail ||
			list[0].State != datarequest.AwaitingVerification {
			t.Fatalf("requests: %+v, %v", list, err)
		}
		e.mailedLink("rita@example.com", "/data-requests/"+list[0].ID)

		if r := form("not an address", "deletion"); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("a bad address: %d", r.Status)
		}
		for _, who := range []string{"rita@example.com", "nobody@example.com"} {
			if r := form(who, "everything"); r.Status != http.StatusUnprocessableEntity {
				t.Errorf("an unknown kind for %s: %d", who, r.Status)
			}
		}
		r := e.do(nil, "POST", "/trust/"+ws+"/data-requests", map[string]string{
			"Content-Type": "application/x-www-form-urlencoded",
			"Origin":       "https://evil.example", "Sec-Fetch-Site": "cross-site"},
			url.Values{"email": {"rita@example.com"}, "kind": {"deletion"}}.Encode())
		if r.Status != http.StatusForbidden {
			t.Errorf("a cross-site post: %d", r.Status)
		}
		e.Web.Drain()
		if list, _ := e.App.DataRequests.List(context.Background(), ws); len(list) != 1 {
			t.Errorf("%d requests after refused forms", len(list))
		}

		// Filing is throttled per address, as sign-ins are.
		limited := false
		for range 12 {
			if form("nobody@example.com", "deletion").Status == http.StatusTooManyRequests {
				limited = true
				break
			}
		}
		if !limited {
			t.Error("the form is not rate limited")
		}
	})
}

// TestTrustFormPassesAnOpenDecoy: someone who typed a customer's address
// into the chat, and keeps a request of their own open on that contact,
// does not stop the customer's request from the trust page: it is filed for
// the address's oldest contact with none open.
func TestTrustFormPassesAnOpenDecoy(t *testing.T) {
	e, ws, _ := publishedEnv(t, storetest.OpenSQLite(t))
	// The decoy came first: its contact is the address's oldest.
	decoy, _ := e.chatAs(e.WS.Inbox.WidgetToken, "Rita", "rita@example.com")
	e.advance(time.Minute)
	_, customer := e.chatAs(e.WS.Inbox.WidgetToken, "Rita", "rita@example.com")
	e.do(nil, "POST", "/widget/v1/conversations/"+decoy.ConversationID+"/data-requests",
		decoy.headers(), map[string]any{"kinds": []string{"access"}})
	e.do(nil, "POST", "/trust/"+ws+"/data-requests", map[string]string{
		"Content-Type": "application/x-www-form-urlencoded", "Origin": e.URL},
		url.Values{"email": {"rita@example.com"}, "kind": {"deletion"}}.Encode())
	e.Web.Drain()
	list, err := e.App.DataRequests.List(context.Background(), ws)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range list {
		if r.Source == datarequest.FromEmail && r.ContactID == customer {
			e.mailedLink("rita@example.com", "/data-requests/"+r.ID)
			return
		}
	}
	t.Fatalf("no request filed for the customer's contact: %+v", list)
}
