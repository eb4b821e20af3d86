package webhook_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/audit/audittest"
	"github.com/thunaivi/thunaivi/internal/clocktest"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/webhook"
)

// sealer seals with AES-256-GCM under a key made for the test.
type sealer struct{ aead cipher.AEAD }

func newSealer(t *testing.T) *sealer {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return &sealer{aead: aead}
}

func (s *sealer) Seal(plain []byte) (string, error) {
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	return base64.StdEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, nil)), nil
}

func (s *sealer) Open(sealed string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(b) < s.aead.NonceSize() {
		return nil, errors.New("test sealer: damaged")
	}
	return s.aead.Open(nil, b[:s.aead.NonceSize()], b[s.aead.NonceSize():], nil)
}

// resolver answers from names the test sets, and changes, as DNS might.
type resolver struct {
	mu    sync.Mutex
	hosts map[string][]netip.Addr
}

func (r *resolver) set(host string, addrs ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hosts[host] = nil
	for _, a := range addrs {
		r.hosts[host] = append(r.hosts[host], netip.MustParseAddr(a))
	}
}

func (r *resolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if addrs, ok := r.hosts[host]; ok {
		return addrs, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// dials records every connection the service attempts, and makes only
// those to loopback: were a check broken, a test would see the attempt,
// and still send nothing beyond this machine.
type dials struct {
	mu   sync.Mutex
	seen []string
}

func (d *dials) dial(ctx context.Context, network, address string) (net.Conn, error) {
	d.mu.Lock()
	d.seen = append(d.seen, address)
	d.mu.Unlock()
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !ap.Addr().IsLoopback() {
		return nil, fmt.Errorf("test: no connection beyond loopback (%s)", address)
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, address)
}

func (d *dials) list() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.seen...)
}

type fixture struct {
	db       *store.DB
	s        *webhook.Service
	log      *audit.Log
	clock    *clocktest.Clock
	sealer   *sealer
	resolver *resolver
	dials    *dials
	opts     webhook.Options
	ws       string
}

var ctx = context.Background()

// newFixture opens the service on db for a new workspace, allowing the
// ranges given.
func newFixture(t *testing.T, db *store.DB, allow ...string) *fixture {
	t.Helper()
	f := &fixture{db: db, ws: "ws_hooks", sealer: newSealer(t), dials: &dials{},
		clock:    clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)),
		resolver: &resolver{hosts: map[string][]netip.Addr{}}}
	if _, err := db.ExecContext(ctx, db.Rebind(
		"INSERT INTO workspaces (id, name, created_at) VALUES (?, ?, ?)"),
		f.ws, "Hooks", 1); err != nil {
		t.Fatal(err)
	}
	for _, p := range allow {
		f.opts.Allow = append(f.opts.Allow, netip.MustParsePrefix(p))
	}
	f.opts.Resolver, f.opts.Dial = f.resolver, f.dials.dial
	f.log = audittest.New(t, db, f.clock.Now)
	f.s = f.node(t)
	return f
}

// node opens another service on the same database, as a second node would.
func (f *fixture) node(t *testing.T) *webhook.Service {
	t.Helper()
	s, err := webhook.New(f.db, f.clock.Now, f.log, f.sealer, f.opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *fixture) create(t *testing.T, u string, events ...webhook.Event) (webhook.Endpoint,
	string) {
	t.Helper()
	var names []string
	for _, ev := range events {
		names = append(names, string(ev))
	}
	e, secret, err := f.s.Create(ctx, f.ws, u, names)
	if err != nil {
		t.Fatalf("create %s: %v", u, err)
	}
	return e, secret
}

// deliver queues an event and makes the attempts due.
func (f *fixture) deliver(t *testing.T, ev webhook.Event) int {
	t.Helper()
	if err := f.s.Emit(ctx, f.ws, ev, map[string]string{"conversation_id": "cv_1"}); err != nil {
		t.Fatal(err)
	}
	n, err := f.s.DeliverDue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) deliveries(t *testing.T, endpointID string) []webhook.Delivery {
	t.Helper()
	ds, err := f.s.Deliveries(ctx, f.ws, endpointID, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func (f *fixture) actions(t *testing.T) []audit.Action {
	t.Helper()
	entries, err := f.log.List(ctx, audit.Filter{Workspace: f.ws, Action: "webhook"})
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Action
	for _, e := range entries {
		out = append(out, e.Action)
	}
	return out
}

func decode(t *testing.T, secret string) []byte {
	t.Helper()
	b, err := webhook.DecodeSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// received is a request as a receiver got it.
type received struct {
	header http.Header
	body   []byte
}

// receiver is an endpoint on 127.0.0.1 that answers every request with a
// status and keeps what it got.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []received
	seen chan struct{}
}

func newReceiver(t *testing.T, status int) *receiver {
	t.Helper()
	r := &receiver{seen: make(chan struct{}, 100)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter,
		req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{header: req.Header.Clone(), body: body})
		r.mu.Unlock()
		w.WriteHeader(status)
		r.seen <- struct{}{}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// port is the receiver's port, to reach it under another name.
func (r *receiver) port(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(r.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}
