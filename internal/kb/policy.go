package kb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/guard"
	"github.com/thunaivi/thunaivi/internal/store"
)

// Policy returns a workspace's settings for the guardrails every AI reply
// passes; the defaults when it set none.
func (s *Service) Policy(ctx context.Context, wsID string) (guard.Policy, error) {
	var claims string
	var p guard.Policy
	err := s.db.QueryRowContext(ctx, s.q.AIPolicy, wsID).Scan(&claims, &p.MaxChars)
	if errors.Is(err, sql.ErrNoRows) {
		return guard.Policy{Claims: []string{}}, nil
	}
	if err != nil {
		return guard.Policy{}, fmt.Errorf("kb: load the AI policy: %w", err)
	}
	p.Claims = []string{}
	for _, c := range strings.Split(claims, "\n") {
		if c != "" {
			p.Claims = append(p.Claims, c)
		}
	}
	return p, nil
}

// SetPolicy changes a workspace's guardrail settings: its forbidden
// phrases (at most 200, each of 2 to 200 characters) and the longest reply.
func (s *Service) SetPolicy(ctx context.Context, wsID string, p guard.Policy) error {
	var clean []string
	for _, c := range p.Claims {
		c = strings.ToLower(strings.Join(strings.Fields(c), " "))
		if c == "" {
			continue
		}
		if n := utf8.RuneCountInString(c); n < 2 || n > 200 || !utf8.ValidString(c) ||
			strings.ContainsFunc(c, unicode.IsControl) || !guard.Meaningful(c) {
			return fmt.Errorf("kb: %w: a forbidden phrase has 2 to 200 characters, letters "+
				"or digits among them, and no control characters", ErrInvalid)
		}
		clean = append(clean, c)
	}
	if len(clean) > 200 {
		return fmt.Errorf("kb: %w: at most 200 forbidden phrases", ErrInvalid)
	}
	if p.MaxChars < 0 || p.MaxChars > 10000 {
		return fmt.Errorf("kb: %w: the longest reply is 0 (the default) to 10000 characters",
			ErrInvalid)
	}
	old, err := s.Policy(ctx, wsID)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q.SetAIPolicy, wsID, strings.Join(clean, "\n"),
			p.MaxChars); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.SettingChanged, TargetType: "ai_policy", TargetID: wsID,
			Diff: audit.Diff{"forbidden_claims": {old.Claims, clean},
				"max_chars": {old.MaxChars, p.MaxChars}}})
	})
}
