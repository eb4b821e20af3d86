// Package webhook posts a workspace's events to the endpoints its admins add,
// signed the Standard Webhooks way: each request carries webhook-id,
// webhook-timestamp and webhook-signature headers, the last an HMAC-SHA256
// of "id.timestamp.body" under the endpoint's secret.
//
// Endpoints are chosen by admins, so every connection is guarded against
// server-side request forgery: a host that resolves to any loopback, private,
// link-local or otherwise non-public address is refused when the endpoint is
// added and again when each connection is dialled, on the address actually
// dialled, unless an operator allowed its range.
package webhook

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/outbound"
	"github.com/thunaivi/thunaivi/internal/store"
)

//go:embed queries.sql
var queryFiles embed.FS

type queries struct {
	InsertEndpoint   string
	EndpointByID     string
	ListEndpoints    string
	DeleteDeliveries string
	DeleteEndpoint   string
	RotateSecret     string
	Subscribers      string
	InsertDelivery   string
	DueDeliveries    string
	ClaimDelivery    string
	DeliveryToSend   string
	RecordAttempt    string
	ListDeliveries   string
	PruneDeliveries  string
	CountEndpoints   string
}

// Event names what happened, as the payload's type.
type Event string

// The events an endpoint can subscribe to.
const (
	ConversationCreated   Event = "conversation.created"
	MessageCreated        Event = "message.created"
	ConversationAssigned  Event = "conversation.assigned"
	ConversationResolved  Event = "conversation.resolved"
	ConversationEscalated Event = "conversation.escalated"
)

// Events lists every event, for validation and the console.
var Events = []Event{ConversationCreated, MessageCreated, ConversationAssigned,
	ConversationResolved, ConversationEscalated}

// MaxOverlap bounds how long a replaced secret goes on signing.
const MaxOverlap = 7 * 24 * time.Hour

// MaxEndpoints bounds a workspace's endpoints, so that no workspace fills
// the delivery slots with receivers of its own.
const MaxEndpoints = 20

// maxURLLen bounds an endpoint's URL.
const maxURLLen = 2048

// secretPrefix starts a secret as it is shown, as Standard Webhooks does.
const secretPrefix = "whsec_"

// ErrInvalid wraps input a person can correct.
var ErrInvalid = errors.New("invalid")

// Sealer encrypts secrets for storage, so that the database alone does not
// give them away.
type Sealer interface {
	Seal(plain []byte) (string, error)
	Open(sealed string) ([]byte, error)
}

// Resolver looks up a host's addresses; *net.Resolver is one.
type Resolver = outbound.Resolver

// Options adjust where deliveries may go.
type Options struct {
	// Allow lists ranges an operator permits although they are not public,
	// such as a receiver on the same private network. Plain http is allowed
	// only to hosts all of whose addresses fall in these ranges.
	Allow []netip.Prefix
	// Resolver checks hosts; nil is net.DefaultResolver.
	Resolver Resolver
	// Dial, when set, makes connections in place of a net.Dialer, so that a
	// test can see every attempt. It is only ever given an IP address and
	// port that passed the checks.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
}

// Endpoint is a webhook endpoint as the product shows it: never its secret.
type Endpoint struct {
	ID          string    `json:"id"`
	WorkspaceID string    `json:"-"`
	URL         string    `json:"url"`
	Events      []Event   `json:"events"`
	SecretLast4 string    `json:"secret_last4"`
	CreatedAt   time.Time `json:"created_at"`
	// OldSecretUntil is when the secret replaced last stops signing, while
	// it still does.
	OldSecretUntil *time.Time `json:"old_secret_until,omitempty"`
}

// Service keeps endpoints and delivers events to them.
type Service struct {
	db     *store.DB
	q      queries
	now    func() time.Time
	audit  *audit.Log
	sealer Sealer
	guard  outbound.Guard
	// client posts to https URLs, plain to http ones, which may reach only
	// allowed ranges.
	client, plain *http.Client

	// flight counts the attempts under way, in all and by endpoint, so that
	// a slow receiver holds at most perEndpoint of the parallel slots and
	// the others' deliveries go on.
	flight   sync.Mutex
	inFlight int
	byEnd    map[string]int
	sent     sync.WaitGroup
}

