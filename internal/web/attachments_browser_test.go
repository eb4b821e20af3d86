package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

// TestBrowserFilesBothWays has a customer attach a file in the widget, which
// hands the conversation to a person; an agent sees it in the console,
// downloads it, and answers with a file of their own, which the customer
// sees without reloading.
func TestBrowserFilesBothWays(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	agentEmail := "agent@first.example"
	e.addMember(e.WS.Workspace.ID, agentEmail, access.Agent, e.WS.Inbox.ID)
	dir := t.TempDir()
	receipt := filepath.Join(dir, "receipt.txt")
	invoice := filepath.Join(dir, "invoice.pdf")
	if err := os.WriteFile(receipt, []byte("order 4411, paid twice\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(invoice, []byte("%PDF-1.4\n% refund\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b := startBrowser(t)
	customer := b.window(t)
	agent := b.window(t)
	token := e.WS.Inbox.WidgetToken

	b.do(t, customer, "attach a file in the widget",
		chromedp.Navigate(e.URL+"/widget/demo?token="+token),
		chromedp.Click(chromedp.CSS("#thunaivi-chat .thv-open")),
		chromedp.WaitVisible(chromedp.CSS("#thunaivi-chat textarea")),
		chromedp.SendKeys(chromedp.CSS("#thunaivi-chat textarea"), "I was charged twice"),
		chromedp.SetUploadFiles(chromedp.CSS("#thunaivi-chat .thv-file"), []string{receipt}),
		waitText("#thunaivi-chat .thv-customer .thv-file-link", "receipt.txt"),
		waitText("#thunaivi-chat .thv-system", "passing your conversation to a member"),
		// A reload would drop this mark: the agent's file must arrive live.
		chromedp.Evaluate[chromedp.Void](`window.sameVisit = true`))
	id, err := chromedp.Run(customer, chromedp.Evaluate[string](
		`JSON.parse(localStorage.getItem("thunaivi:`+token+`")).conversation_id`))
	if err != nil {
		t.Fatalf("read the conversation id from the widget: %v", err)
	}

	b.do(t, agent, "sign in as the agent",
		chromedp.Navigate(e.URL+"/login"),
		chromedp.SendKeys(chromedp.CSS("input[name=email]"), agentEmail),
		chromedp.SendKeys(chromedp.CSS("input[name=password]"), Password),
		follow("form button[type=submit]"),
		waitText("table.list", "escalated"))
	b.do(t, agent, "open the conversation and find the file",
		follow(`a[href="/conversations/`+id+`"]`),
		waitText("#thread .file a", "receipt.txt"),
		waitText("#decisions", "attachment"))
	got, err := chromedp.Run(agent, chromedp.Evaluate[string](`
		fetch(document.querySelector("#thread .file a").href).then(async r => r.status + "|" +
			r.headers.get("Content-Disposition") + "|" + await r.text())`,
		chromedp.EvalAwaitPromise))
	if err != nil || !strings.HasPrefix(got, "200|attachment; ") ||
		!strings.HasSuffix(got, "|order 4411, paid twice\n") {
		t.Fatalf("the agent's download: %q, %v", got, err)
	}

	b.do(t, agent, "answer with a file",
		chromedp.SetUploadFiles(chromedp.CSS(`form.attach input[type=file]`),
			[]string{invoice}),
		chromedp.SendKeys(chromedp.CSS(`form.attach input[name=text]`), "Your refund"),
		follow(`form.attach button[type=submit]`),
		waitText("#thread .file a", "invoice.pdf"))
	b.do(t, customer, "see the agent's file without reloading",
		waitText("#thunaivi-chat .thv-agent .thv-file-link", "invoice.pdf"),
		chromedp.PollFunction[chromedp.Void](`() => window.sameVisit === true`))
	b.checkNoErrors(t)
}
