package web_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/datarequest"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"github.com/thunaivi/thunaivi/internal/support"
)

// browserTimeout bounds a whole browser test, start of Chromium included.
const browserTimeout = 60 * time.Second

// TestBrowserHandoffWalkthrough plays the website-chat story end to end in a
// real browser: the AI answers a customer, a restricted request escalates the
// conversation, an agent signs in, reads the handoff summary and the AI's
// reasons, and replies, and the customer sees the reply without reloading.
func TestBrowserHandoffWalkthrough(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	agentEmail := "agent@first.example"
	e.addMember(e.WS.Workspace.ID, agentEmail, access.Agent, e.WS.Inbox.ID)
	b := startBrowser(t)
	customer := b.window(t)
	agent := b.window(t)
	token := e.WS.Inbox.WidgetToken

	b.do(t, customer, "open the widget",
		chromedp.Navigate(e.URL+"/widget/demo?token="+token),
		chromedp.Click(chromedp.CSS("#thunaivi-chat .thv-open")),
		chromedp.WaitVisible(chromedp.CSS("#thunaivi-chat textarea")),
		// A reload would drop this mark: the reply must arrive live.
		chromedp.Evaluate[chromedp.Void](`window.sameVisit = true`))
	b.do(t, customer, "ask about shipping", say("how long does shipping take?"),
		waitText("#thunaivi-chat .thv-ai", "Orders ship within one business day"))

	b.do(t, customer, "ask something restricted",
		say("someone used my card for purchases I never made"),
		waitText("#thunaivi-chat .thv-system", "passing your conversation to a member"))
	id, err := chromedp.Run(customer, chromedp.Evaluate[string](
		`JSON.parse(localStorage.getItem("thunaivi:`+token+`")).conversation_id`))
	if err != nil {
		t.Fatalf("read the conversation id from the widget: %v", err)
	}
	res := e.do(e.login(e.AdminEmail), "GET", "/api/v1/conversations/"+id, nil, nil)
	if res.Status != http.StatusOK {
		t.Fatalf("get conversation: %d %s", res.Status, res.Body)
	}
	var th struct {
		Conversation support.Conversation `json:"conversation"`
	}
	res.JSON(t, &th)
	if got := th.Conversation.Status; got != support.StatusEscalated {
		t.Fatalf("conversation status %q, want %q", got, support.StatusEscalated)
	}

	b.do(t, agent, "sign in as the agent",
		chromedp.Navigate(e.URL+"/login"),
		chromedp.SendKeys(chromedp.CSS("input[name=email]"), agentEmail),
		chromedp.SendKeys(chromedp.CSS("input[name=password]"), Password),
		follow("form button[type=submit]"),
		waitText("table.list", "escalated"))
	b.shot(t, agent, "console-inbox")
	b.do(t, agent, "open the conversation",
		follow(`a[href="/conversations/`+id+`"]`),
		waitText("#thread .note", "Handoff summary"),
		waitText("#decisions", "restricted category"))

	reply := "I have frozen the card; we will call you within the hour."
	b.do(t, agent, "reply to the customer",
		chromedp.SendKeys(chromedp.CSS(`form[action$="/reply"] textarea`), reply),
		follow(`form[action$="/reply"] button[type=submit]`),
		waitText("#thread .outgoing.agent", reply))
	b.shot(t, agent, "console-conversation")
	b.do(t, customer, "see the agent's reply", waitText("#thunaivi-chat .thv-agent", reply),
		chromedp.Poll[chromedp.Void](`window.sameVisit === true`,
			chromedp.WithPollingTimeout(time.Second)))
	b.shot(t, customer, "widget")
	b.checkNoErrors(t)
}

// browser is a headless Chromium the test drives, with the JavaScript errors
// its pages raised.
type browser struct {
	ctx    context.Context
	mu     sync.Mutex
	errors []string
}

