package web_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

// rawStream opens a live event stream and returns its lines as they come.
func (e *env) rawStream(ctx context.Context, c *http.Client, path string,
	headers map[string]string) (<-chan string, *http.Response) {
	e.t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.URL+path, nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if c == nil {
		c = http.DefaultClient
	}
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	lines := make(chan string, 64)
	go func() {
		defer close(lines)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return lines, res
}

// until reads lines until one contains want, and reports whether it came
// before the stream ended or the timeout passed.
func until(lines <-chan string, want string, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				return false
			}
			if strings.Contains(l, want) {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

// TestAgentStreamEndsWithTheSession checks that a live stream stops
// delivering once its session is gone: notes written after sign-out never
// reach it.
func TestAgentStreamEndsWithTheSession(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	e.addMember(e.WS.Workspace.ID, "agent@first.example", access.Agent, e.WS.Inbox.ID)
	agent := e.login("agent@first.example")
	admin := e.login(e.AdminEmail)
	v := e.startChat(e.WS.Inbox.WidgetToken)
	v.send("how long does shipping take?")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	lines, res := e.rawStream(ctx, agent, "/api/v1/events", nil)
	if res.StatusCode != http.StatusOK || !until(lines, "event: ready", 5*time.Second) {
		t.Fatalf("stream did not open: %d", res.StatusCode)
	}
	note := func(text string) {
		r := e.do(admin, "POST", "/api/v1/conversations/"+v.ConversationID+"/notes", nil,
			map[string]string{"text": text})
		if r.Status != http.StatusCreated {
			t.Fatalf("note: %d %s", r.Status, r.Body)
		}
	}
	note("before sign-out")
	if !until(lines, "before sign-out", 5*time.Second) {
		t.Fatal("the stream did not deliver a note while signed in")
	}

	if r := e.do(agent, "POST", "/api/v1/auth/logout", nil, nil); r.Status != http.StatusNoContent {
		t.Fatalf("logout: %d", r.Status)
	}
	e.advance(time.Minute)
	note("after sign-out")
	if until(lines, "after sign-out", 5*time.Second) {
		t.Fatal("the stream delivered a note after sign-out")
	}
}

// TestStreamsPerAddressAreCapped checks that one address cannot hold open
// an unbounded number of live streams.
func TestStreamsPerAddressAreCapped(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	v := e.startChat(e.WS.Inbox.WidgetToken)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0}}
	refused := false
	for i := 0; i < 80 && !refused; i++ {
		_, res := e.rawStream(ctx, client,
			"/widget/v1/conversations/"+v.ConversationID+"/events", v.headers())
		refused = res.StatusCode == http.StatusTooManyRequests
	}
	if !refused {
		t.Fatal("80 streams from one address were all accepted")
	}
}