// New prepares the service. Secrets are sealed with sealer.
func New(db *store.DB, now func() time.Time, log *audit.Log, sealer Sealer,
	o Options) (*Service, error) {
	if sealer == nil {
		return nil, errors.New("webhook: a sealer is needed to keep secrets")
	}
	s := &Service{db: db, now: now, audit: log, sealer: sealer, guard: newGuard(o)}
	s.client, s.plain = s.guard.Client(false, timeout), s.guard.Client(true, timeout)
	if err := db.LoadQueries(queryFiles, &s.q); err != nil {
		return nil, err
	}
	return s, nil
}

// Create adds an endpoint for a workspace and returns it with its secret,
// the one time the secret is shown.
func (s *Service) Create(ctx context.Context, wsID, rawURL string, events []string) (Endpoint,
	string, error) {
	evs, err := checkEvents(events)
	if err != nil {
		return Endpoint{}, "", err
	}
	u, err := s.checkURL(ctx, rawURL)
	if err != nil {
		return Endpoint{}, "", err
	}
	var n int
	if err := s.db.QueryRowContext(ctx, s.q.CountEndpoints, wsID).Scan(&n); err != nil {
		return Endpoint{}, "", fmt.Errorf("webhook: count endpoints: %w", err)
	}
	if n >= MaxEndpoints {
		return Endpoint{}, "", fmt.Errorf("webhook: %w: a workspace has at most %d endpoints",
			ErrInvalid, MaxEndpoints)
	}
	secret, sealed, err := s.newSecret()
	if err != nil {
		return Endpoint{}, "", err
	}
	created := s.now().UTC().Truncate(time.Millisecond)
	e := Endpoint{ID: store.NewID("wh"), WorkspaceID: wsID, URL: u, Events: evs,
		SecretLast4: last4(secret), CreatedAt: created}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q.InsertEndpoint, e.ID, wsID, u, joinEvents(evs),
			sealed, e.SecretLast4, created.UnixMilli()); err != nil {
			return fmt.Errorf("webhook: create: %w", err)
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.WebhookCreated, TargetType: "webhook", TargetID: e.ID,
			Diff: audit.Diff{"url": {nil, withoutQuery(u)}, "events": {nil, evs}}})
	})
	if err != nil {
		return Endpoint{}, "", err
	}
	return e, secret, nil
}

// List returns a workspace's endpoints, newest first.
func (s *Service) List(ctx context.Context, wsID string) ([]Endpoint, error) {
	rows, err := s.db.QueryContext(ctx, s.q.ListEndpoints, wsID)
	if err != nil {
		return nil, fmt.Errorf("webhook: list: %w", err)
	}
	defer rows.Close()
	now := s.now()
	out := []Endpoint{}
	for rows.Next() {
		e, err := scanEndpoint(rows, now)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Delete removes an endpoint and its deliveries, sent or not.
func (s *Service) Delete(ctx context.Context, wsID, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		e, err := scanEndpoint(tx.QueryRowContext(ctx, s.q.EndpointByID, wsID, id), s.now())
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q.DeleteDeliveries, wsID, id); err != nil {
			return fmt.Errorf("webhook: delete deliveries: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.q.DeleteEndpoint, wsID, id); err != nil {
			return fmt.Errorf("webhook: delete: %w", err)
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.WebhookDeleted, TargetType: "webhook", TargetID: id,
			Diff: audit.Diff{"url": {e.URL, nil}}})
	})
}

// RotateSecret gives an endpoint a new secret and returns it, shown this
// once. The secret it replaces goes on signing, as a second signature, for
// overlap (0 to 7 days), so that receivers can switch without missing a
// delivery. A secret replaced earlier stops signing at once.
func (s *Service) RotateSecret(ctx context.Context, wsID, id string,
	overlap time.Duration) (string, error) {
	if overlap < 0 || overlap > MaxOverlap {
		return "", fmt.Errorf("webhook: %w: the overlap is 0 to 7 days", ErrInvalid)
	}
	secret, sealed, err := s.newSecret()
	if err != nil {
		return "", err
	}
	until := s.now().Add(overlap)
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, s.q.RotateSecret, until.UnixMilli(), sealed,
			last4(secret), wsID, id)
		if err != nil {
			return fmt.Errorf("webhook: rotate secret: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return store.ErrNotFound
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.WebhookSecretRotated, TargetType: "webhook", TargetID: id,
			Diff: audit.Diff{"overlap_ends": {nil, until.UTC()}}})
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// newSecret makes a secret, as shown, and its sealed form.
func (s *Service) newSecret() (string, string, error) {
	b := make([]byte, 24)
	rand.Read(b)
	sealed, err := s.sealer.Seal(b)
	if err != nil {
		return "", "", fmt.Errorf("webhook: seal the secret: %w", err)
	}
	return secretPrefix + base64.StdEncoding.EncodeToString(b), sealed, nil
}

