package web_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"github.com/thunaivi/thunaivi/internal/support"
)

// validSend reports whether body is a message the widget must accept: one
// JSON object whose only field is a text of 1 to 16 KiB that is valid UTF-8
// without NUL characters and not blank.
func validSend(body []byte) (string, bool) {
	if !utf8.Valid(body) {
		return "", false
	}
	var req struct {
		Text string `json:"text"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return "", false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return "", false
	}
	text := req.Text
	if len(text) > support.MaxMessageBytes || strings.ContainsRune(text, 0) ||
		strings.TrimSpace(text) == "" {
		return "", false
	}
	return strings.TrimSpace(text), true
}

// FuzzWidgetSend posts arbitrary bodies to the widget's send endpoint: it
// never fails on its side, always answers JSON, and accepts only valid
// messages, stored as sent.
func FuzzWidgetSend(f *testing.F) {
	for _, seed := range []string{
		`{"text": "how long does shipping take?"}`,
		`{"text": "someone used my card for purchases I never made"}`,
		`{"text": ""}`,
		`{"text": " \t\n"}`,
		`{"text": "a\u0000b"}`,
		`{"text": "\ud800"}`,
		"{\"text\": \"caf\xe9\"}",
		`{"text": "hi", "extra": 1}`,
		`{"text": "hi"} trailing`,
		`{"text": "hi"}{"text": "hi"}`,
		`{"text": 5}`,
		`{"text": null}`,
		`["text"]`,
		`null`,
		``,
		`{"text": "` + strings.Repeat("é", 8<<10) + `"}`,
	} {
		f.Add([]byte(seed))
	}
	e := newEnv(f, storetest.OpenSQLite(f))
	v := e.startChat(e.WS.Inbox.WidgetToken)
	h := e.Server.Config.Handler
	path := "/widget/v1/conversations/" + v.ConversationID + "/messages"

	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, val := range v.headers() {
			req.Header.Set(k, val)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		if rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") ||
			!json.Valid(rec.Body.Bytes()) {
			t.Fatalf("answer to %q is not JSON: %s %s", body, ct, rec.Body)
		}
		text, valid := validSend(body)
		ok := rec.Code >= 200 && rec.Code < 300
		if ok != valid {
			t.Fatalf("status %d for %q, valid %t: %s", rec.Code, body, valid, rec.Body)
		}
		if !ok {
			eb, _ := decodeError(rec.Body.Bytes())
			if eb.Error == "" || eb.Message == "" ||
				eb.RequestID != rec.Header().Get("X-Request-Id") {
				t.Fatalf("error answer %s", rec.Body)
			}
			return
		}
		if rec.Code != http.StatusCreated {
			t.Fatalf("status %d, want 201", rec.Code)
		}
		var out struct {
			Message support.Message `json:"message"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		if out.Message.Body != text {
			t.Fatalf("stored %q, sent %q", out.Message.Body, text)
		}
	})
}

// FuzzAuditQuery sends arbitrary query strings to the audit review as an
// admin: the answer is a page of this workspace's entries or a JSON error
// naming the request, never a 500 and never another workspace's entry.
func FuzzAuditQuery(f *testing.F) {
	e := newEnv(f, storetest.OpenSQLite(f))
	other := e.newWorkspace("Other", "admin@other.example")
	e.login("admin@other.example")
	admin := e.login(e.AdminEmail)
	for _, q := range []string{"action=authn&limit=5", "from=2026-01-01&to=2027-01-01",
		"actor=%25&target=_", "before=9223372036854775807", "outcome=denied;x",
		"action=authn.%00", "limit=-1", "from=2026-13-45T99:99:99Z"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, query string) {
		if strings.IndexFunc(query, func(r rune) bool { return r <= ' ' || r >= 0x7f }) >= 0 {
			return // not a request line HTTP allows; Go's server refuses it before us
		}
		req, err := http.NewRequest("GET", e.URL+"/api/v1/audit", nil)
		if err != nil {
			return
		}
		req.URL.RawQuery = query
		res, err := admin.Do(req)
		if err != nil {
			return // a query the client itself refuses to send
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		switch res.StatusCode {
		case http.StatusOK:
			if bytes.Contains(body, []byte(other.Workspace.ID)) {
				t.Fatalf("another workspace's entry for %q: %s", query, body)
			}
		case http.StatusBadRequest, http.StatusUnprocessableEntity:
			if !bytes.Contains(body, []byte(`"request_id"`)) {
				t.Fatalf("%q: an error without a request id: %s", query, body)
			}
		default:
			t.Fatalf("%q: %d %s", query, res.StatusCode, body)
		}
	})
}
