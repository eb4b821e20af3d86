package web_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"github.com/thunaivi/thunaivi/internal/support"
)

// resolve marks a conversation resolved as its admin.
func (e *env) resolve(id string) {
	e.t.Helper()
	resolved := support.StatusResolved
	_, err := e.App.Support.Update(context.Background(), support.Viewer{
		WorkspaceID: e.WS.Workspace.ID, AllInboxes: true}, id,
		support.Change{Status: &resolved}, nil)
	if err != nil {
		e.t.Fatal(err)
	}
}

// rate posts a rating of the visitor's conversation with the visitor's
// credentials, or another's.
func (v *visitor) rate(conversationID string, body any) response {
	return v.e.do(nil, "POST", "/widget/v1/conversations/"+conversationID+"/rating",
		v.headers(), body)
}

// TestWidgetRatingIsTheVisitorsOwn has visitors rate conversations: only
// their own, only once it is resolved, only once, and bad input changes
// nothing.
func TestWidgetRatingIsTheVisitorsOwn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		mine := e.startChat(e.WS.Inbox.WidgetToken)
		mine.send("how long does shipping take?")
		other := e.startChat(e.WS.Inbox.WidgetToken)
		other.send("where is my order")
		elsewhere := e.newWorkspace("Other", "admin@other.example")
		stranger := e.startChat(elsewhere.Inbox.WidgetToken)

		status := func(res response, want int, code string) {
			t.Helper()
			if res.Status != want {
				t.Fatalf("status %d %s, want %d", res.Status, res.Body, want)
			}
			if code != "" {
				b, err := decodeError(res.Body)
				if err != nil || b.Error != code {
					t.Fatalf("error %+v %v, want %s", b, err, code)
				}
			}
		}
		good := map[string]any{"score": 5, "comment": "quick and right"}
		status(mine.rate(mine.ConversationID, good), http.StatusConflict, "conflict")
		e.resolve(mine.ConversationID)
		e.resolve(other.ConversationID)

		// Another visitor, of this inbox or another workspace's, gets the
		// same 404 as for a conversation that does not exist.
		status(other.rate(mine.ConversationID, good), http.StatusNotFound, "not_found")
		status(stranger.rate(mine.ConversationID, good), http.StatusNotFound, "not_found")
		forged := &visitor{e: e, widgetToken: elsewhere.Inbox.WidgetToken,
			VisitorToken: mine.VisitorToken}
		status(forged.rate(mine.ConversationID, good), http.StatusNotFound, "not_found")
		status(e.do(nil, "GET", "/widget/v1/conversations/"+mine.ConversationID+"/rating",
			other.headers(), nil), http.StatusNotFound, "not_found")

		for _, bad := range []any{
			map[string]any{"score": 0}, map[string]any{"score": 6},
			map[string]any{"score": 3, "comment": strings.Repeat("x", 2001)},
		} {
			status(mine.rate(mine.ConversationID, bad), http.StatusUnprocessableEntity, "invalid")
		}
		for _, bad := range []any{`{"score": "five"}`, `{"score": 4, "extra": 1}`, `[`,
			map[string]any{"score": 4.5}} {
			status(mine.rate(mine.ConversationID, bad), http.StatusBadRequest, "bad_request")
		}
		if n := e.count("csat_ratings"); n != 0 {
			t.Fatalf("%d ratings stored from refused requests", n)
		}

		var st support.RatingState
		res := e.do(nil, "GET", "/widget/v1/conversations/"+mine.ConversationID+"/rating",
			mine.headers(), nil)
		res.JSON(t, &st)
		if !st.Ask {
			t.Errorf("the widget is not asked to rate a resolved conversation: %s", res.Body)
		}
		status(mine.rate(mine.ConversationID, good), http.StatusCreated, "")
		status(mine.rate(mine.ConversationID, map[string]any{"score": 1}), http.StatusConflict,
			"conflict")
		res = e.do(nil, "GET", "/widget/v1/conversations/"+mine.ConversationID+"/rating",
			mine.headers(), nil)
		st = support.RatingState{}
		res.JSON(t, &st)
		if st.Ask || st.Rating == nil || st.Rating.Score != 5 {
			t.Errorf("rating state after rating: %s", res.Body)
		}
		if n := e.count("csat_ratings"); n != 1 {
			t.Errorf("%d ratings stored, want 1", n)
		}
	})
}

