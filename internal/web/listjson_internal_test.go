package web

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/support"
)

// TestConversationListJSON checks that the hand-written list answer is what
// encoding/json writes, for awkward text too.
func TestConversationListJSON(t *testing.T) {
	at := time.Date(2026, 12, 4, 9, 30, 1, 123456789, time.UTC)
	list := []support.Conversation{
		{ID: "cv_1", Subject: "quote \" backslash \\ <b>&</b> \n\t\r \x01 \u2028 \xff é 🙂",
			Labels: []string{"vip", "a\"b"}, CreatedAt: at, LastMessageAt: at.Add(time.Hour)},
		{ID: "cv_2", ContactName: "Ann", Labels: []string{}, CreatedAt: at,
			LastMessageAt: at},
		{ID: "cv_3"},
	}
	rec := httptest.NewRecorder()
	writeConversations(rec, list, "next\"cursor")
	var want bytes.Buffer
	json.NewEncoder(&want).Encode(map[string]any{"conversations": list,
		"next_cursor": "next\"cursor"})
	var got, exp any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, rec.Body)
	}
	json.Unmarshal(want.Bytes(), &exp)
	gotJSON, _ := json.Marshal(got)
	expJSON, _ := json.Marshal(exp)
	if !bytes.Equal(gotJSON, expJSON) {
		t.Fatalf("got\n%s\nwant\n%s", rec.Body, want.Bytes())
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("plain")
	f.Add("\x00\xff\u2028<>&\"\\")
	f.Fuzz(func(t *testing.T, s string) {
		b := appendString(nil, s)
		var back string
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%q wrote %s: %v", s, b, err)
		}
		want, _ := json.Marshal(s)
		if string(want) != string(b) {
			t.Fatalf("%q wrote %s, encoding/json %s", s, b, want)
		}
	})
}
