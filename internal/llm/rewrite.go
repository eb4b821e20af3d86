package llm

import (
	"context"
	"errors"
	"strings"
)

// Result is how a rewrite went: the model's text, or why there is none.
type Result struct {
	// Text is the model's rewrite, still to be checked by the guardrails;
	// empty when there is none.
	Text string
	// Fallback says, in a few words, why the embedded answer is to be sent
	// instead: one of the Fail constants, with the status of an error
	// answer. Empty when the provider is off or Text is set.
	Fallback string
	// Kind is the Fail constant of the fallback.
	Kind string
	// Tokens are the tokens the call cost.
	Tokens int64
	// KeyEchoed says the model's text holds the provider's own API key, or
	// a good part of it, whatever its shape: the text must never be sent,
	// nor quoted.
	KeyEchoed bool
}

// On reports whether the workspace's provider was asked, or would have been
// but for its budget.
func (r Result) On() bool { return r.Text != "" || r.Fallback != "" }

// Enabled reports whether the workspace has a provider on, with a key.
func (s *Service) Enabled(ctx context.Context, wsID string) bool {
	st, err := s.load(ctx, wsID)
	return err == nil && st.enabled && st.sealed != ""
}

// Rewrite asks the workspace's provider to put src's answer in the
// workspace's tone, and counts the tokens it cost. It gives up after the
// service's timeout. A provider that is off gives the zero Result; one whose
// month's budget is spent is not asked.
func (s *Service) Rewrite(ctx context.Context, wsID string, src Source) Result {
	r := s.rewrite(ctx, wsID, src)
	if s.Observe != nil && r.On() {
		s.Observe(wsID, r)
	}
	return r
}

func (s *Service) rewrite(ctx context.Context, wsID string, src Source) Result {
	st, err := s.load(ctx, wsID)
	if err != nil || !st.enabled || st.sealed == "" {
		return Result{}
	}
	month := s.now().UTC().Format(monthStyle)
	used, err := s.used(ctx, wsID, month)
	if err != nil {
		return fallback(FailUnreachable)
	}
	if used >= st.budget {
		return fallback(FailBudget)
	}
	key, err := s.sealer.Open(st.sealed)
	if err != nil {
		return fallback(FailKey)
	}
	c, err := s.client.Complete(ctx, Provider{BaseURL: st.baseURL, Model: st.model,
		Key: string(key)}, rewriteRequest(src, st.tone))
	if c.Tokens > 0 {
		// Counted on the caller's context: a call that ran out of time still
		// cost what it cost.
		s.db.ExecContext(context.WithoutCancel(ctx), s.q.AddUsage, wsID, month, c.Tokens)
	}
	if err != nil {
		r := fallback(FailMalformed)
		var e *Error
		if errors.As(err, &e) {
			r = Result{Fallback: strings.TrimPrefix(e.Error(), "llm: "), Kind: e.Kind}
		}
		r.Tokens = c.Tokens
		return r
	}
	return Result{Text: c.Text, Tokens: c.Tokens,
		KeyEchoed: echoes(c.Text, string(key))}
}

// keyPart is how many characters of a key in a row give it away.
const keyPart = 12

// echoes reports whether text holds key, or any keyPart characters of it
// in a row.
func echoes(text, key string) bool {
	if len(key) <= keyPart {
		return strings.Contains(text, key)
	}
	for i := 0; i+keyPart <= len(key); i++ {
		if strings.Contains(text, key[i:i+keyPart]) {
			return true
		}
	}
	return false
}

func fallback(kind string) Result { return Result{Fallback: kind, Kind: kind} }