// startBrowser starts Chromium for the test. Without it the test is skipped,
// unless THUNAIVI_TEST_BROWSER=require says that it must run.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("THUNAIVI_TEST_BROWSER") == "require" {
			t.Fatalf("chromium is required: %v", err)
		}
		t.Skip("chromium is not installed; THUNAIVI_TEST_BROWSER=require makes this a failure")
	}
	ctx, cancel := context.WithTimeout(t.Context(), browserTimeout)
	t.Cleanup(cancel)
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir())}
	for _, f := range []string{"headless", "no-sandbox", "disable-gpu",
		"disable-background-networking", "disable-component-update", "no-first-run",
		"disable-sync", "disable-quic"} {
		opts = append(opts, chromedp.Flag(f, true))
	}
	alloc, stop := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(stop)
	b := &browser{}
	var end context.CancelFunc
	b.ctx, end = chromedp.NewContext(alloc)
	t.Cleanup(end)
	if err := chromedp.Do(b.ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

// window opens a tab in a browser context of its own, so that it shares no
// cookies or storage with the other windows.
func (b *browser) window(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext(),
		chromedp.WithListener(b.listen))
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 860)); err != nil {
		t.Fatalf("open a window: %v", err)
	}
	return ctx
}

// listen keeps the uncaught exceptions and console errors of a page.
func (b *browser) listen(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		msg = ev.ExceptionDetails.Text
		if ex := ev.ExceptionDetails.Exception; ex != nil {
			msg += " " + ex.Description
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError {
			return
		}
		msg = "console.error"
		for _, a := range ev.Args {
			msg += " " + string(a.Value) + a.Description
		}
	default:
		return
	}
	b.mu.Lock()
	b.errors = append(b.errors, msg)
	b.mu.Unlock()
}

func (b *browser) checkNoErrors(t *testing.T) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, msg := range b.errors {
		t.Errorf("page error: %s", msg)
	}
}

// do runs the steps of one part of the story in a window; on failure it
// reports the step and what the page showed.
func (b *browser) do(t *testing.T, ctx context.Context, step string,
	actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](
			`location.href + "\n" + document.body.innerText`))
		t.Fatalf("%s: %v\npage: %s", step, err, text)
	}
}

// shot saves a screenshot of the window's page, for people to look at, in
// the folder THUNAIVI_TEST_SHOTS names; without it, screenshots are not kept.
func (b *browser) shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("THUNAIVI_TEST_SHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// say types a message into the widget and sends it with Enter.
func say(text string) chromedp.Action[chromedp.Void] {
	return chromedp.SendKeys(chromedp.CSS("#thunaivi-chat textarea"), text+"\n")
}

// follow clicks the element that matches the CSS selector and waits for the
// page it leads to.
func follow(sel string) chromedp.Action[chromedp.Void] {
	click := chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel)))
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := click(ctx, t)
		return chromedp.Void{}, err
	}
}

// waitText waits until an element matching the CSS selector contains want.
func waitText(sel, want string) chromedp.Action[chromedp.Void] {
	return chromedp.PollFunction[chromedp.Void](`(sel, want) =>
		[...document.querySelectorAll(sel)].some(el => el.textContent.includes(want))`,
		chromedp.WithPollingArgs(sel, want), chromedp.WithPollingInterval(50*time.Millisecond))
}

// TestBrowserAuditReview has an admin review the audit log in a real
// browser: sign in through the workspace's secret admin path with a code
// from the authenticator, filter the log to failed sign-ins, verify the
// chain, open the security page, and create an API key, with no errors in
// the page's console.
func TestBrowserAuditReview(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	e.do(nil, "POST", "/api/v1/auth/login", nil,
		map[string]string{"email": e.AdminEmail, "password": "not the password"})
	b := startBrowser(t)
	admin := b.window(t)
	root := e.adminPath()
	b.signInAdmin(t, e, admin)
	b.do(t, admin, "filter to failed sign-ins",
		follow(`nav.top a[href="`+root+`/settings/audit"]`),
		chromedp.SetValue(chromedp.CSS(`select[name=action]`), "authn.login.fail"),
		follow("form.filters button[type=submit]"),
		waitText("table.list", "wrong password"))
	b.shot(t, admin, "console-audit")
	b.do(t, admin, "verify the chain",
		follow(`form[action="`+root+`/settings/audit/verify"] button`),
		waitText("[role=status]", "The chain verifies"))
	b.do(t, admin, "open the security page",
		follow(`a[href="`+root+`/settings/security"]`),
		waitText("table.list", e.AdminEmail))
	b.do(t, admin, "create an API key, shown once",
		follow(`nav.top a[href="`+root+`/settings/api-keys"]`),
		chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "CRM sync"),
		chromedp.Click(chromedp.CSS(`input[value="conversations:read"]`)),
		follow(`form.entry button[type=submit]`),
		waitText("[role=status]", "not shown again"), waitText("table.list", "CRM sync"))
	b.shot(t, admin, "console-api-keys")
	b.checkNoErrors(t)
}

