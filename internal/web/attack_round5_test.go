package web_test

// Attack round 5: the widget's optional email field, the requester's status
// page, the probe list without /console, the legal-hold lock, the trust
// page filing for an address's oldest contact, work after answers, and the
// restore CLI's errors. Each case that finds a flaw fails and says what is
// wrong; the cases the product withstands pass, so that the whole file can
// be re-run after a fix.
//
// Failing when written (flaws found), on SQLite and PostgreSQL:
// TestAttackR5TrustFormMailsATypedAddressWithoutEnd (anyone may have the
// business mail any address as often as they like: type it in the widget,
// then into the trust page's form), TestAttackR5StrangerBlocksOwnersRequest
// (a stranger's unconfirmed requests on each of the owner's contacts make
// the owner's own request from the trust page file nothing and mail
// nothing), TestAttackR5OutcomeMailedToATypedAddress (an approved widget
// request mails its outcome to whatever address the visitor typed),
// TestAttackR5HoldApprovalsPurgeAtOnce (a hold is placed, 201, on a
// conversation an approval deleted meanwhile: its target is looked up
// before the holds lock), TestAttackR5AddressInjection (a quoted local part
// is stored without its quotes, no longer one address), and
// TestAttackR5RestoreErrorsKeepSecrets (a PostgreSQL URL's sslpassword is
// printed as it is by Describe and the settings log). Run them with
// go test ./internal/web/ -run TestAttackR5 -count=1
// All six pass since their fixes: the trust page files one request an
// address, replacing one still waiting for its link, at most three a day;
// the outcome is mailed only to an address proved by the link; a hold checks
// its target in its own transaction under the lock; addresses are one plain
// printable address; and URLs hide every password parameter.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/app"
	"github.com/thunaivi/thunaivi/internal/config"
	"github.com/thunaivi/thunaivi/internal/datarequest"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

// r5Mails returns the mails in the outbox to the address whose subject
// holds subject.
func (e *env) r5Mails(to, subject string) []*mail.Message {
	e.t.Helper()
	var out []*mail.Message
	files, _ := filepath.Glob(filepath.Join(e.outbox, "*.eml"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		m, err := mail.ReadMessage(bytes.NewReader(b))
		if err != nil {
			e.t.Errorf("%s: %v", f, err)
			continue
		}
		if strings.EqualFold(m.Header.Get("To"), to) &&
			strings.Contains(m.Header.Get("Subject"), subject) {
			out = append(out, m)
		}
	}
	return out
}

// r5WidgetRequest files a request from a widget chat and returns its id and
// the token of its status link.
func (e *env) r5WidgetRequest(v *visitor, kinds ...string) (string, string) {
	e.t.Helper()
	res := e.do(nil, "POST", "/widget/v1/conversations/"+v.ConversationID+"/data-requests",
		v.headers(), map[string]any{"kinds": kinds})
	if res.Status != http.StatusCreated {
		e.t.Fatalf("widget request: %d %s", res.Status, res.Body)
	}
	var out struct {
		ID        string `json:"id"`
		StatusURL string `json:"status_url"`
	}
	res.JSON(e.t, &out)
	u, err := url.Parse(out.StatusURL)
	if err != nil {
		e.t.Fatal(err)
	}
	return out.ID, u.Query().Get("token")
}

// TestAttackR5TrustFormMailsATypedAddressWithoutEnd: a stranger opens
// widget chats giving a victim's address (the new email field; no message
// needed), then sends the trust page's form for that address once a chat.
// Each form files for the next contact with no request open and mails the
// victim a confirmation "from" the business: the number of mails grows with
// the chats, without end; across addresses, the form's throttle per address
// does not bound it either. FAILS when written.
func TestAttackR5TrustFormMailsATypedAddressWithoutEnd(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, ws, _ := publishedEnv(t, db)
		const victim = "victim@example.org"
		const chats = 12
		for range chats {
			v, _ := e.chatAsMaybe(e.WS.Inbox.WidgetToken, "", victim)
			if v == nil {
				t.Fatal("the widget refused the address")
			}
		}
		for range chats {
			e.r4Form(ws, victim, "access")
		}
		got := len(e.r5Mails(victim, "Confirm your request"))
		t.Logf("%d widget chats and %d forms: %d confirmation mails to %s", chats, chats,
			got, victim)
		if got > 3 {
			t.Errorf("a stranger had the business mail %s %d confirmations within %d "+
				"minutes, without the owner ever asking: the widget takes any address "+
				"unchecked, and the trust page files (and mails) once for every contact "+
				"with that address that has no request open; nothing bounds the mails "+
				"to one address", victim, got, chats)
		}
	})
}

