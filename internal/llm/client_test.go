package llm_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/llm"
	"github.com/thunaivi/thunaivi/internal/llm/llmtest"
	"github.com/thunaivi/thunaivi/internal/outbound"
)

var ctx = context.Background()

// testKey is the key every test provider is called with; no error, log or
// answer may hold it.
const testKey = "sk-test-9f8e7d6c5b4a39281706"

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

func client(p *llmtest.Provider, timeout time.Duration) *llm.Client {
	o := outbound.Options{Allow: loopback}
	if p != nil {
		o.RootCAs = p.Roots
	}
	return llm.NewClient(o, timeout)
}

func ask(c *llm.Client, baseURL string) (llm.Completion, error) {
	return c.Complete(ctx, llm.Provider{BaseURL: baseURL, Model: "test-model", Key: testKey},
		llm.Request{Messages: []llm.Message{{Role: "user", Content: "hello"}}, MaxTokens: 50,
			Temperature: 0.2})
}

// TestCompleteSpeaksTheProtocol posts a chat completion the documented way
// and reads the answer and the tokens it cost.
func TestCompleteSpeaksTheProtocol(t *testing.T) {
	p := llmtest.Start(t, llmtest.Says("  Orders ship in a day. ", 42))
	got, err := ask(client(p, time.Second), p.URL)
	if err != nil {
		t.Fatal(err)
	}
	if got.Text != "Orders ship in a day." || got.Tokens != 42 {
		t.Fatalf("completion %+v", got)
	}
	req := p.Requests()[0]
	if req.Authorization != "Bearer "+testKey || req.Model != "test-model" ||
		req.MaxTokens != 50 || req.Temperature != 0.2 || len(req.Messages) != 1 ||
		req.Messages[0].Role != "user" || req.Messages[0].Content != "hello" {
		t.Fatalf("request %+v", req)
	}
}

// TestCompleteFailures has providers fail every way they can: each gives
// the error kind a fallback names, within the timeout, and no error holds
// the key or the provider's message.
func TestCompleteFailures(t *testing.T) {
	leaky := `{"error":{"message":"Incorrect API key provided: ` + testKey +
		`","type":"invalid_request_error","code":"invalid_api_key"}}`
	for _, c := range []struct {
		name   string
		model  llmtest.Model
		kind   string
		status int
		code   string
	}{
		{"a server error", llmtest.Fails(500, `{"error":{"message":"boom",`+
			`"type":"server_error","code":null}}`), llm.FailStatus, 500, "server_error"},
		{"a refused key, quoted back", llmtest.Fails(401, leaky), llm.FailStatus, 401,
			"invalid_api_key"},
		{"a code shaped like a key", llmtest.Fails(429, `{"error":{"code":"`+testKey+`"}}`),
			llm.FailStatus, 429, ""},
		{"an HTML error page", llmtest.Fails(502, "<html>Bad gateway</html>"),
			llm.FailStatus, 502, ""},
		{"malformed JSON", llmtest.Fails(200, `{"choices":[{"message":{"content":"hi"`),
			llm.FailMalformed, 0, "not_json"},
		{"no choices", llmtest.Fails(200, `{"choices":[]}`), llm.FailMalformed, 0,
			"no_message"},
		{"a null content", llmtest.Fails(200, `{"choices":[{"message":{"content":null}}]}`),
			llm.FailMalformed, 0, "no_message"},
		{"a blank text", llmtest.Says("   ", 3), llm.FailMalformed, 0, "no_text"},
		{"cut short", llmtest.Fails(200, `{"choices":[{"finish_reason":"length",`+
			`"message":{"content":"Orders ship in"}}]}`), llm.FailMalformed, 0, "cut_short"},
		{"too large", llmtest.Says(strings.Repeat("a", 70<<10), 3), llm.FailMalformed, 0,
			"too_large"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := llmtest.Start(t, c.model)
			_, err := ask(client(p, time.Second), p.URL)
			var e *llm.Error
			if !errors.As(err, &e) || e.Kind != c.kind || e.Status != c.status ||
				e.Code != c.code {
				t.Fatalf("error %#v", err)
			}
			if msg := err.Error(); strings.Contains(msg, testKey) ||
				strings.Contains(msg, "Incorrect") || strings.Contains(msg, "127.0.0.1") {
				t.Fatalf("the error says too much: %s", msg)
			}
		})
	}
}

// TestCompleteGivesUp has the provider hang, and be down: each call ends
// with the right kind within its timeout.
func TestCompleteGivesUp(t *testing.T) {
	hang := llmtest.Hanging(t)
	for _, c := range []struct {
		name, url string
		p         *llmtest.Provider
		kind      string
	}{
		{"hanging", hang.URL, hang, llm.FailTimeout},
		{"down", llmtest.Down(t), nil, llm.FailUnreachable},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			_, err := ask(client(c.p, 200*time.Millisecond), c.url)
			var e *llm.Error
			if !errors.As(err, &e) || e.Kind != c.kind {
				t.Fatalf("error %#v", err)
			}
			// Real time, generously: the bound is what keeps customers from
			// waiting.
			if took := time.Since(start); took > time.Second {
				t.Fatalf("gave up after %v", took)
			}
		})
	}
}

// TestCertificatesAreVerified calls a provider whose certificate the client
// was not told to trust: the call fails, and the provider never sees the
// key.
func TestCertificatesAreVerified(t *testing.T) {
	p := llmtest.Start(t, llmtest.Says("hello", 1))
	_, err := ask(client(nil, time.Second), p.URL)
	var e *llm.Error
	if !errors.As(err, &e) || e.Kind != llm.FailUnreachable {
		t.Fatalf("error %#v", err)
	}
	if n := len(p.Requests()); n != 0 {
		t.Fatalf("the provider got %d requests", n)
	}
}

// TestNonPublicAddressesAreRefused calls a loopback provider without the
// operator allowing loopback: refused before any connection.
func TestNonPublicAddressesAreRefused(t *testing.T) {
	p := llmtest.Start(t, llmtest.Says("hello", 1))
	c := llm.NewClient(outbound.Options{RootCAs: p.Roots}, time.Second)
	_, err := ask(c, p.URL)
	var e *llm.Error
	if !errors.As(err, &e) || e.Kind != llm.FailRefused {
		t.Fatalf("error %#v", err)
	}
	if n := len(p.Requests()); n != 0 {
		t.Fatalf("the provider got %d requests", n)
	}
}

func FuzzParseCompletion(f *testing.F) {
	f.Add(llmtest.Answer("Orders ship in a day.", 12))
	f.Add(`{"choices":[{"message":{"content":null}}],"usage":{"total_tokens":-4}}`)
	f.Add(`{"choices":[{"finish_reason":"length","message":{"content":"x"}}]}`)
	f.Add(`{"choices":[{"message":{"content":"\u0000"}}],"usage":{"total_tokens":1e30}}`)
	f.Add(`[]`)
	f.Add(`{"usage":{"total_tokens":9223372036854775807}}`)
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := llm.ParseCompletion([]byte(raw))
		if c.Tokens < 0 || c.Tokens > 1<<24 {
			t.Fatalf("tokens %d", c.Tokens)
		}
		if err == nil && (strings.TrimSpace(c.Text) == "" || c.Text != strings.TrimSpace(c.Text)) {
			t.Fatalf("text %q", c.Text)
		}
		var e *llm.Error
		if err != nil && (!errors.As(err, &e) || c.Text != "") {
			t.Fatalf("error %v with text %q", err, c.Text)
		}
	})
}
