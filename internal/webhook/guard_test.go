package webhook_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"github.com/thunaivi/thunaivi/internal/webhook"
)

func TestCreateRefusesNonPublicTargets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.resolver.set("metadata.example", "169.254.169.254")
		f.resolver.set("internal.example", "10.0.0.1")
		f.resolver.set("mixed.example", "203.0.113.7", "10.0.0.1")
		f.resolver.set("mapped.example", "::ffff:169.254.169.254")
		f.resolver.set("nat64.example", "64:ff9b::a00:1")
		for _, u := range []string{
			"http://169.254.169.254/latest/meta-data/",
			"https://169.254.169.254/latest/meta-data/",
			"http://10.0.0.1/",
			"https://10.0.0.1/",
			"https://172.16.5.4/",
			"https://192.168.1.1/",
			"https://[::1]/",
			"https://127.0.0.1/",
			"https://[::ffff:127.0.0.1]/",
			"https://[::ffff:a9fe:a9fe]/",
			"https://0.0.0.0/",
			"https://0.1.2.3/",
			"https://100.64.0.1/",
			"https://[::ffff:100.64.0.1]/",
			"https://[2606:4700::1%25lo]/",
			"https://[fd00::1]/",
			"https://[fe80::1]/",
			"https://[fe80::1%25eth0]/",
			"https://224.0.0.1/",
			"https://[::]/",
			"https://metadata.example/",
			"https://internal.example/",
			"https://mixed.example/",
			"https://mapped.example/",
			"https://nat64.example/",
			"https://unknown.example/",
		} {
			t.Run(u, func(t *testing.T) {
				_, _, err := f.s.Create(ctx, f.ws, u, []string{"message.created"})
				if !errors.Is(err, webhook.ErrInvalid) {
					t.Fatalf("got %v", err)
				}
			})
		}
		if list, _ := f.s.List(ctx, f.ws); len(list) != 0 {
			t.Errorf("endpoints were made: %+v", list)
		}
		if seen := f.dials.list(); len(seen) != 0 {
			t.Errorf("connections were attempted: %v", seen)
		}
	})
}

// TestDeliveryRefusesNonPublicTargets has a name first resolve to the
// allowed receiver and then elsewhere, as DNS rebinding does, or changes the
// stored URL behind the service's back: each delivery is refused before any
// connection is attempted.
func TestDeliveryRefusesNonPublicTargets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "127.0.0.0/8")
		rcv := newReceiver(t, http.StatusOK)
		port := rcv.port(t)
		setURL := db.Rebind("UPDATE webhook_endpoints SET url = ? WHERE id = ?")
		for _, c := range []struct {
			name, url string
			addrs     []string
			stored    string
		}{
			{name: "rebound to the metadata address", url: "https://hook.example:" + port,
				addrs: []string{"169.254.169.254"}},
			{name: "rebound to a private address", url: "https://hook.example:" + port,
				addrs: []string{"10.0.0.1"}},
			{name: "rebound to an IPv4-mapped private address",
				url: "https://hook.example:" + port, addrs: []string{"::ffff:10.0.0.1"}},
			{name: "one address of two rebound", url: "https://hook.example:" + port,
				addrs: []string{"127.0.0.1", "10.0.0.1"}},
			{name: "plain http rebound to a public address",
				url: "http://hook.example:" + port, addrs: []string{"203.0.113.7"}},
			{name: "the stored URL names the metadata address", url: rcv.URL,
				stored: "http://169.254.169.254/latest/meta-data/"},
			{name: "the stored URL names a private address", url: rcv.URL,
				stored: "https://10.0.0.1/"},
		} {
			t.Run(c.name, func(t *testing.T) {
				f.resolver.set("hook.example", "127.0.0.1")
				ep, _ := f.create(t, c.url, webhook.MessageCreated)
				defer f.s.Delete(ctx, f.ws, ep.ID)
				if c.addrs != nil {
					f.resolver.set("hook.example", c.addrs...)
				}
				if c.stored != "" {
					if _, err := db.ExecContext(ctx, setURL, c.stored, ep.ID); err != nil {
						t.Fatal(err)
					}
				}
				if n := f.deliver(t, webhook.MessageCreated); n != 1 {
					t.Fatalf("%d attempts", n)
				}
				if seen := f.dials.list(); len(seen) != 0 {
					t.Fatalf("connections were attempted: %v", seen)
				}
				d := f.deliveries(t, ep.ID)[0]
				if d.Status != webhook.Pending || d.LastStatus != 0 ||
					!strings.Contains(d.LastError, "may not reach") {
					t.Fatalf("delivery %+v", d)
				}
			})
		}
		if n := len(rcv.requests()); n != 0 {
			t.Fatalf("the receiver got %d requests", n)
		}

		// The same name, resolving to the allowed receiver again, is reached:
		// the checks above refused the addresses, not every connection.
		f.resolver.set("hook.example", "127.0.0.1")
		f.create(t, "https://hook.example:"+port, webhook.MessageCreated)
		f.deliver(t, webhook.MessageCreated)
		if seen := f.dials.list(); !slices.Equal(seen, []string{"127.0.0.1:" + port}) {
			t.Fatalf("connections attempted: %v", seen)
		}
	})
}

func TestCreateValidates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "127.0.0.0/8")
		f.resolver.set("public.example", "203.0.113.7")
		for _, c := range []struct {
			name, url string
			events    []string
		}{
			{"plain http to a public host", "http://public.example/hook", nil},
			{"another scheme", "ftp://public.example/hook", nil},
			{"a user and password", "https://user:pw@public.example/hook", nil},
			{"a user", "https://user@public.example/hook", nil},
			{"an empty user", "https://@public.example/hook", nil},
			{"no scheme", "public.example/hook", nil},
			{"no host", "https:///hook", nil},
			{"an opaque URL", "https:public.example", nil},
			{"too long", "https://public.example/" + strings.Repeat("a", 2048), nil},
			{"an unknown event", "https://public.example/hook", []string{"message.deleted"}},
			{"no event", "https://public.example/hook", []string{}},
		} {
			t.Run(c.name, func(t *testing.T) {
				events := c.events
				if events == nil {
					events = []string{"message.created"}
				}
				if _, _, err := f.s.Create(ctx, f.ws, c.url, events); !errors.Is(err,
					webhook.ErrInvalid) {
					t.Fatalf("got %v", err)
				}
			})
		}
		for _, c := range []struct{ name, url, stored string }{
			{"https to a public host", "https://public.example/hook?token=x#frag",
				"https://public.example/hook?token=x"},
			{"plain http to an allowed range", "http://127.0.0.1:9/hook",
				"http://127.0.0.1:9/hook"},
		} {
			t.Run(c.name, func(t *testing.T) {
				e, secret, err := f.s.Create(ctx, f.ws, c.url,
					[]string{"message.created", "conversation.created", "message.created"})
				if err != nil {
					t.Fatal(err)
				}
				want := []webhook.Event{webhook.MessageCreated, webhook.ConversationCreated}
				if e.URL != c.stored || !slices.Equal(e.Events, want) ||
					!strings.HasPrefix(secret, "whsec_") ||
					e.SecretLast4 != secret[len(secret)-4:] {
					t.Fatalf("endpoint %+v, secret %s", e, secret)
				}
			})
		}
		if seen := f.dials.list(); len(seen) != 0 {
			t.Errorf("creating endpoints connected: %v", seen)
		}
	})
}
