// Package llmtest runs local chat-completions providers for tests: a model
// that answers what a test tells it to, one that fails in a given way, one
// that hangs, and the address of one that is down.
package llmtest

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Request is a chat-completions request as a provider received it.
type Request struct {
	Authorization string
	Model         string `json:"model"`
	Messages      []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	MaxTokens   int     `json:"max_tokens"`
	Temperature float64 `json:"temperature"`
}

// Model decides a provider's answer to one request: its status and body.
type Model func(r Request) (status int, body string)

// Says is a model that answers text, reporting tokens spent.
func Says(text string, tokens int) Model {
	return func(Request) (int, string) { return http.StatusOK, Answer(text, tokens) }
}

// Answer is a chat-completions answer holding text, and usage of tokens.
func Answer(text string, tokens int) string {
	b, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-test", "object": "chat.completion", "model": "test-model",
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": text}}},
		"usage": map[string]any{"prompt_tokens": tokens / 2,
			"completion_tokens": tokens - tokens/2, "total_tokens": tokens}})
	return string(b)
}

// Fails is a model that answers status with body.
func Fails(status int, body string) Model {
	return func(Request) (int, string) { return status, body }
}

// Provider is a local provider over TLS.
type Provider struct {
	// URL is the base URL: https://127.0.0.1:PORT/v1.
	URL string
	// Roots trusts the provider's certificate, and only it.
	Roots *x509.CertPool

	srv *httptest.Server
	mu  sync.Mutex
	got []Request
}

// Start runs a provider whose answers model decides, until the test ends.
func Start(t testing.TB, model Model) *Provider {
	t.Helper()
	return start(t, model, true)
}

// StartPlain runs a provider over plain http, which the product reaches
// only on ranges its operator allowed, such as loopback in tests.
func StartPlain(t testing.TB, model Model) *Provider {
	t.Helper()
	return start(t, model, false)
}

func start(t testing.TB, model Model, tls bool) *Provider {
	p := &Provider{}
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter,
		r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
			http.Error(w, `{"error":{"type":"not_found"}}`, http.StatusNotFound)
			return
		}
		var req Request
		body, _ := io.ReadAll(r.Body)
		json.Unmarshal(body, &req)
		req.Authorization = r.Header.Get("Authorization")
		p.mu.Lock()
		p.got = append(p.got, req)
		p.mu.Unlock()
		status, out := model(req)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, out)
	}))
	// A client refusing the certificate is what some tests check for.
	p.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	t.Cleanup(p.srv.Close)
	if !tls {
		p.srv.Start()
		p.URL = p.srv.URL + "/v1"
		return p
	}
	p.srv.StartTLS()
	p.URL = p.srv.URL + "/v1"
	p.Roots = x509.NewCertPool()
	p.Roots.AddCert(p.srv.Certificate())
	return p
}

// Hanging runs a provider that accepts every request and never answers,
// until the test ends.
func Hanging(t testing.TB) *Provider {
	t.Helper()
	stop := make(chan struct{})
	p := Start(t, func(Request) (int, string) {
		<-stop
		return http.StatusOK, ""
	})
	// Closed before the server, whose Close waits for the handlers.
	t.Cleanup(func() { close(stop) })
	return p
}

// Requests returns the requests the provider received, oldest first.
func (p *Provider) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.got...)
}

// Down returns the base URL of a provider that is not running: a loopback
// port that was just free, and is closed.
func Down(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return fmt.Sprintf("https://%s/v1", addr)
}
