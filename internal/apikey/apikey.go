package apikey

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/origin"
	"github.com/thunaivi/thunaivi/internal/store"
)

//go:embed queries.sql
var queryFiles embed.FS

type queries struct {
	InsertKey string
	KeyByHash string
	KeyByID   string
	ListKeys  string
	RevokeKey string
	RollKey   string
	TouchKey  string
	UpdateKey string
}

// Scope names what a key may do. A key holds none unless given.
type Scope string

// The scopes.
const (
	ConversationsRead  Scope = "conversations:read"
	ConversationsWrite Scope = "conversations:write"
	MessagesWrite      Scope = "messages:write"
	ContactsRead       Scope = "contacts:read"
	ContactsWrite      Scope = "contacts:write"
	KBRead             Scope = "kb:read"
	KBWrite            Scope = "kb:write"
	ReportsRead        Scope = "reports:read"
	WebhooksWrite      Scope = "webhooks:write"
)

// Scopes lists every scope, for validation and the console.
var Scopes = []Scope{ConversationsRead, ConversationsWrite, MessagesWrite, ContactsRead,
	ContactsWrite, KBRead, KBWrite, ReportsRead, WebhooksWrite}

// Lifetimes and limits.
const (
	DefaultLifetime  = 90 * 24 * time.Hour
	MaxLifetime      = 365 * 24 * time.Hour
	MaxOverlap       = 7 * 24 * time.Hour
	RotationDue      = 60 * 24 * time.Hour
	expiringWithin   = 14 * 24 * time.Hour
	DefaultRateLimit = 600
	MaxRateLimit     = 1_000_000
	touchEvery       = time.Minute
)

// Errors. ErrInvalid wraps input a person can correct; ErrUnknown is any key
// that does not open: unknown, revoked or expired alike; ErrAddress is a key
// used from outside its allowed ranges.
var (
	ErrInvalid = errors.New("invalid")
	ErrUnknown = errors.New("apikey: the key is not valid")
	ErrAddress = errors.New("apikey: the key may not be used from this address")
)