// TestAttackR5StrangerBlocksOwnersRequest: the owner of an address has two
// chats (two contacts). A stranger sends the trust page's form for the
// address twice, asking for a copy: each files an unconfirmed request for
// one of the owner's contacts. When the owner then asks for deletion, every
// contact has a request open, so nothing is filed and nothing is mailed,
// though the page says the request was received. FAILS when written.
func TestAttackR5StrangerBlocksOwnersRequest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, ws, _ := publishedEnv(t, db)
		const owner = "olga@example.com"
		for _, text := range []string{"OLGA-FIRST-CHAT", "OLGA-SECOND-CHAT"} {
			v, _ := e.chatAs(e.WS.Inbox.WidgetToken, "Olga", owner)
			v.send(text)
			e.advance(time.Second)
		}
		// The stranger: no widget, only the public form, twice.
		e.r4Form(ws, owner, "access")
		e.r4Form(ws, owner, "access")
		before := len(e.r5Mails(owner, "Confirm your request"))

		// The owner asks for deletion.
		e.r4Form(ws, owner, "deletion")
		list, _ := e.App.DataRequests.List(context.Background(), ws)
		var deletion *datarequest.Request
		for _, r := range list {
			for _, k := range r.Kinds {
				if k == datarequest.Deletion {
					deletion = &r
				}
			}
		}
		after := len(e.r5Mails(owner, "Confirm your request"))
		if deletion == nil || after == before {
			t.Errorf("after a stranger's two unconfirmed requests for a copy, the owner's "+
				"request for deletion filed %v and mailed %d confirmations: every "+
				"contact of the address has a request open, so the trust page drops the "+
				"owner's request silently (one open request a contact lets anyone who "+
				"knows an address block its owner)", deletion != nil, after-before)
		}
	})
}

// TestAttackR5TypedAddressAloneMailsNothing: a visitor who types an address
// into the widget and writes makes no mail to it; nor does a request the
// visitor files from the chat, until a member acts on it.
func TestAttackR5TypedAddressAloneMailsNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		const victim = "quiet@example.org"
		v, _ := e.chatAs(e.WS.Inbox.WidgetToken, "Not Quiet", victim)
		v.send("hello, please write back")
		e.r5WidgetRequest(v, "access", "deletion")
		e.Web.Drain()
		if n := len(e.r5Mails(victim, "")); n != 0 {
			t.Errorf("%d mails went to an address a visitor typed, before anyone acted", n)
		}
	})
}

// TestAttackR5OutcomeMailedToATypedAddress: a visitor types someone else's
// address into the widget and asks from the chat for a copy and deletion
// (a widget request is taken as the visitor's own, with no mail to
// confirm). When a manager approves it, the business mails "Your data
// request is done", with what was deleted, to the typed address, whose
// owner asked for nothing. FAILS when written (low: one mail a request a
// member approves).
func TestAttackR5OutcomeMailedToATypedAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.addMember(e.WS.Workspace.ID, "manager@first.example", access.Manager)
		manager := e.login("manager@first.example")
		const victim = "bystander@example.org"
		v, _ := e.chatAs(e.WS.Inbox.WidgetToken, "Prank", victim)
		v.send("delete everything")
		id, _ := e.r5WidgetRequest(v, "access", "deletion")
		e.post(manager, "POST", "/api/v1/data-requests/"+id+"/approve", nil, http.StatusOK)
		if n := len(e.r5Mails(victim, "Your data request is done")); n != 0 {
			t.Errorf("an approved widget request mailed its outcome %d time(s) to %s, an "+
				"address the visitor typed and nobody confirmed: only a request "+
				"confirmed by the mailed link proves the address is the requester's",
				n, victim)
		}
	})
}

