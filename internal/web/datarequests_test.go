package web_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/datarequest"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"github.com/thunaivi/thunaivi/internal/support"
)

// planted is text only one customer ever wrote: after their deletion request
// is carried out, nothing in the store may hold it.
var planted = []string{"Zebulon Plantedname", "zebulon.planted@example.com",
	"PLANTED-7f3k2q"}

// internalNote is what an agent wrote about the customer for the team only;
// the customer's export does not hold it.
const internalNote = "NOTE-FOR-THE-TEAM-41"

// chatAs opens a conversation as a customer who gave their name and address,
// and returns it with the customer's contact id.
func (e *env) chatAs(widgetToken, name, email string) (*visitor, string) {
	e.t.Helper()
	v := &visitor{e: e, widgetToken: widgetToken}
	res := e.do(nil, "POST", "/widget/v1/conversations", v.headers(),
		map[string]string{"name": name, "email": email})
	if res.Status != http.StatusCreated {
		e.t.Fatalf("start chat: %d %s", res.Status, res.Body)
	}
	res.JSON(e.t, v)
	c, err := e.App.Support.VisitorConversation(context.Background(), e.WS.Workspace.ID,
		e.WS.Inbox.ID, v.ConversationID, v.VisitorToken)
	if err != nil {
		e.t.Fatal(err)
	}
	return v, c.ContactID
}

