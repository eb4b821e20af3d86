package web_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/config"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"github.com/thunaivi/thunaivi/internal/support"
)

// pngFile is the start of a PNG image: enough for the content to sniff as
// one.
var pngFile = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 64)...)

// upload is a multipart body of one file and an optional caption, and its
// content type.
func upload(name string, content []byte, caption string) (string, []byte) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if caption != "" {
		w.WriteField("text", caption)
	}
	f, _ := w.CreateFormFile("file", name)
	f.Write(content)
	w.Close()
	return w.FormDataContentType(), b.Bytes()
}

// attach sends a file with the client c to path; the visitor's headers when
// h is given.
func (e *env) attach(c *http.Client, path string, h map[string]string, name string,
	content []byte, caption string) response {
	e.t.Helper()
	ct, body := upload(name, content, caption)
	headers := map[string]string{"Content-Type": ct, "Origin": e.URL}
	for k, v := range h {
		headers[k] = v
	}
	return e.do(c, "POST", path, headers, body)
}

// wantDownload checks a download's status, headers and content.
func wantDownload(t *testing.T, res response, name, ctype string, content []byte) {
	t.Helper()
	if res.Status != http.StatusOK {
		t.Fatalf("download: %d %s", res.Status, res.Body)
	}
	want := map[string]string{
		"Content-Type":            ctype,
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "sandbox; default-src 'none'",
	}
	for k, v := range want {
		if got := res.Header.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	cd := res.Header.Get("Content-Disposition")
	if !strings.HasPrefix(cd, "attachment; ") || !strings.Contains(cd, "filename*=UTF-8''") ||
		!strings.Contains(cd, name) {
		t.Errorf("Content-Disposition %q", cd)
	}
	if !bytes.Equal(res.Body, content) {
		t.Errorf("downloaded %d bytes, not the %d uploaded", len(res.Body), len(content))
	}
}

// TestAttachments sends files both ways, as a visitor and as an agent, and
// downloads them as those who may, while everyone else gets 404: a member of
// another workspace, an agent outside the inbox, and another visitor.
func TestAttachments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ws := e.WS.Workspace.ID
		e.addMember(ws, "agent@first.example", access.Agent, e.WS.Inbox.ID)
		e.addMember(ws, "outside@first.example", access.Agent)
		e.newWorkspace("Other", "admin@other.example")
		agent, outside := e.login("agent@first.example"), e.login("outside@first.example")
		stranger := e.login("admin@other.example")
		v := e.startChat(e.WS.Inbox.WidgetToken)
		other := e.startChat(e.WS.Inbox.WidgetToken)
		v.send("hello")

		res := e.attach(nil, "/widget/v1/conversations/"+v.ConversationID+"/attachments",
			v.headers(), "screen shot.png", pngFile, "")
		if res.Status != http.StatusCreated {
			t.Fatalf("visitor upload: %d %s", res.Status, res.Body)
		}
		var sent struct {
			Message support.Message `json:"message"`
			Outcome string          `json:"outcome"`
		}
		res.JSON(t, &sent)
		if sent.Outcome != "handoff" || len(sent.Message.Attachments) != 1 ||
			sent.Message.Body != "screen shot.png" {
			t.Fatalf("visitor upload: %s", res.Body)
		}
		file := sent.Message.Attachments[0]
		th := e.thread(agent, v.ConversationID)
		last := th.Decisions[len(th.Decisions)-1]
		if th.Conversation.Status != support.StatusEscalated ||
			last.Category != support.CategoryAttachment ||
			!strings.HasPrefix(last.Reason, "attachment:") {
			t.Fatalf("a file is not handed to a person: %s, %+v", th.Conversation.Status, last)
		}
		byID := func(msgs []support.Message) support.Message {
			for _, m := range msgs {
				if m.ID == sent.Message.ID {
					return m
				}
			}
			t.Fatalf("no message %s in %+v", sent.Message.ID, msgs)
			return support.Message{}
		}
		if got := byID(th.Messages).Attachments; len(got) != 1 ||
			got[0].Name != "screen shot.png" || got[0].Size != int64(len(pngFile)) ||
			got[0].ContentType != "image/png" {
			t.Fatalf("the agent's thread lists %+v", got)
		}
		if got := byID(v.customerView()).Attachments; len(got) != 1 || got[0].ID != file.ID {
			t.Fatalf("the widget's thread lists %+v", got)
		}
		if strings.Contains(string(e.do(agent, "GET", "/api/v1/conversations/"+
			v.ConversationID, nil, nil).Body), "IHDR") {
			t.Fatal("the thread holds the file's content")
		}

		visitorPath := "/widget/v1/conversations/" + v.ConversationID + "/attachments/" + file.ID
		apiPath := "/api/v1/conversations/" + v.ConversationID + "/attachments/" + file.ID
		wantDownload(t, e.do(nil, "GET", visitorPath, v.headers(), nil), "screen%20shot.png",
			"image/png", pngFile)
		wantDownload(t, e.do(agent, "GET", apiPath, nil, nil), "screen%20shot.png",
			"image/png", pngFile)
		wantDownload(t, e.do(e.login(e.AdminEmail), "GET", apiPath, nil, nil),
			"screen%20shot.png", "image/png", pngFile)
		wantError(t, e.do(outside, "GET", apiPath, nil, nil), http.StatusNotFound, "not_found")
		wantError(t, e.do(stranger, "GET", apiPath, nil, nil), http.StatusNotFound,
			"not_found")
		wantError(t, e.do(nil, "GET", visitorPath, other.headers(), nil),
			http.StatusNotFound, "not_found")
		wantError(t, e.do(nil, "GET", "/widget/v1/conversations/"+other.ConversationID+
			"/attachments/"+file.ID, other.headers(), nil), http.StatusNotFound, "not_found")

		before := e.count("attachments")
		for name, c := range map[string]*http.Client{"outside": outside, "stranger": stranger} {
			res := e.attach(c, "/api/v1/conversations/"+v.ConversationID+"/attachments", nil,
				"x.png", pngFile, "")
			if res.Status != http.StatusNotFound {
				t.Errorf("%s uploads: %d %s", name, res.Status, res.Body)
			}
		}
		res = e.attach(nil, "/widget/v1/conversations/"+v.ConversationID+"/attachments",
			other.headers(), "x.png", pngFile, "")
		wantError(t, res, http.StatusNotFound, "not_found")
		if n := e.count("attachments"); n != before {
			t.Fatalf("refused uploads stored %d files", n-before)
		}

		pdf := []byte("%PDF-1.4\n% the invoice\n")
		res = e.attach(agent, "/api/v1/conversations/"+v.ConversationID+"/attachments", nil,
			"Facture été.pdf", pdf, "Here is your invoice")
		if res.Status != http.StatusCreated {
			t.Fatalf("agent upload: %d %s", res.Status, res.Body)
		}
		var reply support.Message
		res.JSON(t, &reply)
		if reply.Body != "Here is your invoice" || len(reply.Attachments) != 1 {
			t.Fatalf("agent upload: %s", res.Body)
		}
		got := e.do(nil, "GET", "/widget/v1/conversations/"+v.ConversationID+"/attachments/"+
			reply.Attachments[0].ID, v.headers(), nil)
		wantDownload(t, got, "Facture%20%C3%A9t%C3%A9.pdf", "application/pdf", pdf)
		if cd := got.Header.Get("Content-Disposition"); !strings.Contains(cd,
			`filename="Facture _t_.pdf"`) {
			t.Errorf("the ASCII name: %q", cd)
		}
	})
}