// DecodeSecret reads a secret as shown ("whsec_" and base64) into the bytes
// that sign.
func DecodeSecret(secret string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, secretPrefix))
	if err != nil || len(b) == 0 {
		return nil, errors.New("webhook: the secret is not a webhook secret")
	}
	return b, nil
}

func last4(secret string) string { return secret[len(secret)-4:] }

// checkEvents validates the events an endpoint subscribes to.
func checkEvents(events []string) ([]Event, error) {
	var out []Event
	for _, ev := range events {
		if !slices.Contains(Events, Event(ev)) {
			return nil, fmt.Errorf("webhook: %w: %q is not an event", ErrInvalid, ev)
		}
		if !slices.Contains(out, Event(ev)) {
			out = append(out, Event(ev))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("webhook: %w: an endpoint needs at least one event", ErrInvalid)
	}
	return out, nil
}

// checkURL validates an endpoint's URL and returns it as stored: https, or
// http to an allowed range; no user or password; a host whose every address
// may be reached.
func (s *Service) checkURL(ctx context.Context, raw string) (string, error) {
	bad := func(msg string) error { return fmt.Errorf("webhook: %w: %s", ErrInvalid, msg) }
	if len(raw) > maxURLLen {
		return "", bad("the URL is too long")
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || !u.IsAbs() || u.Opaque != "" || u.Hostname() == "" {
		return "", bad("the URL is not a full http or https URL")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", bad("the URL must start with https://")
	}
	if u.User != nil {
		return "", bad("the URL may not hold a user name or password")
	}
	u.Fragment, u.RawFragment = "", ""
	addrs, err := s.guard.Lookup(ctx, u.Hostname())
	if err != nil {
		return "", bad("the URL's host does not resolve")
	}
	plain := u.Scheme == "http"
	if err := s.guard.Check(addrs, plain); err != nil {
		if plain {
			return "", bad("the URL must start with https://, or reach an allowed network")
		}
		return "", bad("the URL's host is on a network webhooks may not reach")
	}
	return u.String(), nil
}

func joinEvents(evs []Event) string {
	s := make([]string, len(evs))
	for i, ev := range evs {
		s[i] = string(ev)
	}
	return strings.Join(s, ",")
}

func splitEvents(s string) []Event {
	out := []Event{}
	for ev := range strings.SplitSeq(s, ",") {
		if ev != "" {
			out = append(out, Event(ev))
		}
	}
	return out
}

func scanEndpoint(row interface{ Scan(...any) error }, now time.Time) (Endpoint, error) {
	var e Endpoint
	var events string
	var oldUntil, created int64
	err := row.Scan(&e.ID, &e.WorkspaceID, &e.URL, &events, &e.SecretLast4, &oldUntil,
		&created)
	if errors.Is(err, sql.ErrNoRows) {
		return Endpoint{}, store.ErrNotFound
	}
	if err != nil {
		return Endpoint{}, fmt.Errorf("webhook: load: %w", err)
	}
	e.Events = splitEvents(events)
	e.CreatedAt = time.UnixMilli(created).UTC()
	if oldUntil > now.UnixMilli() {
		t := time.UnixMilli(oldUntil).UTC()
		e.OldSecretUntil = &t
	}
	return e, nil
}

// withoutQuery is an endpoint's URL as the audit log keeps it: without its
// query, which may carry the receiver's token.
func withoutQuery(raw string) string {
	scheme, rest, _ := strings.Cut(raw, "://")
	rest, _, _ = strings.Cut(rest, "?")
	return scheme + "://" + rest
}