// TestDataRequestEndToEnd follows a deletion and access request from an agent
// filing it to the signed receipt: the requester confirms from the mailed
// link, a manager approves, the requester downloads their data, and then no
// table of the store, and on SQLite no byte of its files, holds their text.
func TestDataRequestEndToEnd(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ws := e.WS.Workspace.ID
		agentID := e.addMember(ws, "agent@first.example", access.Agent)
		e.addMember(ws, "manager@first.example", access.Manager)
		agent, manager := e.login("agent@first.example"), e.login("manager@first.example")

		v, contact := e.chatAs(e.WS.Inbox.WidgetToken, planted[0], planted[1])
		v.send("Hello, my reference is " + planted[2] + ", where is my order?")
		v.send("I want a refund for " + planted[2])
		// A file whose content, not its name or caption, holds the text.
		if res := e.attach(nil, "/widget/v1/conversations/"+v.ConversationID+"/attachments",
			v.headers(), "order.txt", []byte("order for "+planted[2]+"\n"), ""); res.Status !=
			http.StatusCreated {
			t.Fatalf("upload: %d %s", res.Status, res.Body)
		}
		e.post(manager, "PATCH", "/api/v1/conversations/"+v.ConversationID,
			map[string]any{"labels": []string{"vip-" + planted[2]}}, http.StatusOK)
		var thread struct {
			Messages []struct{ ID, Kind string }
		}
		e.post(manager, "GET", "/api/v1/conversations/"+v.ConversationID, nil,
			http.StatusOK).JSON(t, &thread)
		e.post(manager, "POST", "/api/v1/conversations/"+v.ConversationID+"/golden",
			map[string]string{"message_id": thread.Messages[0].ID, "expect": "handoff",
				"category": "payment_dispute", "note": "seen"}, http.StatusCreated)
		e.post(manager, "POST", "/api/v1/conversations/"+v.ConversationID+"/notes",
			map[string]string{"text": "same ring as another customer, " + internalNote},
			http.StatusCreated)
		e.post(manager, "PATCH", "/api/v1/conversations/"+v.ConversationID,
			map[string]any{"status": "resolved"}, http.StatusOK)
		rating := map[string]any{"score": 2, "comment": "slow, " + planted[2]}
		if res := e.do(nil, "POST", "/widget/v1/conversations/"+v.ConversationID+"/rating",
			v.headers(), rating); res.Status != http.StatusCreated {
			t.Fatalf("rating: %d %s", res.Status, res.Body)
		}
		other, _ := e.chatAs(e.WS.Inbox.WidgetToken, "Someone Else", "else@example.com")
		other.send("where is my order?")

		// An agent who does not work the contact's inbox cannot act for them.
		wantError(t, e.post(agent, "POST", "/api/v1/data-requests", map[string]any{
			"contact_id": contact, "kinds": []string{"deletion"}}, http.StatusNotFound),
			http.StatusNotFound, "not_found")
		e.post(e.login(e.AdminEmail), "PUT", "/api/v1/inboxes/"+e.WS.Inbox.ID+"/members/"+
			agentID, nil, http.StatusNoContent)
		r := e.post(agent, "POST", "/api/v1/data-requests", map[string]any{
			"contact_id": contact, "kinds": []string{"access", "deletion"}, "source": "email"},
			http.StatusCreated)
		wantError(t, e.post(agent, "POST", "/api/v1/data-requests", map[string]any{
			"contact_id": contact, "kinds": []string{"deletion"}}, http.StatusConflict),
			http.StatusConflict, "request_open")
		var filed struct {
			DataRequest datarequest.Request `json:"data_request"`
		}
		r.JSON(t, &filed)
		id := filed.DataRequest.ID
		if filed.DataRequest.State != datarequest.AwaitingVerification {
			t.Fatalf("a request filed by an agent starts %s", filed.DataRequest.State)
		}
		wantError(t, e.post(manager, "POST", "/api/v1/data-requests/"+id+"/approve", nil,
			http.StatusConflict), http.StatusConflict, "wrong_state")

		link := e.mailedLink(planted[1], "/data-requests/"+id)
		q := link.Query()
		if res := e.do(nil, "GET", "/data-requests/"+id+"?ws="+ws+"&token=guess", nil,
			nil); res.Status != http.StatusNotFound {
			t.Fatalf("a guessed token: %d", res.Status)
		}
		if page := e.do(nil, "GET", link.RequestURI(), nil, nil); page.Status !=
			http.StatusOK || !strings.Contains(string(page.Body), "Confirm my request") {
			t.Fatalf("status page: %d", page.Status)
		}
		form := url.Values{"ws": {q.Get("ws")}, "token": {q.Get("token")}}
		res := e.do(nil, "POST", "/data-requests/"+id+"/verify",
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			form.Encode())
		if res.Status != http.StatusOK || !strings.Contains(string(res.Body),
			datarequest.AwaitingApproval) {
			t.Fatalf("verify: %d %s", res.Status, res.Body)
		}

		if findText(t, db, planted[2]) == "" {
			t.Fatal("the scan does not find the customer's text before the deletion")
		}
		if where := findText(t, db, planted[2], "attachments"); where != "attachments.content" {
			t.Fatalf("the scan does not read a file's bytes: it found the text in %q", where)
		}
		e.post(agent, "POST", "/api/v1/data-requests/"+id+"/approve", nil,
			http.StatusForbidden)
		r = e.post(manager, "POST", "/api/v1/data-requests/"+id+"/approve", nil,
			http.StatusOK)
		r.JSON(t, &filed)
		rc := filed.DataRequest.Receipt
		if filed.DataRequest.State != datarequest.Completed || rc == nil ||
			rc.Removed["contacts"] != 1 || rc.Removed["messages"] == 0 ||
			rc.Removed["attachments"] != 1 {
			t.Fatalf("completed request %+v", filed.DataRequest)
		}
		var key struct {
			PublicKey string `json:"public_key"`
		}
		e.do(nil, "GET", "/data-requests/receipt-key", nil, nil).JSON(t, &key)
		pub, _ := base64.StdEncoding.DecodeString(key.PublicKey)
		if !rc.Verify(ed25519.PublicKey(pub)) {
			t.Fatal("the receipt does not verify with the published key")
		}
		var doc struct{ Signed, Signature string }
		e.do(nil, "GET", "/data-requests/"+id+"/receipt?"+link.RawQuery, nil,
			nil).JSON(t, &doc)
		signed, _ := base64.StdEncoding.DecodeString(doc.Signed)
		sig, _ := base64.StdEncoding.DecodeString(doc.Signature)
		if !ed25519.Verify(ed25519.PublicKey(pub), signed, sig) ||
			!strings.Contains(string(signed), `"request_id":"`+id+`"`) {
			t.Fatalf("the receipt a requester downloads does not verify: %s", signed)
		}
		forged := *rc
		forged.Removed = map[string]int64{"contacts": 0}
		if forged.Verify(ed25519.PublicKey(pub)) {
			t.Fatal("a changed receipt verifies")
		}

		export := e.do(nil, "GET", "/data-requests/"+id+"/export?"+link.RawQuery, nil, nil)
		if export.Status != http.StatusOK {
			t.Fatalf("export: %d %s", export.Status, export.Body)
		}
		z, err := zip.NewReader(bytes.NewReader(export.Body), int64(len(export.Body)))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, f := range z.File {
			names = append(names, f.Name)
			if f.Modified.Year() < 2000 {
				t.Errorf("%s is dated %v, not the export's time", f.Name, f.Modified)
			}
			rd, _ := f.Open()
			body, _ := io.ReadAll(rd)
			if !strings.Contains(string(body), planted[2]) {
				t.Errorf("%s lacks the customer's message", f.Name)
			}
			if strings.Contains(string(body), internalNote) {
				t.Errorf("%s holds the team's internal note", f.Name)
			}
		}
		if len(names) != 3 || names[0] != "data.json" || names[1] != "data.html" ||
			!strings.HasPrefix(names[2], "files/") || !strings.HasSuffix(names[2], "/order.txt") {
			t.Fatalf("archive holds %v", names)
		}
		for _, f := range z.File[:2] {
			rd, _ := f.Open()
			body, _ := io.ReadAll(rd)
			if !strings.Contains(string(body), names[2]) {
				t.Errorf("%s does not name the file %s", f.Name, names[2])
			}
		}

		for _, text := range planted {
			if where := findText(t, db, text); where != "" {
				t.Errorf("%q is still in %s", text, where)
			}
		}
		if db.Engine() == store.SQLite {
			var main string
			if err := db.QueryRowContext(context.Background(),
				"SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(
				&main); err != nil {
				t.Fatal(err)
			}
			files, _ := filepath.Glob(main + "*")
			for _, f := range files {
				b, _ := os.ReadFile(f)
				for _, text := range planted {
					if bytes.Contains(b, []byte(text)) {
						t.Errorf("%q is still in the bytes of %s", text, filepath.Base(f))
					}
				}
			}
		}
		if page := e.do(nil, "GET", link.RequestURI(), nil, nil); !strings.Contains(
			string(page.Body), "completed") {
			t.Fatal("the requester's page does not show the request done")
		}
		if _, err := e.App.Support.Get(context.Background(), support.Viewer{WorkspaceID: ws,
			AllInboxes: true}, other.ConversationID); err != nil {
			t.Fatalf("another customer's conversation went too: %v", err)
		}
	})
}