// TestAttachmentRefusals sends what must not be stored, as a visitor and as
// an agent: each gets its status and a JSON error, and no table changes.
func TestAttachmentRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnvWith(t, db, func(c *config.Config) { c.AttachmentMaxMB = 1 })
		admin := e.login(e.AdminEmail)
		v := e.startChat(e.WS.Inbox.WidgetToken)
		v.send("hello")
		exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00"), make([]byte, 100)...)
		zip := []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00")
		cases := []struct {
			name    string
			file    string
			content []byte
			status  int
			code    string
		}{
			{"too large", "big.txt", bytes.Repeat([]byte("a"), 1<<20+1), 413, "too_large"},
			{"HTML renamed", "cat.png", []byte("<html><script>alert(1)</script>"), 415,
				"unsupported_type"},
			{"SVG", "logo.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), 415,
				"unsupported_type"},
			{"SVG as text", "logo.txt", []byte(`<svg onload="alert(1)"/>`), 415,
				"unsupported_type"},
			{"executable", "setup.exe", exe, 415, "unsupported_type"},
			{"executable renamed", "photo.jpg", exe, 415, "unsupported_type"},
			{"archive", "all.zip", zip, 415, "unsupported_type"},
			{"script", "run.js", []byte("alert(1)"), 415, "unsupported_type"},
			{"no extension", "README", []byte("hello"), 415, "unsupported_type"},
			{"empty", "empty.txt", nil, 422, "invalid"},
			{"path traversal", "../../etc/passwd.txt", []byte("root"), 422, "invalid"},
			{"windows traversal", `..\..\boot.txt`, []byte("x"), 422, "invalid"},
			{"only dots", "...", []byte("x"), 422, "invalid"},
		}
		widget := "/widget/v1/conversations/" + v.ConversationID + "/attachments"
		api := "/api/v1/conversations/" + v.ConversationID + "/attachments"
		tables := []string{"attachments", "messages", "decisions", "idempotency_keys"}
		counts := func() string {
			var out []string
			for _, t := range tables {
				out = append(out, fmt.Sprint(e.count(t)))
			}
			return strings.Join(out, ",")
		}
		before := counts()
		// Far over the limit, the body is cut off before the file is read;
		// the error still says the limit.
		for _, r := range []response{
			e.attach(nil, widget, v.headers(), "huge.txt", bytes.Repeat([]byte("a"), 3<<20), ""),
			e.attach(admin, api, nil, "huge.txt", bytes.Repeat([]byte("a"), 3<<20), ""),
		} {
			wantError(t, r, 413, "too_large")
			if !strings.Contains(string(r.Body), "at most 1 MiB") {
				t.Errorf("the refusal does not say the limit: %s", r.Body)
			}
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, e.attach(nil, widget, v.headers(), tc.file, tc.content, ""),
					tc.status, tc.code)
				wantError(t, e.attach(admin, api, nil, tc.file, tc.content, ""), tc.status,
					tc.code)
			})
		}
		ct, body := upload("a.txt", []byte("hello"), "")
		var captionOnly bytes.Buffer
		cw := multipart.NewWriter(&captionOnly)
		cw.WriteField("text", "a caption without its file")
		cw.Close()
		malformed := []struct {
			name, ctype string
			body        []byte
		}{
			{"not multipart", "application/json", []byte(`{"text":"hi"}`)},
			{"truncated", ct, body[:len(body)/2]},
			{"no boundary", "multipart/form-data", body},
			{"wrong boundary", ct[:len(ct)-4] + "zzzz", body},
			{"no file", cw.FormDataContentType(), captionOnly.Bytes()},
		}
		for _, m := range malformed {
			t.Run(m.name, func(t *testing.T) {
				h := v.headers()
				h["Content-Type"] = m.ctype
				wantError(t, e.do(nil, "POST", widget, h, m.body), http.StatusBadRequest,
					"bad_request")
			})
		}
		var two bytes.Buffer
		w := multipart.NewWriter(&two)
		for _, n := range []string{"a.txt", "b.txt"} {
			f, _ := w.CreateFormFile("file", n)
			f.Write([]byte("hello"))
		}
		w.Close()
		h := v.headers()
		h["Content-Type"] = w.FormDataContentType()
		wantError(t, e.do(nil, "POST", widget, h, two.Bytes()), http.StatusBadRequest,
			"bad_request")
		if after := counts(); after != before {
			t.Fatalf("refused uploads changed %v: %s, was %s", tables, after, before)
		}

		// A conversation holds MaxAttachmentsPerConversation files at most.
		for i := range support.MaxAttachmentsPerConversation {
			res := e.attach(admin, api, nil, fmt.Sprintf("n%d.txt", i), []byte("note"), "")
			if res.Status != http.StatusCreated {
				t.Fatalf("file %d: %d %s", i, res.Status, res.Body)
			}
		}
		before = counts()
		wantError(t, e.attach(nil, widget, v.headers(), "one-more.png", pngFile, ""),
			http.StatusUnprocessableEntity, "invalid")
		if after := counts(); after != before {
			t.Fatalf("a file past the limit changed %v: %s, was %s", tables, after, before)
		}
	})
}