// TestAttackR5AddressInjection gives the widget's email field addresses that
// try to add recipients or headers, or carry markup; each is refused or
// stored as one bare address, an agent's request for the contact mails that
// one address only, and the console and the export show the markup as text.
func TestAttackR5AddressInjection(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ws := e.WS.Workspace.ID
		e.addMember(ws, "agent@first.example", access.Agent, e.WS.Inbox.ID)
		agent := e.login("agent@first.example")
		for _, addr := range []string{
			"eve@evil.example\r\nBcc: bob@evil.example", "eve@evil.example\nSubject: x",
			"eve@evil.example, bob@evil.example", "Eve <eve@evil.example>",
			"eve@evil.example (bob@evil.example)", "<eve@evil.example>",
			"\"<script>alert(1)</script>\"@evil.example", "\"a\r\nb\"@evil.example",
			"\"eve@evil.example>,<bob\"@evil.example", "eve@[127.0.0.1]",
			strings.Repeat("a", 250) + "@evil.example", "eve@evil.example\x00",
			"\u202eeve@evil.example", "eve@évil.example",
		} {
			v, contact := e.chatAsMaybe(e.WS.Inbox.WidgetToken, "Eve", addr)
			if v == nil {
				continue
			}
			v.send("hi")
			stored, _ := e.App.DataRequests.Email(context.Background(), ws, contact)
			if strings.ContainsAny(stored, "\r\n\x00") {
				t.Errorf("%q stored as %q", addr, stored)
			}
			// What is stored is handed on as the contact's address (API,
			// webhooks, exports): it must still be one address, the one given.
			if a, err := mail.ParseAddress(stored); err != nil || a.Address != stored {
				t.Errorf("the widget took %q and stored %q, which is no longer one "+
					"address: the quoted local part lost its quotes (%v)", addr, stored, err)
			}
			r := e.do(agent, "POST", "/api/v1/data-requests", nil, map[string]any{
				"contact_id": contact, "kinds": []string{"access"}, "source": "email"})
			t.Logf("%q: stored %q, agent's request %d", addr, stored, r.Status)
			page := e.do(agent, "GET", "/conversations/"+v.ConversationID, nil, nil)
			if bytes.Contains(page.Body, []byte("<script>alert(1)")) {
				t.Errorf("the console shows the address %q as markup", stored)
			}
		}
		files, _ := filepath.Glob(filepath.Join(e.outbox, "*.eml"))
		for _, f := range files {
			b, _ := os.ReadFile(f)
			m, err := mail.ReadMessage(bytes.NewReader(b))
			if err != nil {
				t.Errorf("%s: %v", f, err)
				continue
			}
			list, err := m.Header.AddressList("To")
			if err != nil || len(list) != 1 || m.Header.Get("Bcc") != "" ||
				m.Header.Get("Cc") != "" || m.Header.Get("Subject") == "x" {
				t.Errorf("a mail to %q (bcc %q, cc %q, subject %q)", m.Header.Get("To"),
					m.Header.Get("Bcc"), m.Header.Get("Cc"), m.Header.Get("Subject"))
			}
		}
	})
}