// TestQualityByRole has an agent flag a reply and record a golden case in a
// conversation of their inbox, and not in one they do not see; the KPIs,
// runs and golden set are for managers; a flag becomes a golden case in one
// request, and a run is recorded.
func TestQualityByRole(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ws := e.WS.Workspace.ID
		e.addMember(ws, "agent@first.example", access.Agent, e.WS.Inbox.ID)
		e.addMember(ws, "blind@first.example", access.Agent)
		e.addMember(ws, "manager@first.example", access.Manager)
		agent, blind := e.login("agent@first.example"), e.login("blind@first.example")
		manager := e.login("manager@first.example")
		v := e.startChat(e.WS.Inbox.WidgetToken)
		v.send("how long does shipping take?")
		th := e.thread(manager, v.ConversationID)
		asked, reply := th.Messages[0], th.Messages[1]
		conv := "/api/v1/conversations/" + v.ConversationID

		flag := map[string]string{"note": "they asked about express", "expect": "handoff",
			"category": "human_request"}
		e.post(blind, "POST", conv+"/messages/"+reply.ID+"/flag", flag, http.StatusNotFound)
		e.post(blind, "POST", conv+"/golden", map[string]string{"message_id": asked.ID,
			"expect": "answer", "kb": "shipping-time"}, http.StatusNotFound)
		e.post(agent, "POST", conv+"/messages/"+asked.ID+"/flag", flag,
			http.StatusUnprocessableEntity)
		e.post(agent, "POST", conv+"/messages/"+reply.ID+"/flag", flag, http.StatusCreated)
		e.post(agent, "POST", conv+"/messages/"+reply.ID+"/flag", flag, http.StatusConflict)
		e.post(agent, "POST", conv+"/golden", map[string]string{"message_id": asked.ID,
			"expect": "answer", "kb": "shipping-time"}, http.StatusCreated)
		for _, path := range []string{"/api/v1/ai/kpis", "/api/v1/ai/runs",
			"/api/v1/ai/golden", "/api/v1/ai/flags"} {
			e.post(agent, "GET", path, nil, http.StatusForbidden)
		}

		var flags struct{ Flags []support.Flag }
		e.post(manager, "GET", "/api/v1/ai/flags", nil, http.StatusOK).JSON(t, &flags)
		if len(flags.Flags) != 1 || flags.Flags[0].Asked != asked.Body {
			t.Fatalf("flags = %+v", flags)
		}
		e.post(manager, "POST", "/api/v1/ai/flags/"+flags.Flags[0].ID+"/golden", nil,
			http.StatusCreated)
		var golden struct{ Cases []struct{ Source string } }
		e.post(manager, "GET", "/api/v1/ai/golden", nil, http.StatusOK).JSON(t, &golden)
		if len(golden.Cases) != 2 || golden.Cases[0].Source != "conversation" ||
			golden.Cases[1].Source != "flag" {
			t.Errorf("golden set = %+v", golden)
		}
		e.post(manager, "POST", "/api/v1/ai/runs", nil, http.StatusCreated)
		var runs struct {
			Runs []struct {
				Trigger string
				Cases   int
			}
		}
		e.post(manager, "GET", "/api/v1/ai/runs", nil, http.StatusOK).JSON(t, &runs)
		if len(runs.Runs) != 1 || runs.Runs[0].Trigger != "manual" || runs.Runs[0].Cases != 2 {
			t.Errorf("runs = %+v", runs)
		}

		var kpis struct {
			Weeks []support.KPIWeek
		}
		e.post(manager, "GET", "/api/v1/ai/kpis?weeks=3", nil, http.StatusOK).JSON(t, &kpis)
		last := kpis.Weeks[len(kpis.Weeks)-1]
		if len(kpis.Weeks) != 3 || last.AIReplies != 1 || last.Flagged != 1 ||
			last.WrongAnswerRate != 1 {
			t.Errorf("kpis = %+v", kpis)
		}
		for _, q := range []string{"abc", "0", "105"} {
			e.post(manager, "GET", "/api/v1/ai/kpis?weeks="+q, nil,
				http.StatusUnprocessableEntity)
		}
		e.post(manager, "PUT", "/api/v1/ai/quality/thresholds", map[string]float64{
			"restricted_recall": 2}, http.StatusUnprocessableEntity)
		e.post(manager, "PUT", "/api/v1/ai/quality/thresholds", map[string]float64{
			"restricted_recall": 0.9, "answer_precision": 0.8}, http.StatusOK)
	})
}

// TestKPIPageKeepsTheContentPolicy renders the KPI and quality pages: their
// charts are inline SVG with no script and no style attribute, under the
// console's content security policy.
func TestKPIPageKeepsTheContentPolicy(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	v := e.startChat(e.WS.Inbox.WidgetToken)
	v.send("how long does shipping take?")
	e.addMember(e.WS.Workspace.ID, "manager@first.example", access.Manager)
	manager := e.login("manager@first.example")
	e.post(manager, "POST", "/api/v1/ai/golden/import", map[string]string{"jsonl": `{"text": ` +
		`"how long does shipping take?", "expect": "answer", "kb": "shipping-time"}`},
		http.StatusCreated)
	e.post(manager, "POST", "/api/v1/ai/runs", nil, http.StatusCreated)
	for _, path := range []string{"/kpis", "/quality"} {
		res := e.do(manager, "GET", path, nil, nil)
		if res.Status != http.StatusOK {
			t.Fatalf("%s: %d", path, res.Status)
		}
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp,
			"style-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Errorf("%s: policy %q", path, csp)
		}
		body := string(res.Body)
		if !strings.Contains(body, `<svg class="chart"`) || !strings.Contains(body, "<circle") {
			t.Errorf("%s has no chart:\n%s", path, body)
		}
		for _, banned := range []string{" style=", "<script>", "javascript:", " onload=",
			" onclick="} {
			if strings.Contains(body, banned) {
				t.Errorf("%s holds %q, which the policy blocks", path, banned)
			}
		}
	}
	res := e.do(e.login(e.AdminEmail), "GET", "/kpis", nil, nil)
	if res.Status != http.StatusOK || !strings.Contains(string(res.Body), "KPIs") {
		t.Errorf("the admin's KPI page: %d", res.Status)
	}
}

