package llm

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/outbound"
	"github.com/thunaivi/thunaivi/internal/store"
)

//go:embed queries.sql
var queryFiles embed.FS

type queries struct {
	Settings    string
	SetSettings string
	Usage       string
	AddUsage    string
}

// DefaultTimeout bounds a rewrite, from reading the settings to the model's
// last byte. A customer's message is routed and stored in well under the
// rest of two seconds, so that even with the provider hanging they get the
// embedded answer or a handoff within two seconds.
const DefaultTimeout = 1200 * time.Millisecond

// Limits of the settings.
const (
	maxURLLen  = 2048
	maxModel   = 200
	maxKey     = 512
	minKey     = 8
	maxTone    = 500
	maxBudget  = 10_000_000_000
	monthStyle = "2006-01"
)

// ErrInvalid wraps input a person can correct.
var ErrInvalid = errors.New("invalid")

// Sealer encrypts secrets for storage, so that the database alone does not
// give them away.
type Sealer interface {
	Seal(plain []byte) (string, error)
	Open(sealed string) ([]byte, error)
}

// Options adjust where providers may be and how long a rewrite may take.
type Options struct {
	outbound.Options
	// Timeout bounds a rewrite; 0 is DefaultTimeout.
	Timeout time.Duration
}

// Service keeps workspaces' provider settings and usage, and rewrites
// answers with their providers.
type Service struct {
	db      *store.DB
	q       queries
	now     func() time.Time
	audit   *audit.Log
	sealer  Sealer
	client  *Client
	timeout time.Duration
	// Observe, when set, is told how each rewrite went, for monitoring.
	Observe func(wsID string, r Result)
}

// New prepares the service. Keys are sealed with sealer.
func New(db *store.DB, now func() time.Time, log *audit.Log, sealer Sealer,
	o Options) (*Service, error) {
	if sealer == nil {
		return nil, errors.New("llm: a sealer is needed to keep API keys")
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	s := &Service{db: db, now: now, audit: log, sealer: sealer, timeout: o.Timeout,
		client: NewClient(o.Options, o.Timeout)}
	if err := db.LoadQueries(queryFiles, &s.q); err != nil {
		return nil, err
	}
	return s, nil
}

// Settings are a workspace's provider as people see it: never its key.
type Settings struct {
	Enabled bool   `json:"enabled"`
	BaseURL string `json:"base_url"`
	Model   string `json:"model"`
	// KeySet says whether a key is stored; KeyLast4 tells keys apart.
	KeySet   bool   `json:"api_key_set"`
	KeyLast4 string `json:"api_key_last4,omitempty"`
	// Tone is how the business wants its answers to sound, in its words.
	Tone string `json:"tone"`
	// MonthlyBudget bounds the tokens spent in a calendar month (UTC).
	MonthlyBudget int64 `json:"monthly_token_budget"`
	// Month is the current month, and UsedThisMonth the tokens spent in it.
	Month         string `json:"month"`
	UsedThisMonth int64  `json:"tokens_used_this_month"`
}

// Change is new settings. An empty APIKey keeps the stored key.
type Change struct {
	Enabled       bool   `json:"enabled"`
	BaseURL       string `json:"base_url"`
	Model         string `json:"model"`
	APIKey        string `json:"api_key"`
	Tone          string `json:"tone"`
	MonthlyBudget int64  `json:"monthly_token_budget"`
}

// stored is a workspace's settings row.
type stored struct {
	enabled        bool
	baseURL, model string
	sealed, last4  string
	tone           string
	budget         int64
}

func (s *Service) load(ctx context.Context, wsID string) (stored, error) {
	var st stored
	var enabled int
	err := s.db.QueryRowContext(ctx, s.q.Settings, wsID).Scan(&enabled, &st.baseURL,
		&st.model, &st.sealed, &st.last4, &st.tone, &st.budget)
	if errors.Is(err, sql.ErrNoRows) {
		return stored{}, nil
	}
	if err != nil {
		return stored{}, fmt.Errorf("llm: load the settings: %w", err)
	}
	st.enabled = enabled == 1
	return st, nil
}

func (s *Service) used(ctx context.Context, wsID, month string) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, s.q.Usage, wsID, month).Scan(&n)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("llm: load the usage: %w", err)
	}
	return n, nil
}