// TestAttackR5RequesterPage follows requests on the requester's page: its
// headers keep the token out of caches and referrers; an approver's note
// with markup is shown as text; states read in words; a copy past its time
// has no download link, and the link refuses it.
func TestAttackR5RequesterPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ws := e.WS.Workspace.ID
		e.addMember(ws, "manager@first.example", access.Manager)
		manager := e.login("manager@first.example")
		page := func(id, token string) response {
			e.advance(time.Minute) // the page shares the sign-in throttle
			return e.do(nil, "GET", "/data-requests/"+id+"?"+url.Values{"ws": {ws},
				"token": {token}}.Encode(), nil, nil)
		}
		check := func(what string, r response) {
			t.Helper()
			if r.Status != http.StatusOK {
				t.Fatalf("%s: %d %s", what, r.Status, r.Body)
			}
			for h, want := range map[string]string{"Cache-Control": "no-store",
				"Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
				if got := r.Header.Get(h); got != want {
					t.Errorf("%s: %s is %q, want %q", what, h, got, want)
				}
			}
			csp := r.Header.Get("Content-Security-Policy")
			if csp == "" || strings.Contains(csp, "unsafe-inline") && strings.Contains(csp,
				"script-src") {
				t.Errorf("%s: CSP %q", what, csp)
			}
		}

		// Refused, with a note of markup.
		v, _ := e.chatAs(e.WS.Inbox.WidgetToken, "Nora", "nora@example.com")
		v.send("hello")
		id, token := e.r5WidgetRequest(v, "access")
		const note = `<script>alert(1)</script><img src=x onerror=alert(2)>` +
			`"><a href="javascript:alert(3)">x</a>{{.Token}}`
		e.post(manager, "POST", "/api/v1/data-requests/"+id+"/reject",
			map[string]string{"note": note}, http.StatusNoContent)
		r := page(id, token)
		check("refused", r)
		body := string(r.Body)
		for _, raw := range []string{"<script>alert", "<img src=x", "href=\"javascript:"} {
			if strings.Contains(body, raw) {
				t.Errorf("the approver's note reaches the page as markup: %q", raw)
			}
		}
		if !strings.Contains(body, ">refused<") {
			t.Errorf("a refused request does not say so in words")
		}
		if strings.Contains(body, "we complete it by") {
			t.Error("a decided request still gives a due date")
		}

		// Done, with a copy, and past its time.
		v2, _ := e.chatAs(e.WS.Inbox.WidgetToken, "Nora", "nora2@example.com")
		v2.send("hello again")
		id2, token2 := e.r5WidgetRequest(v2, "access")
		e.post(manager, "POST", "/api/v1/data-requests/"+id2+"/approve", nil, http.StatusOK)
		r = page(id2, token2)
		check("done", r)
		if !strings.Contains(string(r.Body), "Download your data") {
			t.Error("a done request with its copy kept has no download link")
		}
		// Links on the page carry the token in their query: none may leave
		// for another site.
		for _, m := range regexp.MustCompile(`(?:href|src|action)="([^"]+)"`).
			FindAllStringSubmatch(string(r.Body), -1) {
			if u, err := url.Parse(m[1]); err == nil && u.Host != "" &&
				"http://"+u.Host != e.URL {
				t.Errorf("the requester's page links to %s", m[1])
			}
		}
		e.advance(datarequest.ExportFor + time.Minute)
		r = page(id2, token2)
		check("expired", r)
		if strings.Contains(string(r.Body), "Download your data") {
			t.Error("a copy past its time still has a download link")
		}
		e.advance(time.Minute)
		if res := e.do(nil, "GET", "/data-requests/"+id2+"/export?"+url.Values{
			"ws": {ws}, "token": {token2}}.Encode(), nil, nil); res.Status == http.StatusOK {
			t.Error("a copy past its time is still handed out")
		}
		// A wrong token, and the right token with another workspace.
		if r := page(id2, token2+"x"); r.Status != http.StatusNotFound ||
			strings.Contains(string(r.Body), id2+"/export") {
			t.Errorf("a wrong token: %d", r.Status)
		}
		other := e.newWorkspace("Other", "admin@other.example")
		e.advance(time.Minute)
		if r := e.do(nil, "GET", "/data-requests/"+id2+"?"+url.Values{
			"ws": {other.Workspace.ID}, "token": {token2}}.Encode(), nil, nil); r.Status !=
			http.StatusNotFound {
			t.Errorf("the token with another workspace: %d", r.Status)
		}
	})
}

// TestAttackR5ProductPathsAreNotProbes: with probes ending sessions, a
// signed-in member asks for every path the server routes (with its
// placeholders filled in), and the words the README uses for its pages: no
// such request ends the member's session.
func TestAttackR5ProductPathsAreNotProbes(t *testing.T) {
	e := newEnvWith(t, storetest.OpenSQLite(t), func(c *config.Config) {
		c.RevokeOnProbe = true
	})
	e.addMember(e.WS.Workspace.ID, "agent@first.example", access.Agent, e.WS.Inbox.ID)
	agent := e.login("agent@first.example")
	placeholder := regexp.MustCompile(`\{[^}]*\}`)
	paths := []string{"/console", "/console/", "/Console", "/metrics", "/restore",
		"/backup-codes", "/settings/backup", "/admin-path", "/confirm", "/quality", "/kpis",
		"/api/v1/openapi.json", "/.well-known/security.txt", "/manager", "/config",
		"/server", "/status", "/actuator-like", "/settings/security"}
	for _, r := range e.Web.Routes() {
		if r.Admin {
			continue
		}
		_, p, _ := strings.Cut(r.Pattern, " ")
		paths = append(paths, placeholder.ReplaceAllString(p, "x1"))
	}
	for _, p := range paths {
		e.do(bounded(agent), "GET", p, nil, nil)
		if r := e.do(agent, "GET", "/api/v1/conversations", nil, nil); r.Status !=
			http.StatusOK {
			t.Fatalf("after asking for %s, the member's session ends (%d): the product's "+
				"own path is taken for a scanner's probe", p, r.Status)
		}
	}
	// A real probe still ends it, so that the check above means something.
	e.do(agent, "GET", "/.env", nil, nil)
	if r := e.do(agent, "GET", "/api/v1/conversations", nil, nil); r.Status ==
		http.StatusOK {
		t.Error("a probe no longer ends the session: the check above proves nothing")
	}
}