// signInAdmin signs the first workspace's admin in at its secret admin
// path, with their password and a code from the authenticator, and waits
// for the admin console.
func (b *browser) signInAdmin(t *testing.T, e *env, admin context.Context) {
	t.Helper()
	b.do(t, admin, "sign in as the admin at the admin path, with a code from the authenticator",
		chromedp.Navigate(e.URL+e.adminPath()+"/login"),
		chromedp.SendKeys(chromedp.CSS("input[name=email]"), e.AdminEmail),
		chromedp.SendKeys(chromedp.CSS("input[name=password]"), Password),
		chromedp.SendKeys(chromedp.CSS("input[name=code]"), e.freshCode(e.AdminEmail)),
		follow("form button[type=submit]"),
		waitText("h1", "Security"), waitText("nav.top", "Audit"))
}

// TestBrowserAdminRevokesAnAgent has an agent working in the console while
// an admin, signed in through the secret admin path, signs them out
// everywhere from the team page: the agent's next action in the open inbox
// sends them back to sign in.
func TestBrowserAdminRevokesAnAgent(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	agentEmail := "agent@first.example"
	agentID := e.addMember(e.WS.Workspace.ID, agentEmail, access.Agent, e.WS.Inbox.ID)
	v := e.startChat(e.WS.Inbox.WidgetToken)
	v.send("someone used my card for purchases I never made")
	b := startBrowser(t)
	agent := b.window(t)
	admin := b.window(t)
	b.do(t, agent, "sign in as the agent",
		chromedp.Navigate(e.URL+"/login"),
		chromedp.SendKeys(chromedp.CSS("input[name=email]"), agentEmail),
		chromedp.SendKeys(chromedp.CSS("input[name=password]"), Password),
		follow("form button[type=submit]"),
		waitText("table.list", "escalated"))

	b.signInAdmin(t, e, admin)
	end := `form[action="` + e.adminPath() + `/settings/team/` + agentID +
		`/sessions/end"] button`
	b.do(t, admin, "sign the agent out everywhere from the team page",
		follow(`nav.top a[href="`+e.adminPath()+`/settings/team"]`),
		follow(end), waitText("h1", "Team"))
	b.shot(t, admin, "console-team")

	b.do(t, agent, "open the conversation, and land on the sign-in page",
		follow(`a[href="/conversations/`+v.ConversationID+`"]`),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/login"]`)))
	b.checkNoErrors(t)
}

// TestBrowserAdminAddsARestrictedCategory has an admin add a category of
// the workspace's own with two examples and a reply of its own, try a
// message on the AI settings page, and then a customer writing such a
// message in the widget is handed to a person with that reply.
func TestBrowserAdminAddsARestrictedCategory(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	b := startBrowser(t)
	admin := b.window(t)
	customer := b.window(t)
	b.signInAdmin(t, e, admin)
	reply := "A member of our wholesale team will write to you today."
	b.do(t, admin, "add the wholesale category",
		chromedp.Navigate(e.URL+"/settings/ai"),
		chromedp.SendKeys(chromedp.CSS(`form.new-category input[name=name]`), "wholesale"),
		chromedp.SendKeys(chromedp.CSS(`form.new-category textarea[name=examples]`),
			"I want to buy 500 units for my shop at a trade price\n"+
				"do you sell in bulk to retailers"),
		chromedp.SendKeys(chromedp.CSS(`form.new-category textarea[name=reply]`), reply),
		follow(`form.new-category button[type=submit]`),
		waitText("details.category summary", "wholesale"))
	b.do(t, admin, "try a message",
		chromedp.SendKeys(chromedp.CSS(`form[action="/settings/ai/try"] textarea`),
			"can I buy 300 units in bulk for my store at trade price"),
		follow(`form[action="/settings/ai/try"] button`),
		waitText(".decision", "wholesale"))
	b.shot(t, admin, "console-category")
	b.do(t, customer, "ask the widget for a bulk price",
		chromedp.Navigate(e.URL+"/widget/demo?token="+e.WS.Inbox.WidgetToken),
		chromedp.Click(chromedp.CSS("#thunaivi-chat .thv-open")),
		chromedp.WaitVisible(chromedp.CSS("#thunaivi-chat textarea")),
		say("hello, I would like to buy 400 units in bulk for my shop at trade price"),
		waitText("#thunaivi-chat", reply))
	b.checkNoErrors(t)
}

// TestBrowserCustomerAsksForTheirData has a customer give their address and
// ask, in the chat, for a copy of their data and its deletion: the widget
// files one request from their own conversation, gives them the page to
// follow it on, and shows it again when they ask a second time.
func TestBrowserCustomerAsksForTheirData(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	b := startBrowser(t)
	customer := b.window(t)
	b.do(t, customer, "ask for deletion from the chat",
		chromedp.Navigate(e.URL+"/widget/demo?token="+e.WS.Inbox.WidgetToken),
		chromedp.Click(chromedp.CSS("#thunaivi-chat .thv-open")),
		chromedp.WaitVisible(chromedp.CSS("#thunaivi-chat textarea")),
		chromedp.Click(chromedp.CSS("#thunaivi-chat .thv-data summary")),
		chromedp.Click(chromedp.CSS("#thunaivi-chat .thv-data-send")),
		waitText("#thunaivi-chat .thv-data-status", "Choose a copy, deletion, or both"),
		chromedp.Click(chromedp.CSS(`#thunaivi-chat .thv-data input[value=access]`)),
		chromedp.Click(chromedp.CSS(`#thunaivi-chat .thv-data input[value=deletion]`)),
		chromedp.Click(chromedp.CSS("#thunaivi-chat .thv-data-send")),
		waitText("#thunaivi-chat .thv-data-status", "hold nothing from you"),
		chromedp.SendKeys(chromedp.CSS("#thunaivi-chat .thv-email"), "ann@customer.example"),
		say("where is my order?"),
		waitText("#thunaivi-chat .thv-log", "where is my order?"),
		chromedp.Click(chromedp.CSS("#thunaivi-chat .thv-data-send")),
		waitText("#thunaivi-chat .thv-data-status", "Received"))
	b.do(t, customer, "ask again while the request is open",
		chromedp.Click(chromedp.CSS("#thunaivi-chat .thv-data-send")),
		waitText("#thunaivi-chat .thv-data-status", "already have a request open"))
	href, err := chromedp.Run(customer, chromedp.Evaluate[string](
		`document.querySelector("#thunaivi-chat .thv-data-status a").href`))
	if err != nil {
		t.Fatal(err)
	}
	b.do(t, customer, "open the request's page", chromedp.Navigate(href),
		waitText("#request-state", "being reviewed"))
	b.checkNoErrors(t)
	list, err := e.App.DataRequests.List(context.Background(), e.WS.Workspace.ID)
	if err != nil || len(list) != 1 || !slices.Equal(list[0].Kinds,
		[]string{datarequest.Access, datarequest.Deletion}) {
		t.Fatalf("data requests: %+v, %v; want one, for a copy and deletion", list, err)
	}
	// The address given before the first message is the contact's, for
	// the team's replies and requests by mail.
	if got, err := e.App.DataRequests.Email(context.Background(), e.WS.Workspace.ID,
		list[0].ContactID); err != nil || got != "ann@customer.example" {
		t.Fatalf("the contact's address: %q, %v", got, err)
	}
}