// Key is an API key as the product shows it: never the key itself.
type Key struct {
	ID          string         `json:"id"`
	WorkspaceID string         `json:"-"`
	Name        string         `json:"name"`
	CreatedBy   string         `json:"created_by"`
	Last4       string         `json:"last4"`
	Scopes      []Scope        `json:"scopes"`
	AllowedIPs  []netip.Prefix `json:"allowed_ips"`
	// RateLimit is requests a minute.
	RateLimit     int        `json:"rate_limit"`
	CreatedAt     time.Time  `json:"created_at"`
	ExpiresAt     time.Time  `json:"expires_at"`
	RevokedAt     *time.Time `json:"revoked_at,omitempty"`
	RevokedReason string     `json:"revoked_reason,omitempty"`
	// RolledTo names the key that replaced this one.
	RolledTo   string     `json:"rolled_to,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	LastUsedIP string     `json:"last_used_ip,omitempty"`
	// Status is active, expiring (within 14 days, or rolled), expired or
	// revoked.
	Status string `json:"status"`
	// RotationDue is set on a live key older than 60 days.
	RotationDue bool `json:"rotation_due"`
}

// Has reports whether the key holds a scope.
func (k Key) Has(s Scope) bool { return slices.Contains(k.Scopes, s) }

// Spec is what a new key is made with.
type Spec struct {
	Name       string   `json:"name"`
	Scopes     []string `json:"scopes"`
	AllowedIPs []string `json:"allowed_ips"`
	RateLimit  int      `json:"rate_limit"`
	// ExpiresInDays is the key's lifetime; 0 is 90 days, at most 365.
	ExpiresInDays int `json:"expires_in_days"`
}

// Service keeps API keys.
type Service struct {
	db     *store.DB
	q      queries
	now    func() time.Time
	audit  *audit.Log
	pepper []byte
	usage  *audit.Usage
	// Leaked, when set, is told of each live key found leaked and revoked,
	// so that the workspace's admins are alerted.
	Leaked func(ctx context.Context, k Key, why string)
}

// New prepares the service. pepper keys the stored hashes; it must live
// outside the database.
func New(db *store.DB, now func() time.Time, log *audit.Log, pepper []byte) (*Service, error) {
	if len(pepper) < 32 {
		return nil, errors.New("apikey: the pepper must hold at least 32 bytes")
	}
	s := &Service{db: db, now: now, audit: log, pepper: pepper, usage: audit.NewUsage(log)}
	if err := db.LoadQueries(queryFiles, &s.q); err != nil {
		return nil, err
	}
	return s, nil
}

// check validates a spec and returns its stored form.
func (sp Spec) check() (scopes, ips string, lifetime time.Duration, rate int, err error) {
	bad := func(msg string) error { return fmt.Errorf("apikey: %w: %s", ErrInvalid, msg) }
	name := strings.TrimSpace(sp.Name)
	if name == "" || utf8.RuneCountInString(name) > 100 || !utf8.ValidString(name) ||
		strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return "", "", 0, 0, bad("a key needs a name of at most 100 characters")
	}
	if len(Find(name)) > 0 || strings.ContainsFunc(name, func(r rune) bool {
		return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
	}) {
		return "", "", 0, 0, bad("a key's name may not hold a key or text-direction marks")
	}
	var clean []string
	for _, sc := range sp.Scopes {
		if !slices.Contains(Scopes, Scope(sc)) {
			return "", "", 0, 0, bad(fmt.Sprintf("%q is not a scope", sc))
		}
		if !slices.Contains(clean, sc) {
			clean = append(clean, sc)
		}
	}
	var ranges []string
	for _, ip := range sp.AllowedIPs {
		p, err := parseRange(ip)
		if err != nil {
			return "", "", 0, 0, bad(fmt.Sprintf("%q is not an address or CIDR range", ip))
		}
		ranges = append(ranges, p.String())
	}
	if len(ranges) > 50 {
		return "", "", 0, 0, bad("at most 50 address ranges")
	}
	lifetime = time.Duration(sp.ExpiresInDays) * 24 * time.Hour
	switch {
	case sp.ExpiresInDays == 0:
		lifetime = DefaultLifetime
	case sp.ExpiresInDays < 0 || sp.ExpiresInDays > int(MaxLifetime/(24*time.Hour)):
		return "", "", 0, 0, bad("a key expires within 1 to 365 days")
	}
	rate = sp.RateLimit
	switch {
	case rate == 0:
		rate = DefaultRateLimit
	case rate < 1 || rate > MaxRateLimit:
		return "", "", 0, 0, bad(fmt.Sprintf("the rate limit is 1 to %d requests a minute",
			MaxRateLimit))
	}
	return strings.Join(clean, ","), strings.Join(ranges, ","), lifetime, rate, nil
}

// parseRange reads an address or a CIDR range.
func parseRange(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// Create makes a key for a workspace and returns it, with the key itself:
// the one time it is shown.
func (s *Service) Create(ctx context.Context, wsID, byUserID string, sp Spec) (Key, string,
	error) {
	var k Key
	var secret string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		k, secret, err = s.create(ctx, tx, wsID, byUserID, sp)
		if err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID, Action: audit.APIKeyCreated,
			TargetType: "apikey", TargetID: k.ID, Diff: audit.Diff{"name": {nil, k.Name},
				"scopes": {nil, k.Scopes}, "expires_at": {nil, k.ExpiresAt}}})
	})
	return k, secret, err
}

func (s *Service) create(ctx context.Context, tx *store.Tx, wsID, byUserID string,
	sp Spec) (Key, string, error) {
	scopes, ips, lifetime, rate, err := sp.check()
	if err != nil {
		return Key{}, "", err
	}
	secret := Generate()
	now := s.now()
	id := store.NewID("key")
	if _, err := tx.ExecContext(ctx, s.q.InsertKey, id, wsID, strings.TrimSpace(sp.Name),
		byUserID, Hash(s.pepper, secret), secret[len(secret)-4:], scopes, ips, rate,
		now.UnixMilli(), now.Add(lifetime).UnixMilli()); err != nil {
		return Key{}, "", fmt.Errorf("apikey: create: %w", err)
	}
	k, err := s.scan(tx.QueryRowContext(ctx, s.q.KeyByID, wsID, id))
	return k, secret, err
}

// List returns a workspace's keys, newest first.
func (s *Service) List(ctx context.Context, wsID string) ([]Key, error) {
	rows, err := s.db.QueryContext(ctx, s.q.ListKeys, wsID)
	if err != nil {
		return nil, fmt.Errorf("apikey: list: %w", err)
	}
	defer rows.Close()
	out := []Key{}
	for rows.Next() {
		k, err := s.scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// Revoke ends a key at once, on every node: each request reads the key.
func (s *Service) Revoke(ctx context.Context, wsID, id, reason string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		return s.revoke(ctx, tx, wsID, id, reason)
	})
}

func (s *Service) revoke(ctx context.Context, tx *store.Tx, wsID, id, reason string) error {
	if reason == "" {
		reason = "revoked by an admin"
	}
	res, err := tx.ExecContext(ctx, s.q.RevokeKey, s.now().UnixMilli(), clip(reason, 200),
		wsID, id)
	if err != nil {
		return fmt.Errorf("apikey: revoke: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return store.ErrNotFound
	}
	return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID, Action: audit.APIKeyRevoked,
		TargetType: "apikey", TargetID: id, Reason: clip(reason, 200)})
}

// Change is what Update may change of a key: its name, scopes, allowed
// addresses and rate; a nil field stays as it is. The key itself and its
// expiry never change: roll it for a new one.
type Change struct {
	Name       *string   `json:"name"`
	Scopes     *[]string `json:"scopes"`
	AllowedIPs *[]string `json:"allowed_ips"`
	RateLimit  *int      `json:"rate_limit"`
}

// Update changes a live key's name, scopes, allowed addresses or rate, at
// once on every node, and audits the old and new values.
func (s *Service) Update(ctx context.Context, wsID, id string, ch Change) (Key, error) {
	var k Key
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		old, err := s.scan(tx.QueryRowContext(ctx, s.q.KeyByID, wsID, id))
		if err != nil {
			return err
		}
		if old.Status == "revoked" || old.Status == "expired" {
			return store.ErrNotFound
		}
		sp := Spec{Name: old.Name, RateLimit: old.RateLimit, ExpiresInDays: 1}
		for _, sc := range old.Scopes {
			sp.Scopes = append(sp.Scopes, string(sc))
		}
		for _, p := range old.AllowedIPs {
			sp.AllowedIPs = append(sp.AllowedIPs, p.String())
		}
		if ch.Name != nil {
			sp.Name = *ch.Name
		}
		if ch.Scopes != nil {
			sp.Scopes = *ch.Scopes
		}
		if ch.AllowedIPs != nil {
			sp.AllowedIPs = *ch.AllowedIPs
		}
		if ch.RateLimit != nil {
			sp.RateLimit = *ch.RateLimit
		}
		scopes, ips, _, rate, err := sp.check()
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q.UpdateKey, strings.TrimSpace(sp.Name), scopes, ips,
			rate, wsID, id); err != nil {
			return fmt.Errorf("apikey: update: %w", err)
		}
		if k, err = s.scan(tx.QueryRowContext(ctx, s.q.KeyByID, wsID, id)); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID, Action: audit.APIKeyUpdated,
			TargetType: "apikey", TargetID: id, Diff: audit.Diff{
				"name": {old.Name, k.Name}, "scopes": {old.Scopes, k.Scopes},
				"allowed_ips": {old.AllowedIPs, k.AllowedIPs},
				"rate_limit":  {old.RateLimit, k.RateLimit}}})
	})
	return k, err
}

// Roll issues a key like the one named, and lets the old one live for
// overlap (0 to 7 days) before it stops working. It returns the new key,
// shown this once.
func (s *Service) Roll(ctx context.Context, wsID, id, byUserID string,
	overlap time.Duration) (Key, string, error) {
	if overlap < 0 || overlap > MaxOverlap {
		return Key{}, "", fmt.Errorf("apikey: %w: the overlap is 0 to 7 days", ErrInvalid)
	}
	var k Key
	var secret string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		old, err := s.scan(tx.QueryRowContext(ctx, s.q.KeyByID, wsID, id))
		if err != nil {
			return err
		}
		sp := Spec{Name: old.Name, RateLimit: old.RateLimit,
			ExpiresInDays: int(old.ExpiresAt.Sub(old.CreatedAt).Hours()/24 + 0.5)}
		for _, sc := range old.Scopes {
			sp.Scopes = append(sp.Scopes, string(sc))
		}
		for _, p := range old.AllowedIPs {
			sp.AllowedIPs = append(sp.AllowedIPs, p.String())
		}
		if k, secret, err = s.create(ctx, tx, wsID, byUserID, sp); err != nil {
			return err
		}
		now := s.now()
		end := now.Add(overlap).UnixMilli()
		res, err := tx.ExecContext(ctx, s.q.RollKey, k.ID, end, end, wsID, id, now.UnixMilli())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("apikey: %w: only a live key that was not rolled yet rolls",
				ErrInvalid)
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID, Action: audit.APIKeyRolled,
			TargetType: "apikey", TargetID: id, Diff: audit.Diff{"rolled_to": {nil, k.ID},
				"old_key_ends": {old.ExpiresAt, time.UnixMilli(end).UTC()}}})
	})
	return k, secret, err
}

// Authenticate returns the live key secret names, used from ip. An unknown,
// revoked or expired key is ErrUnknown; an address outside the key's ranges
// is ErrAddress. Its use is recorded.
func (s *Service) Authenticate(ctx context.Context, secret, ip string) (Key, error) {
	if !Valid(secret) {
		return Key{}, ErrUnknown
	}
	k, err := s.scan(s.db.QueryRowContext(ctx, s.q.KeyByHash, Hash(s.pepper, secret)))
	if errors.Is(err, store.ErrNotFound) || err == nil && k.Status == "revoked" ||
		err == nil && k.Status == "expired" {
		return Key{}, ErrUnknown
	}
	if err != nil {
		return Key{}, err
	}
	if len(k.AllowedIPs) > 0 {
		addr, err := netip.ParseAddr(ip)
		if err != nil || !slices.ContainsFunc(k.AllowedIPs, func(p netip.Prefix) bool {
			return p.Contains(addr.Unmap())
		}) {
			return Key{}, ErrAddress
		}
	}
	now := s.now()
	if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) > touchEvery || k.LastUsedIP != ip {
		if _, err := s.db.ExecContext(ctx, s.q.TouchKey, now.UnixMilli(), ip,
			k.ID); err != nil {
			return Key{}, fmt.Errorf("apikey: record use: %w", err)
		}
	}
	if err := s.usage.Used(ctx, k.WorkspaceID, k.ID); err != nil {
		return Key{}, err
	}
	return k, nil
}

// RevokeFound revokes every live key found in text, in whatever workspace,
// as leaked, with why saying where it was found, and returns how many. It
// tells nothing of which keys existed: callers answer the same either way.
func (s *Service) RevokeFound(ctx context.Context, text, why string) (int, error) {
	n := 0
	for _, secret := range Find(text) {
		k, err := s.scan(s.db.QueryRowContext(ctx, s.q.KeyByHash, Hash(s.pepper, secret)))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return n, err
		}
		if k.Status == "revoked" {
			continue
		}
		err = s.db.InTx(ctx, func(tx *store.Tx) error {
			ctx := origin.WithActor(ctx, origin.Actor{Type: origin.System})
			if err := s.revoke(ctx, tx, k.WorkspaceID, k.ID, "leaked: "+why); err != nil {
				return err
			}
			return s.audit.Record(ctx, tx, audit.Event{Workspace: k.WorkspaceID,
				Action: audit.APIKeyLeaked, TargetType: "apikey", TargetID: k.ID, Reason: why})
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return n, err
		}
		if err == nil && s.Leaked != nil {
			s.Leaked(ctx, k, why)
		}
		n++
	}
	return n, nil
}

func (s *Service) scan(row interface{ Scan(...any) error }) (Key, error) {
	var k Key
	var scopes, ips string
	var created, expires int64
	var revoked, used sql.NullInt64
	err := row.Scan(&k.ID, &k.WorkspaceID, &k.Name, &k.CreatedBy, &k.Last4, &scopes, &ips,
		&k.RateLimit, &created, &expires, &revoked, &k.RevokedReason, &k.RolledTo, &used,
		&k.LastUsedIP)
	if errors.Is(err, sql.ErrNoRows) {
		return Key{}, store.ErrNotFound
	}
	if err != nil {
		return Key{}, fmt.Errorf("apikey: load: %w", err)
	}
	k.Scopes = []Scope{}
	for _, sc := range strings.Split(scopes, ",") {
		if sc != "" {
			k.Scopes = append(k.Scopes, Scope(sc))
		}
	}
	k.AllowedIPs = []netip.Prefix{}
	for _, ip := range strings.Split(ips, ",") {
		if p, err := netip.ParsePrefix(ip); err == nil {
			k.AllowedIPs = append(k.AllowedIPs, p)
		}
	}
	k.CreatedAt, k.ExpiresAt = time.UnixMilli(created).UTC(), time.UnixMilli(expires).UTC()
	if revoked.Valid {
		t := time.UnixMilli(revoked.Int64).UTC()
		k.RevokedAt = &t
	}
	if used.Valid {
		t := time.UnixMilli(used.Int64).UTC()
		k.LastUsedAt = &t
	}
	now := s.now()
	switch {
	case k.RevokedAt != nil:
		k.Status = "revoked"
	case !now.Before(k.ExpiresAt):
		k.Status = "expired"
	case k.RolledTo != "" || k.ExpiresAt.Sub(now) < expiringWithin:
		k.Status = "expiring"
	default:
		k.Status = "active"
		k.RotationDue = now.Sub(k.CreatedAt) > RotationDue
	}
	return k, nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