// TestAttackR5HoldApprovalsPurgeAtOnce runs, several times at once, two
// approved deletions of an address's contacts, a legal hold on one of their
// conversations and a console purge: on PostgreSQL all take the holds lock.
// None may deadlock or wait long (holds); and a hold placed is never on
// deleted data: a live hold's conversation keeps its messages. FAILS when
// written: the hold's target is looked up before the lock is taken.
func TestAttackR5HoldApprovalsPurgeAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ws := e.WS.Workspace.ID
		e.addMember(ws, "manager@first.example", access.Manager)
		manager := e.login("manager@first.example")
		admin := e.login(e.AdminEmail)
		for round := range 4 {
			a, _ := e.chatAs(e.WS.Inbox.WidgetToken, "Ann", fmt.Sprintf("ann%d@example.com",
				round))
			a.send(fmt.Sprintf("ANN-%d-TEXT", round))
			b, _ := e.chatAs(e.WS.Inbox.WidgetToken, "Ben", fmt.Sprintf("ben%d@example.com",
				round))
			b.send(fmt.Sprintf("BEN-%d-TEXT", round))
			ida, _ := e.r5WidgetRequest(a, "deletion")
			idb, _ := e.r5WidgetRequest(b, "access", "deletion")
			var wg sync.WaitGroup
			took := make([]time.Duration, 4)
			status := make([]int, 4)
			run := func(i int, f func() response) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s := time.Now()
					status[i] = f().Status
					took[i] = time.Since(s)
				}()
			}
			c := &http.Client{Jar: admin.Jar, Timeout: 20 * time.Second,
				CheckRedirect: admin.CheckRedirect}
			m := &http.Client{Jar: manager.Jar, Timeout: 20 * time.Second,
				CheckRedirect: manager.CheckRedirect}
			run(0, func() response {
				return e.do(m, "POST", "/api/v1/data-requests/"+ida+"/approve", nil, nil)
			})
			run(1, func() response {
				return e.do(c, "POST", "/api/v1/legal-holds", nil, map[string]string{
					"target_type": "conversation", "target_id": a.ConversationID,
					"reason": "dispute"})
			})
			run(2, func() response {
				return e.do(m, "POST", "/api/v1/data-requests/"+idb+"/approve", nil, nil)
			})
			run(3, func() response {
				return e.do(c, "POST", "/api/v1/retention/purge", nil, nil)
			})
			wg.Wait()
			t.Logf("round %d: approve A %d (%v), hold %d (%v), approve B %d (%v), purge "+
				"%d (%v)", round, status[0], took[0], status[1], took[1], status[2],
				took[2], status[3], took[3])
			for i, d := range took {
				if d > 10*time.Second {
					t.Errorf("round %d: call %d took %v: a lock waits too long or deadlocks",
						round, i, d)
				}
			}
			held := status[1] == http.StatusCreated
			kept := findText(t, db, fmt.Sprintf("ANN-%d-TEXT", round), "messages") != ""
			var convs int
			db.QueryRowContext(context.Background(), db.Rebind("SELECT COUNT(*) FROM "+
				"conversations WHERE id = ?"), a.ConversationID).Scan(&convs)
			if held && !kept {
				t.Errorf("round %d: the hold answered 201 (placed) but the approval (%d) "+
					"deleted the conversation (rows left: %d): PlaceHold checks that its "+
					"target exists before it takes the holds lock, so a live hold now "+
					"stands on data that is gone, and its placer is told it is kept",
					round, status[0], convs)
			}
			if !held && status[0] == http.StatusOK && kept {
				t.Errorf("round %d: the approval succeeded but the text is kept", round)
			}
		}
	})
}