// findText returns the table and column that hold text, in any case, or "".
// It reads the tables named, or every table of the store.
func findText(t *testing.T, db *store.DB, text string, tables ...string) string {
	t.Helper()
	ctx := context.Background()
	if len(tables) == 0 {
		query := "SELECT name FROM sqlite_master WHERE type = 'table'"
		if db.Engine() == store.Postgres {
			query = "SELECT table_name FROM information_schema.tables " +
				"WHERE table_schema = current_schema()"
		}
		var err error
		if tables, err = store.Strings(ctx, db, query); err != nil {
			t.Fatal(err)
		}
	}
	for _, table := range tables {
		rows, err := db.QueryContext(ctx, "SELECT * FROM "+table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			rows.Scan(ptrs...)
			for i, v := range vals {
				var s string
				switch v := v.(type) {
				case string:
					s = v
				case []byte:
					s = string(v)
				}
				if strings.Contains(strings.ToLower(s), strings.ToLower(text)) {
					rows.Close()
					return table + "." + cols[i]
				}
			}
		}
		rows.Close()
	}
	return ""
}

// TestDisconnectedChannelHistoryIsDeleted disconnects an inbox, whose widget
// token stops working at once, then deletes its history through the
// deletion-request path: its conversations go, except one under a legal
// hold, and the receipt verifies.
func TestDisconnectedChannelHistoryIsDeleted(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	admin := e.login(e.AdminEmail)
	var inbox struct {
		ID          string
		WidgetToken string `json:"widget_token"`
	}
	e.post(admin, "POST", "/api/v1/inboxes", map[string]string{"name": "Old shop"},
		http.StatusCreated).JSON(t, &inbox)
	gone := e.startChat(inbox.WidgetToken)
	gone.send("where is my order " + planted[2])
	// A request about a contact whose channel history goes before it is
	// approved is done, with nothing left to export or delete.
	var asked struct{ ID string }
	e.do(nil, "POST", "/widget/v1/conversations/"+gone.ConversationID+"/data-requests",
		gone.headers(), map[string]any{"kinds": []string{"access"}}).JSON(t, &asked)
	held := e.startChat(inbox.WidgetToken)
	held.send("I dispute this charge")
	e.post(admin, "POST", "/api/v1/legal-holds", map[string]string{
		"target_type": "conversation", "target_id": held.ConversationID,
		"reason": "chargeback"}, http.StatusCreated)

	wantError(t, e.post(admin, "POST", "/api/v1/inboxes/"+inbox.ID+"/history/delete", nil,
		http.StatusUnprocessableEntity), http.StatusUnprocessableEntity, "invalid")
	e.post(admin, "DELETE", "/api/v1/inboxes/"+inbox.ID, nil, http.StatusNoContent)
	if res := e.do(nil, "POST", "/widget/v1/conversations", map[string]string{
		"X-Widget-Token": inbox.WidgetToken}, nil); res.Status == http.StatusCreated {
		t.Fatal("a disconnected inbox's widget token still works")
	}
	var out struct {
		Receipt datarequest.Receipt `json:"receipt"`
		Kept    int                 `json:"kept_on_legal_hold"`
	}
	e.post(admin, "POST", "/api/v1/inboxes/"+inbox.ID+"/history/delete", nil,
		http.StatusOK).JSON(t, &out)
	if out.Kept != 1 || out.Receipt.Removed["conversations"] != 1 ||
		!out.Receipt.Verify(e.App.DataRequests.ReceiptKey()) {
		t.Fatalf("channel deletion %+v", out)
	}
	if where := findText(t, e.App.DB, planted[2]); where != "" {
		t.Fatalf("the channel's history is still in %s", where)
	}
	v := support.Viewer{WorkspaceID: e.WS.Workspace.ID, AllInboxes: true}
	if _, err := e.App.Support.Get(context.Background(), v, held.ConversationID); err != nil {
		t.Fatalf("the held conversation went: %v", err)
	}
	var done struct {
		DataRequest datarequest.Request `json:"data_request"`
	}
	e.post(admin, "POST", "/api/v1/data-requests/"+asked.ID+"/approve", nil,
		http.StatusOK).JSON(t, &done)
	if rc := done.DataRequest.Receipt; done.DataRequest.State != datarequest.Completed ||
		len(rc.Removed) != 0 || rc.ExportUntil != nil {
		t.Fatalf("a request about a contact already gone: %+v", done.DataRequest)
	}
}