// Settings returns a workspace's provider settings and this month's usage.
func (s *Service) Settings(ctx context.Context, wsID string) (Settings, error) {
	st, err := s.load(ctx, wsID)
	if err != nil {
		return Settings{}, err
	}
	month := s.now().UTC().Format(monthStyle)
	used, err := s.used(ctx, wsID, month)
	if err != nil {
		return Settings{}, err
	}
	return Settings{Enabled: st.enabled, BaseURL: st.baseURL, Model: st.model,
		KeySet: st.sealed != "", KeyLast4: st.last4, Tone: st.tone,
		MonthlyBudget: st.budget, Month: month, UsedThisMonth: used}, nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("llm: %w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Set changes a workspace's provider settings, by an admin. The provider is
// on only with a base URL, a model, a key and a budget. A key is given again
// whenever the base URL moves to another host, so that a stored key is never
// sent anywhere its owner did not send it.
func (s *Service) Set(ctx context.Context, wsID string, c Change) (Settings, error) {
	old, err := s.load(ctx, wsID)
	if err != nil {
		return Settings{}, err
	}
	next := old
	next.enabled, next.budget = c.Enabled, c.MonthlyBudget
	next.model = strings.TrimSpace(c.Model)
	next.tone = strings.TrimSpace(c.Tone)
	if next.baseURL, err = s.checkURL(ctx, c.BaseURL); err != nil {
		return Settings{}, err
	}
	if err := checkFields(next, c.APIKey); err != nil {
		return Settings{}, err
	}
	if c.APIKey != "" {
		if next.sealed, err = s.sealer.Seal([]byte(c.APIKey)); err != nil {
			return Settings{}, fmt.Errorf("llm: seal the key: %w", err)
		}
		next.last4 = c.APIKey[len(c.APIKey)-4:]
	} else if old.sealed != "" && host(old.baseURL) != host(next.baseURL) {
		return Settings{}, invalid("the base URL names another host: give the API key " +
			"again")
	}
	switch {
	case !next.enabled:
	case next.baseURL == "" || next.model == "" || next.sealed == "":
		return Settings{}, invalid("the LLM needs a base URL, a model and an API key to be on")
	case next.budget < 1:
		return Settings{}, invalid("the LLM needs a monthly token budget to be on")
	}
	enabled := 0
	if next.enabled {
		enabled = 1
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q.SetSettings, wsID, enabled, next.baseURL,
			next.model, next.sealed, next.last4, next.tone, next.budget); err != nil {
			return fmt.Errorf("llm: save the settings: %w", err)
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.LLMChanged, TargetType: "ai_llm", TargetID: wsID,
			Diff: diff(old, next, c.APIKey != "")})
	})
	if err != nil {
		return Settings{}, err
	}
	return s.Settings(ctx, wsID)
}

// checkFields validates the settings other than the base URL, and a new key
// when one is given.
func checkFields(st stored, key string) error {
	switch {
	case utf8.RuneCountInString(st.model) > maxModel || !printable(st.model, false):
		return invalid("a model name has at most %d characters and no control characters",
			maxModel)
	case utf8.RuneCountInString(st.tone) > maxTone || !printable(st.tone, true):
		return invalid("the tone has at most %d characters and no control characters",
			maxTone)
	case st.budget < 0 || st.budget > maxBudget:
		return invalid("the monthly token budget is 0 to %d", int64(maxBudget))
	}
	if key == "" {
		return nil
	}
	if len(key) < minKey || len(key) > maxKey || strings.ContainsFunc(key, func(r rune) bool {
		return r <= ' ' || r > '~'
	}) {
		return invalid("an API key has %d to %d visible ASCII characters and no spaces",
			minKey, maxKey)
	}
	return nil
}

// printable reports whether text is valid UTF-8 without control characters;
// lines allows line breaks.
func printable(text string, lines bool) bool {
	return utf8.ValidString(text) && !strings.ContainsFunc(text, func(r rune) bool {
		return unicode.IsControl(r) && !(lines && r == '\n')
	})
}

// checkURL validates a base URL and returns it as stored: empty, or https
// (http only to an allowed range), without a user, password or fragment, on a
// host whose every address may be reached.
func (s *Service) checkURL(ctx context.Context, raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil
	}
	if len(raw) > maxURLLen {
		return "", invalid("the base URL is too long")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Opaque != "" || u.Hostname() == "" {
		return "", invalid("the base URL is not a full https URL")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", invalid("the base URL must start with https://")
	}
	if u.User != nil {
		return "", invalid("the base URL may not hold a user name or password; the key " +
			"goes in its own field")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", invalid("the base URL may not hold a query or fragment")
	}
	addrs, err := s.client.guard.Lookup(ctx, u.Hostname())
	if err != nil {
		return "", invalid("the base URL's host does not resolve")
	}
	plain := u.Scheme == "http"
	if err := s.client.guard.Check(addrs, plain); err != nil {
		if plain {
			return "", invalid("the base URL must start with https://, or reach an allowed " +
				"network")
		}
		return "", invalid("the base URL's host is on a network the product may not reach")
	}
	return strings.TrimRight(u.String(), "/"), nil
}

func host(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}

// diff is what a change did, for the audit log: the fields that changed, and
// "replaced" for a new key, never the key.
func diff(old, next stored, newKey bool) audit.Diff {
	d := audit.Diff{}
	if old.enabled != next.enabled {
		d["enabled"] = [2]any{old.enabled, next.enabled}
	}
	for _, f := range []struct {
		name      string
		old, next string
	}{{"base_url", old.baseURL, next.baseURL}, {"model", old.model, next.model},
		{"tone", old.tone, next.tone}} {
		if f.old != f.next {
			d[f.name] = [2]any{f.old, f.next}
		}
	}
	if old.budget != next.budget {
		d["monthly_budget"] = [2]any{old.budget, next.budget}
	}
	if newKey {
		was := any(nil)
		if old.sealed != "" {
			was = "set"
		}
		d["api_key"] = [2]any{was, "replaced"}
	}
	return d
}
