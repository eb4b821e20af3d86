// Package llm is Thunaivi's optional language model: an OpenAI-compatible
// chat-completions provider a workspace may name, which rewrites the answer
// of the knowledge-base entry the router chose in the workspace's tone. The
// model decides nothing: the router chose the entry, and the guardrails check
// whatever the model wrote before a customer sees it. On any failure the
// entry's own answer is sent instead, so a customer never waits on the
// provider for long.
//
// The customer's message reaches the model only as data, quoted in a JSON
// block the system prompt says to read and never to obey.
package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/thunaivi/thunaivi/internal/outbound"
)

// Failure kinds, as a fallback names them.
const (
	FailTimeout     = "timeout"
	FailUnreachable = "unreachable"
	FailRefused     = "address refused"
	FailStatus      = "error status"
	FailMalformed   = "malformed answer"
	FailBudget      = "monthly token budget spent"
	FailKey         = "API key does not open"
)

// maxBody bounds the answer read from a provider: a rewritten answer is a
// few hundred tokens, and anything much larger is not one.
const maxBody = 64 << 10

// Error is why a call to the provider gave no usable text. It never holds the
// key, the URL or the provider's own message, which may echo either.
type Error struct {
	// Kind is one of the Fail constants.
	Kind string
	// Status is the HTTP status of an error answer.
	Status int
	// Code is the error's type or code, as the provider's error body names
	// it, reduced to letters, digits and underscores.
	Code string
}

func (e *Error) Error() string {
	msg := "llm: " + e.Kind
	if e.Status != 0 {
		msg += " " + http.StatusText(e.Status)
	}
	if e.Code != "" {
		msg += " (" + e.Code + ")"
	}
	return msg
}

// Message is one turn of a chat.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Request is what is asked of the model.
type Request struct {
	Messages    []Message
	MaxTokens   int
	Temperature float64
}

// Completion is the model's answer and what it cost.
type Completion struct {
	Text string
	// Tokens are the tokens the provider reported spending on the call
	// (usage.total_tokens), or an estimate when it reported none.
	Tokens int64
}

// Provider is where a workspace's model runs and how to reach it.
type Provider struct {
	// BaseURL is the API's root, before /chat/completions.
	BaseURL string
	Model   string
	Key     string
}

// Client calls chat-completions providers through the product's outbound
// guard: certificates verified, non-public addresses refused unless allowed,
// and every call bounded by its timeout.
type Client struct {
	guard   outbound.Guard
	timeout time.Duration
	// https calls https URLs, plain http ones, which may reach only allowed
	// ranges.
	https, plain *http.Client
}

// NewClient returns a client whose calls each end within timeout.
func NewClient(o outbound.Options, timeout time.Duration) *Client {
	g := outbound.New(o)
	return &Client{guard: g, timeout: timeout, https: g.Client(false, timeout),
		plain: g.Client(true, timeout)}
}

// Complete asks the provider's model for one chat completion.
func (c *Client) Complete(ctx context.Context, p Provider, r Request) (Completion, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	body, err := json.Marshal(map[string]any{"model": p.Model, "messages": r.Messages,
		"max_tokens": r.MaxTokens, "temperature": r.Temperature})
	if err != nil {
		return Completion{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		strings.TrimRight(p.BaseURL, "/")+"/chat/completions", bytes.NewReader(body))
	if err != nil {
		return Completion{}, &Error{Kind: FailUnreachable}
	}
	req.Header.Set("Authorization", "Bearer "+p.Key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "Thunaivi")
	client := c.https
	if req.URL.Scheme != "https" {
		client = c.plain
	}
	resp, err := client.Do(req)
	if err != nil {
		return Completion{}, transportError(ctx, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return Completion{}, transportError(ctx, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return Completion{}, &Error{Kind: FailStatus, Status: resp.StatusCode,
			Code: errorCode(raw)}
	}
	if len(raw) > maxBody {
		return Completion{}, &Error{Kind: FailMalformed, Code: "too_large"}
	}
	out, err := ParseCompletion(raw)
	if out.Tokens == 0 {
		out.Tokens = estimate(body, raw)
	}
	return out, err
}

// transportError names what went wrong on the way, without the URL the
// client's own error holds.
func transportError(ctx context.Context, err error) error {
	var ne net.Error
	if errors.Is(ctx.Err(), context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout()) {
		return &Error{Kind: FailTimeout}
	}
	var ue *url.Error
	if errors.As(err, &ue) && errors.Is(ue.Err, outbound.ErrRefused) {
		return &Error{Kind: FailRefused}
	}
	return &Error{Kind: FailUnreachable}
}

// estimate is what a call cost when the provider did not say: about one
// token for every three bytes sent and received, which overstates rather
// than understates.
func estimate(sent, received []byte) int64 { return int64(len(sent)+len(received))/3 + 1 }