// TestApproverSeesOtherContactsWithTheSameAddress: the widget makes a contact
// for each chat, and a typed address proves nothing, so a request covers its
// own contact only; the approver is told of the others.
func TestApproverSeesOtherContactsWithTheSameAddress(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	admin := e.login(e.AdminEmail)
	first, _ := e.chatAs(e.WS.Inbox.WidgetToken, "Ann", "ann@customer.example")
	e.do(nil, "POST", "/widget/v1/conversations/"+first.ConversationID+"/data-requests",
		first.headers(), map[string]any{"kinds": []string{"deletion"}})
	if page := string(e.post(admin, "GET", "/data-requests", nil,
		http.StatusOK).Body); strings.Contains(page, "give the same address") {
		t.Fatal("a contact with an address nobody else gave is said to share it")
	}
	e.chatAs(e.WS.Inbox.WidgetToken, "Ann again", "ANN@customer.example")
	if page := string(e.post(admin, "GET", "/data-requests", nil,
		http.StatusOK).Body); !strings.Contains(page, "1 other contact(s) give the same") {
		t.Fatal("the approver is not told of another contact with the same address")
	}
	// Deciding a request, either way, asks a stale session for the password.
	list, err := e.App.DataRequests.List(context.Background(), e.WS.Workspace.ID)
	if err != nil || len(list) != 1 {
		t.Fatalf("requests: %v, %v", list, err)
	}
	e.advance(11 * time.Minute)
	for _, step := range []string{"approve", "reject"} {
		wantError(t, e.do(admin, "POST", "/api/v1/data-requests/"+list[0].ID+"/"+step, nil,
			map[string]string{"note": "not ours"}), http.StatusForbidden, "step_up_required")
	}
}