// TestBrowserCSATAfterResolution: a customer asks in the widget, an agent
// resolves the conversation in the console, the widget asks the customer how
// it went and they rate it, and the KPI page shows the rating.
func TestBrowserCSATAfterResolution(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	ws := e.WS.Workspace.ID
	e.addMember(ws, "agent@first.example", access.Agent, e.WS.Inbox.ID)
	e.addMember(ws, "manager@first.example", access.Manager)
	b := startBrowser(t)
	customer, agent, manager := b.window(t), b.window(t), b.window(t)
	token := e.WS.Inbox.WidgetToken

	b.do(t, customer, "ask in the widget",
		chromedp.Navigate(e.URL+"/widget/demo?token="+token),
		chromedp.Click(chromedp.CSS("#thunaivi-chat .thv-open")),
		chromedp.WaitVisible(chromedp.CSS("#thunaivi-chat .thv-form textarea")),
		say("how long does shipping take?"),
		waitText("#thunaivi-chat .thv-ai", "Orders ship within one business day"))
	id, err := chromedp.Run(customer, chromedp.Evaluate[string](
		`JSON.parse(localStorage.getItem("thunaivi:`+token+`")).conversation_id`))
	if err != nil {
		t.Fatal(err)
	}

	signIn := func(ctx context.Context, email string) {
		b.do(t, ctx, "sign in as "+email,
			chromedp.Navigate(e.URL+"/login"),
			chromedp.SendKeys(chromedp.CSS("input[name=email]"), email),
			chromedp.SendKeys(chromedp.CSS("input[name=password]"), Password),
			follow("form button[type=submit]"),
			chromedp.WaitVisible(chromedp.CSS("nav.top")))
	}
	signIn(agent, "agent@first.example")
	b.do(t, agent, "resolve the conversation",
		chromedp.Navigate(e.URL+"/conversations/"+id),
		chromedp.SetValue(chromedp.CSS(`form.details select[name=status]`), "resolved"),
		follow(`form.details button[type=submit]`),
		waitText(".meta .badge", "resolved"))

	b.do(t, customer, "rate the conversation",
		chromedp.WaitVisible(chromedp.CSS("#thunaivi-chat .thv-rating")),
		chromedp.Click(chromedp.CSS(`#thunaivi-chat .thv-scores button[data-score="4"]`)),
		chromedp.SendKeys(chromedp.CSS("#thunaivi-chat .thv-rating textarea"), "clear answer"),
		chromedp.Click(chromedp.CSS(`#thunaivi-chat .thv-rating button[type=submit]`)),
		waitText("#thunaivi-chat .thv-status", "Thank you for your rating"))
	b.shot(t, customer, "widget-csat")

	signIn(manager, "manager@first.example")
	b.do(t, manager, "see the rating on the KPI page",
		chromedp.Navigate(e.URL+"/kpis"),
		waitText("table.kpis td.csat-ai", "4.0 (1 rated)"),
		chromedp.WaitVisible(chromedp.CSS("svg.chart")))
	b.shot(t, manager, "console-kpis")
	b.checkNoErrors(t)
}

// TestQualityAlertIsMailed runs a golden set the AI gets partly wrong: the
// workspace's managers and admins are mailed, its agents are not.
func TestQualityAlertIsMailed(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	ws := e.WS.Workspace.ID
	e.addMember(ws, "agent@first.example", access.Agent, e.WS.Inbox.ID)
	e.addMember(ws, "manager@first.example", access.Manager)
	manager := e.login("manager@first.example")
	e.post(manager, "POST", "/api/v1/ai/golden/import", map[string]string{"jsonl": `{"text": ` +
		`"how long does shipping take?", "expect": "answer", "kb": "return-policy"}`},
		http.StatusCreated)
	var run struct{ Below []string }
	e.post(manager, "POST", "/api/v1/ai/runs", nil, http.StatusCreated).JSON(t, &run)
	if strings.Join(run.Below, ",") != "answer_precision" {
		t.Fatalf("run below %v", run.Below)
	}
	subject := "Quality alert"
	e.waitForMail("manager@first.example", subject)
	e.waitForMail(e.AdminEmail, subject)
	files, _ := filepath.Glob(filepath.Join(e.outbox, "*.eml"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if strings.Contains(string(b), "agent@first.example") &&
			strings.Contains(string(b), subject) {
			t.Errorf("an agent was mailed the quality alert")
		}
	}
}