// TestAttachmentRetention purges files past their period, with the server's
// clock moved on: the dry run counts what the purge removes, a legal hold on
// the contact keeps theirs, and the messages stay, saying the file is gone.
func TestAttachmentRetention(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin := e.login(e.AdminEmail)
		held, contact := e.chatAs(e.WS.Inbox.WidgetToken, "Held Customer", "held@example.com")
		free := e.startChat(e.WS.Inbox.WidgetToken)
		send := func(v *visitor, name string) support.Attachment {
			res := e.attach(nil, "/widget/v1/conversations/"+v.ConversationID+"/attachments",
				v.headers(), name, []byte("a receipt"), "")
			var out struct{ Message support.Message }
			res.JSON(t, &out)
			if res.Status != http.StatusCreated || len(out.Message.Attachments) != 1 {
				t.Fatalf("upload: %d %s", res.Status, res.Body)
			}
			return out.Message.Attachments[0]
		}
		kept := send(held, "kept.txt")
		gone := send(free, "gone.txt")
		res := e.attach(admin, "/api/v1/conversations/"+free.ConversationID+"/attachments", nil,
			"also-gone.csv", []byte("a,b\n1,2\n"), "the table")
		if res.Status != http.StatusCreated {
			t.Fatalf("agent upload: %d %s", res.Status, res.Body)
		}
		e.post(admin, "POST", "/api/v1/legal-holds", map[string]string{
			"target_type": "contact", "target_id": contact, "reason": "dispute"},
			http.StatusCreated)
		e.post(admin, "PUT", "/api/v1/retention", map[string]int{"attachments": 1},
			http.StatusOK)

		type counts struct{ Conversations, Messages, Attachments int }
		preview := func() counts {
			var out struct{ Due counts }
			e.post(admin, "GET", "/api/v1/retention/preview", nil, http.StatusOK).JSON(t, &out)
			return out.Due
		}
		if due := preview(); due.Attachments != 0 {
			t.Fatalf("files a day old are due at once: %+v", due)
		}
		e.advance(25 * time.Hour)
		admin = e.login(e.AdminEmail)
		due := preview()
		if due != (counts{Attachments: 2}) {
			t.Fatalf("the dry run counts %+v, want the two files not held", due)
		}
		if e.count("attachments") != 3 {
			t.Fatal("the dry run removed files")
		}
		var purged struct{ Removed counts }
		e.post(admin, "POST", "/api/v1/retention/purge", nil, http.StatusOK).JSON(t, &purged)
		if purged.Removed != due {
			t.Fatalf("the purge removed %+v, the dry run said %+v", purged.Removed, due)
		}
		if due := preview(); due.Attachments != 0 {
			t.Fatalf("after the purge, %+v are due", due)
		}

		wantError(t, e.do(nil, "GET", "/widget/v1/conversations/"+free.ConversationID+
			"/attachments/"+gone.ID, free.headers(), nil), http.StatusNotFound, "not_found")
		wantDownload(t, e.do(nil, "GET", "/widget/v1/conversations/"+held.ConversationID+
			"/attachments/"+kept.ID, held.headers(), nil), "kept.txt",
			"text/plain; charset=utf-8", []byte("a receipt"))
		removed := 0
		for _, m := range e.thread(admin, free.ConversationID).Messages {
			if len(m.Attachments) > 0 {
				t.Errorf("message %q keeps %+v", m.Body, m.Attachments)
			}
			removed += m.AttachmentsRemoved
		}
		if removed != 2 {
			t.Fatalf("the thread says %d files were removed, want 2", removed)
		}
		page := string(e.post(admin, "GET", "/conversations/"+free.ConversationID, nil,
			http.StatusOK).Body)
		if !strings.Contains(page, "The file was removed under the retention policy") ||
			!strings.Contains(page, "gone.txt") {
			t.Fatal("the conversation page does not show the file as removed")
		}
		settings := string(e.post(admin, "GET", e.adminPath()+"/settings/retention", nil,
			http.StatusOK).Body)
		if !strings.Contains(settings, `name="attachments" value="1"`) {
			t.Fatal("the retention page does not show the attachments class")
		}
	})
}