// TestAHoldKeepsDataButNotItsCopy: a legal hold on a contact stops the
// deletion of their data, not the copy they asked for; and once deleted,
// the copy an earlier request exported goes with the rest.
func TestAHoldKeepsDataButNotItsCopy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin := e.login(e.AdminEmail)
		v, contact := e.chatAs(e.WS.Inbox.WidgetToken, "Hal", "hal@customer.example")
		v.send("my order HOLD-7781 never came")
		var statusURL string // of the last request asked
		ask := func(kind string) string {
			t.Helper()
			var out struct {
				ID        string
				StatusURL string `json:"status_url"`
			}
			e.do(nil, "POST", "/widget/v1/conversations/"+v.ConversationID+"/data-requests",
				v.headers(), map[string]any{"kinds": []string{kind}}).JSON(t, &out)
			if out.ID == "" {
				t.Fatalf("no %s request filed", kind)
			}
			statusURL = out.StatusURL
			return out.ID
		}
		page := func(u string) string {
			t.Helper()
			parsed, err := url.Parse(u)
			if err != nil {
				t.Fatal(err)
			}
			return string(e.do(nil, "GET", parsed.RequestURI(), nil, nil).Body)
		}
		var placed struct {
			Hold struct{ ID string } `json:"hold"`
		}
		e.post(admin, "POST", "/api/v1/legal-holds", map[string]string{
			"target_type": "contact", "target_id": contact, "reason": "a dispute"},
			http.StatusCreated).JSON(t, &placed)

		copied := ask("access")
		e.post(admin, "POST", "/api/v1/data-requests/"+copied+"/approve", nil, http.StatusOK)
		export := "/api/v1/data-requests/" + copied + "/export"
		e.post(admin, "GET", export, nil, http.StatusOK)
		copyPage := statusURL
		if !strings.Contains(page(copyPage), "Download your data") {
			t.Fatal("the requester's page does not offer the copy")
		}

		deletion := ask("deletion")
		wantError(t, e.do(admin, "POST", "/api/v1/data-requests/"+deletion+"/approve", nil,
			nil), http.StatusConflict, "legal_hold")
		if findText(t, db, "HOLD-7781", "messages") == "" {
			t.Fatal("a refused deletion deleted the held contact's messages")
		}
		e.post(admin, "POST", "/api/v1/legal-holds/"+placed.Hold.ID+"/lift",
			map[string]string{"reason": "settled"}, http.StatusNoContent)
		var done struct {
			DataRequest datarequest.Request `json:"data_request"`
		}
		e.post(admin, "POST", "/api/v1/data-requests/"+deletion+"/approve", nil,
			http.StatusOK).JSON(t, &done)
		if rc := done.DataRequest.Receipt; rc == nil || rc.Removed["exports"] != 1 {
			t.Fatalf("the receipt does not count the earlier copy: %+v", rc)
		}
		wantError(t, e.do(admin, "GET", export, nil, nil), http.StatusNotFound, "not_found")
		if p := page(copyPage); strings.Contains(p, "Download your data") ||
			!strings.Contains(p, "no longer kept") {
			t.Fatal("the requester's page still offers the copy deleted with the data")
		}
		if n := e.count("data_exports"); n != 0 {
			t.Fatalf("%d exports kept after the deletion", n)
		}
	})
}

// TestAHoldPlacedDuringADeletionIsKept: a deletion approved while a legal
// hold on the contact is being placed waits for the hold, and then keeps the
// data, on PostgreSQL as on SQLite.
func TestAHoldPlacedDuringADeletionIsKept(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ws := e.WS.Workspace.ID
		admin := e.login(e.AdminEmail)
		v, contact := e.chatAs(e.WS.Inbox.WidgetToken, "Dee", "dee@customer.example")
		v.send("my order DISPUTE-5521 was charged twice")
		var filed struct{ ID string }
		e.do(nil, "POST", "/widget/v1/conversations/"+v.ConversationID+"/data-requests",
			v.headers(), map[string]any{"kinds": []string{"deletion"}}).JSON(t, &filed)

		ctx := context.Background()
		locked, release := make(chan struct{}), make(chan struct{})
		var releasing sync.Once
		letGo := func() { releasing.Do(func() { close(release) }) }
		defer letGo() // a failure below must not leave the hold's transaction open
		placed := make(chan error, 1)
		go func() {
			placed <- db.InTx(ctx, func(tx *store.Tx) error {
				if err := tx.Lock(ctx, store.HoldsLock(ws)); err != nil {
					return err
				}
				_, err := tx.ExecContext(ctx, db.Rebind("INSERT INTO legal_holds "+
					"(workspace_id, id, target_type, target_id, reason, placed_by, "+
					"placed_at) VALUES (?, ?, 'contact', ?, 'a dispute', 'admin', ?)"), ws,
					store.NewID("lh"), contact, e.now().UnixMilli())
				close(locked)
				<-release
				return err
			})
		}()
		<-locked
		approved := make(chan response, 1)
		go func() {
			approved <- e.do(admin, "POST", "/api/v1/data-requests/"+filed.ID+"/approve",
				nil, nil)
		}()
		select {
		case r := <-approved:
			t.Fatalf("the deletion was decided (%d) while a hold was being placed", r.Status)
		case <-time.After(300 * time.Millisecond):
		}
		letGo()
		if err := <-placed; err != nil {
			t.Fatal(err)
		}
		wantError(t, <-approved, http.StatusConflict, "legal_hold")
		if findText(t, db, "DISPUTE-5521", "messages") == "" {
			t.Fatal("the held contact's messages were deleted")
		}
	})
}