// TestAttackR5LaterFloodDrains floods the trust page's form for customers'
// addresses while the mail relay takes connections and never answers: the
// answers come at once; once the relay goes away, Drain finishes, and no
// goroutine is left behind.
func TestAttackR5LaterFloodDrains(t *testing.T) {
	e, ws, silence := silentRelayEnv(t)
	const customers = 40
	for i := range customers {
		e.chatAs(e.WS.Inbox.WidgetToken, "C", fmt.Sprintf("c%02d@example.com", i))
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	base := runtime.NumGoroutine()
	var slowest time.Duration
	for i := range customers * 3 {
		if i%9 == 0 {
			e.advance(time.Minute)
		}
		s := time.Now()
		r := e.do(noFollow, "POST", "/trust/"+ws+"/data-requests", map[string]string{
			"Content-Type": "application/x-www-form-urlencoded", "Origin": e.URL},
			url.Values{"email": {fmt.Sprintf("c%02d@example.com", i%customers)},
				"kind": {"access"}}.Encode())
		if d := time.Since(s); d > slowest {
			slowest = d
		}
		if r.Status != http.StatusSeeOther {
			t.Fatalf("form %d: %d %s", i, r.Status, r.Body)
		}
	}
	if slowest > time.Second {
		t.Errorf("with the relay silent, a form answered after %v", slowest)
	}
	silence()
	done := make(chan struct{})
	go func() { e.Web.Drain(); close(done) }()
	select {
	case <-done:
	case <-time.After(40 * time.Second):
		t.Fatal("Drain did not finish within 40s of the relay going away")
	}
	time.Sleep(200 * time.Millisecond)
	if n := runtime.NumGoroutine(); n > base+8 {
		t.Errorf("%d goroutines after Drain, %d before the flood", n, base)
	}
}

// TestAttackR5RestoreErrorsKeepSecrets runs restore --verify and restore
// with keys and database URLs that are wrong in ways an operator gets
// wrong: no error or report may hold the audit key, a keyring's key, or a
// password in the database URL.
func TestAttackR5RestoreErrorsKeepSecrets(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := &config.Config{DataDir: filepath.Join(dir, "data"), LogLevel: "error",
		Addr: "127.0.0.1:0", PublicURL: "http://127.0.0.1:9", AuditCheckpoints: "file"}
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("a long admin password\n"), 0o600)
	if _, err := app.Setup(ctx, cfg, "Shop", "a@shop.example", pw); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "b.thvbak")
	if _, err := app.Backup(ctx, cfg, file); err != nil {
		t.Fatal(err)
	}
	keyring, _ := os.ReadFile(app.MasterKeyFile(cfg))
	var secrets []string
	for _, line := range strings.Split(string(keyring), "\n") {
		if _, k, ok := strings.Cut(strings.TrimSpace(line), " "); ok && len(k) > 20 {
			secrets = append(secrets, k)
		}
	}
	const auditKey = "AUDIT-KEY-SECRET-0123456789abcdefghijkl"
	const dbPass, sslPass = "DBPASS-S3CRET", "SSLPASS-S3CRET"
	secrets = append(secrets, auditKey, dbPass, sslPass)

	type attempt struct {
		name    string
		adjust  func(c *config.Config)
		restore bool
	}
	bad := filepath.Join(dir, "bad.keys")
	os.WriteFile(bad, []byte("k1 "+strings.TrimSpace(secrets[0])+"garbage\n"), 0o600)
	attempts := []attempt{
		{"a wrong audit key", func(c *config.Config) { c.AuditKey = auditKey }, false},
		{"a damaged keyring", func(c *config.Config) { c.MasterKeyFile = bad }, false},
		{"a database URL with a password", func(c *config.Config) {
			c.DatabaseURL = "postgres://u:" + dbPass + "@127.0.0.1:1/db?sslmode=disable"
		}, false},
		{"a database URL with an sslpassword", func(c *config.Config) {
			c.DatabaseURL = "postgres://u@127.0.0.1:1/db?sslmode=disable&sslpassword=" +
				sslPass
		}, true},
		{"a database URL with an sslpassword, verify", func(c *config.Config) {
			c.DatabaseURL = "postgres://u@127.0.0.1:1/db?sslmode=disable&sslpassword=" +
				sslPass
		}, false},
	}
	for _, a := range attempts {
		c := *cfg
		a.adjust(&c)
		var out bytes.Buffer
		var err error
		if a.restore {
			c.DataDir = filepath.Join(dir, "restored-"+strings.ReplaceAll(a.name, " ", "-"))
			err = app.Restore(ctx, &c, file, &out)
		} else {
			err = app.RestoreVerify(ctx, &c, file, false, &out)
		}
		text := out.String()
		if err != nil {
			text += "\nerror: " + err.Error()
		}
		t.Logf("%s: %s", a.name, text)
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s: the CLI's output holds the secret %q:\n%s", a.name, s, text)
			}
		}
	}
	// The settings log and Describe, as serve and restore print them.
	c := *cfg
	c.DatabaseURL = "postgres://u:" + dbPass + "@127.0.0.1:1/db?sslmode=disable&sslpassword=" +
		sslPass
	for _, s := range []string{app.Describe(&c), fmt.Sprint(c.Redacted())} {
		if strings.Contains(s, dbPass) || strings.Contains(s, sslPass) {
			t.Errorf("a printed description of the store holds a password: %s", s)
		}
	}
	_ = io.Discard
}
