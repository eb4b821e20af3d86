package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"github.com/thunaivi/thunaivi/internal/webhook"
)

func TestDeliveryIsSignedAndVerifies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "127.0.0.0/8")
		rcv := newReceiver(t, http.StatusOK)
		ep, shown := f.create(t, rcv.URL+"/hooks", webhook.MessageCreated)
		if err := f.s.Emit(ctx, f.ws, webhook.ConversationResolved, nil); err != nil {
			t.Fatal(err)
		}
		if n := f.deliver(t, webhook.MessageCreated); n != 1 {
			t.Fatalf("%d attempts, want 1: only the event subscribed to is sent", n)
		}
		got := rcv.requests()
		if len(got) != 1 {
			t.Fatalf("the receiver got %d requests", len(got))
		}
		r := got[0]
		secret := decode(t, shown)
		now := f.clock.Now()
		if err := webhook.Verify([][]byte{secret}, r.header, r.body, now,
			5*time.Minute); err != nil {
			t.Fatalf("the delivery does not verify: %v", err)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		var p struct {
			Type      string            `json:"type"`
			Timestamp time.Time         `json:"timestamp"`
			Data      map[string]string `json:"data"`
		}
		if err := json.Unmarshal(r.body, &p); err != nil || p.Type != "message.created" ||
			!p.Timestamp.Equal(now) || p.Data["conversation_id"] != "cv_1" {
			t.Errorf("payload %s: %v", r.body, err)
		}
		ds := f.deliveries(t, ep.ID)
		if len(ds) != 1 || ds[0].ID != r.header.Get("webhook-id") ||
			ds[0].Status != webhook.Delivered || ds[0].Attempts != 1 ||
			ds[0].LastStatus != http.StatusOK || ds[0].NextAttemptAt != nil {
			t.Errorf("delivery log %+v, webhook-id %s", ds, r.header.Get("webhook-id"))
		}

		t.Run("a changed body fails", func(t *testing.T) {
			changed := []byte(strings.Replace(string(r.body), "cv_1", "cv_2", 1))
			err := webhook.Verify([][]byte{secret}, r.header, changed, now, 5*time.Minute)
			if !errors.Is(err, webhook.ErrSignature) {
				t.Fatalf("got %v", err)
			}
		})
		t.Run("a replay past the tolerance fails", func(t *testing.T) {
			err := webhook.Verify([][]byte{secret}, r.header, r.body, now.Add(6*time.Minute),
				5*time.Minute)
			if !errors.Is(err, webhook.ErrTimestamp) {
				t.Fatalf("got %v", err)
			}
		})
		t.Run("it is sent once", func(t *testing.T) {
			f.clock.Add(24 * time.Hour)
			if n, err := f.s.DeliverDue(ctx); n != 0 || err != nil {
				t.Fatalf("%d attempts, %v", n, err)
			}
		})
	})
}

func TestRotatedSecretSignsUntilTheOverlapEnds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "127.0.0.0/8")
		rcv := newReceiver(t, http.StatusOK)
		ep, first := f.create(t, rcv.URL, webhook.ConversationCreated)
		if _, err := f.s.RotateSecret(ctx, f.ws, ep.ID, 8*24*time.Hour); !errors.Is(err,
			webhook.ErrInvalid) {
			t.Fatalf("an overlap of 8 days: %v", err)
		}
		if _, err := f.s.RotateSecret(ctx, "ws_other", ep.ID, time.Hour); !errors.Is(err,
			store.ErrNotFound) {
			t.Fatalf("rotating another workspace's endpoint: %v", err)
		}
		second, err := f.s.RotateSecret(ctx, f.ws, ep.ID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		list, err := f.s.List(ctx, f.ws)
		if err != nil || len(list) != 1 || list[0].SecretLast4 != second[len(second)-4:] ||
			list[0].OldSecretUntil == nil ||
			!list[0].OldSecretUntil.Equal(f.clock.Now().Add(time.Hour)) {
			t.Fatalf("endpoints %+v, %v", list, err)
		}
		check := func(t *testing.T, signatures int, oldSigns bool) {
			t.Helper()
			f.deliver(t, webhook.ConversationCreated)
			got := rcv.requests()
			r := got[len(got)-1]
			if n := len(strings.Fields(r.header.Get("webhook-signature"))); n != signatures {
				t.Fatalf("%d signatures, want %d", n, signatures)
			}
			now := f.clock.Now()
			if err := webhook.Verify([][]byte{decode(t, second)}, r.header, r.body, now,
				time.Minute); err != nil {
				t.Fatalf("the new secret: %v", err)
			}
			err := webhook.Verify([][]byte{decode(t, first)}, r.header, r.body, now, time.Minute)
			if oldSigns != (err == nil) {
				t.Fatalf("the old secret: %v", err)
			}
		}
		t.Run("during the overlap both sign", func(t *testing.T) { check(t, 2, true) })
		f.clock.Add(time.Hour)
		t.Run("after it only the new one", func(t *testing.T) { check(t, 1, false) })
		if list, _ := f.s.List(ctx, f.ws); list[0].OldSecretUntil != nil {
			t.Errorf("the old secret still shows as signing until %v", list[0].OldSecretUntil)
		}
		want := []audit.Action{audit.WebhookSecretRotated, audit.WebhookCreated}
		if got := f.actions(t); !slices.Equal(got, want) {
			t.Errorf("audit entries %v, want %v", got, want)
		}
	})
}

func TestFailingDeliveryIsRetriedWithBackoff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "127.0.0.0/8")
		rcv := newReceiver(t, http.StatusInternalServerError)
		ep, _ := f.create(t, rcv.URL, webhook.ConversationEscalated)
		if err := f.s.Emit(ctx, f.ws, webhook.ConversationEscalated, nil); err != nil {
			t.Fatal(err)
		}
		waits := []time.Duration{30 * time.Second, 2 * time.Minute, 10 * time.Minute,
			time.Hour, 6 * time.Hour}
		for i := range webhook.MaxAttempts {
			if n, err := f.s.DeliverDue(ctx); n != 1 || err != nil {
				t.Fatalf("attempt %d: %d made, %v", i+1, n, err)
			}
			d := f.deliveries(t, ep.ID)[0]
			if d.Attempts != i+1 || d.LastStatus != http.StatusInternalServerError ||
				d.LastAttemptAt == nil || !d.LastAttemptAt.Equal(f.clock.Now()) {
				t.Fatalf("after attempt %d: %+v", i+1, d)
			}
			if i == webhook.MaxAttempts-1 {
				if d.Status != webhook.Failed || d.NextAttemptAt != nil {
					t.Fatalf("after the last attempt: %+v", d)
				}
				break
			}
			if d.Status != webhook.Pending || d.NextAttemptAt == nil ||
				!d.NextAttemptAt.Equal(f.clock.Now().Add(waits[i])) {
				t.Fatalf("after attempt %d: %+v, want the next in %v", i+1, d, waits[i])
			}
			f.clock.Add(waits[i] - time.Second)
			if n, _ := f.s.DeliverDue(ctx); n != 0 {
				t.Fatalf("attempt %d came early", i+2)
			}
			f.clock.Add(time.Second)
		}
		f.clock.Add(48 * time.Hour)
		if n, _ := f.s.DeliverDue(ctx); n != 0 {
			t.Fatal("a failed delivery was tried again")
		}
		got := rcv.requests()
		if len(got) != webhook.MaxAttempts {
			t.Fatalf("the receiver got %d requests", len(got))
		}
		for _, r := range got {
			if id := r.header.Get("webhook-id"); id != got[0].header.Get("webhook-id") {
				t.Fatalf("webhook-id changed between attempts: %s", id)
			}
		}
	})
}

func TestRedirectIsNotFollowed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "127.0.0.0/8")
		target := newReceiver(t, http.StatusOK)
		redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter,
			r *http.Request) {
			http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
		}))
		defer redirect.Close()
		ep, _ := f.create(t, redirect.URL, webhook.MessageCreated)
		f.deliver(t, webhook.MessageCreated)
		if n := len(target.requests()); n != 0 {
			t.Fatalf("the redirect was followed: its target got %d requests", n)
		}
		d := f.deliveries(t, ep.ID)[0]
		if d.Status != webhook.Pending || d.LastStatus != http.StatusTemporaryRedirect ||
			!strings.Contains(d.LastError, "redirect") {
			t.Fatalf("delivery %+v", d)
		}
	})
}

// TestUntrustedCertificateIsRefused posts to an HTTPS receiver whose
// certificate no trusted authority signed, as someone posing as the
// receiver would present: nothing is sent.
func TestUntrustedCertificateIsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "127.0.0.0/8")
		var got atomic.Int32
		rcv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter,
			*http.Request) {
			got.Add(1)
		}))
		defer rcv.Close()
		ep, _ := f.create(t, rcv.URL, webhook.MessageCreated)
		f.deliver(t, webhook.MessageCreated)
		d := f.deliveries(t, ep.ID)[0]
		if got.Load() != 0 || d.Status != webhook.Pending || !strings.Contains(d.LastError,
			"certificate") {
			t.Fatalf("%d requests received; delivery %+v", got.Load(), d)
		}
	})
}

// TestTwoNodesDoNotSendOneDeliveryTogether has a second node look for due
// deliveries while the first is sending one.
func TestTwoNodesDoNotSendOneDeliveryTogether(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "127.0.0.0/8")
		other := f.node(t)
		var hits atomic.Int32
		var once sync.Once
		otherMade, otherErr := -1, error(nil)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter,
			r *http.Request) {
			hits.Add(1)
			once.Do(func() { otherMade, otherErr = other.DeliverDue(r.Context()) })
		}))
		defer srv.Close()
		f.create(t, srv.URL, webhook.MessageCreated)
		if n := f.deliver(t, webhook.MessageCreated); n != 1 {
			t.Fatalf("the first node made %d attempts", n)
		}
		if otherMade != 0 || otherErr != nil || hits.Load() != 1 {
			t.Fatalf("the second node made %d attempts (%v); the receiver got %d requests",
				otherMade, otherErr, hits.Load())
		}
	})
}

func TestDeleteEndsDeliveries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "127.0.0.0/8")
		rcv := newReceiver(t, http.StatusOK)
		ep, _ := f.create(t, rcv.URL, webhook.ConversationAssigned)
		if err := f.s.Emit(ctx, f.ws, webhook.ConversationAssigned, nil); err != nil {
			t.Fatal(err)
		}
		if err := f.s.Delete(ctx, "ws_other", ep.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleting from another workspace: %v", err)
		}
		if err := f.s.Delete(ctx, f.ws, ep.ID); err != nil {
			t.Fatal(err)
		}
		if n, err := f.s.DeliverDue(ctx); n != 0 || err != nil || len(rcv.requests()) != 0 {
			t.Fatalf("a deleted endpoint's delivery was sent: %d, %v", n, err)
		}
		if _, err := f.s.Deliveries(ctx, f.ws, ep.ID, 0); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deliveries of a deleted endpoint: %v", err)
		}
		if list, err := f.s.List(ctx, f.ws); len(list) != 0 || err != nil {
			t.Fatalf("endpoints %+v, %v", list, err)
		}
		if err := f.s.Delete(ctx, f.ws, ep.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleting twice: %v", err)
		}
		want := []audit.Action{audit.WebhookDeleted, audit.WebhookCreated}
		if got := f.actions(t); !slices.Equal(got, want) {
			t.Errorf("audit entries %v, want %v", got, want)
		}
	})
}

func TestPruneKeepsPendingDeliveries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "127.0.0.0/8")
		ok, failing := newReceiver(t, http.StatusOK), newReceiver(t, http.StatusBadGateway)
		delivered, _ := f.create(t, ok.URL, webhook.MessageCreated)
		pending, _ := f.create(t, failing.URL, webhook.MessageCreated)
		f.deliver(t, webhook.MessageCreated)
		f.clock.Add(webhook.Retention + time.Minute)
		if n, err := f.s.Prune(ctx); n != 1 || err != nil {
			t.Fatalf("pruned %d, %v", n, err)
		}
		if ds := f.deliveries(t, delivered.ID); len(ds) != 0 {
			t.Errorf("a delivered delivery outlived retention: %+v", ds)
		}
		if ds := f.deliveries(t, pending.ID); len(ds) != 1 {
			t.Errorf("a pending delivery was pruned")
		}
	})
}

func TestRunDeliversUntilItsContextEnds(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite(t), "127.0.0.0/8")
	rcv := newReceiver(t, http.StatusOK)
	f.create(t, rcv.URL, webhook.MessageCreated)
	if err := f.s.Emit(ctx, f.ws, webhook.MessageCreated, nil); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		f.s.Run(runCtx, time.Hour, func(err error) { t.Error(err) })
		close(done)
	}()
	select {
	case <-rcv.seen:
	case <-time.After(10 * time.Second):
		t.Fatal("Run delivered nothing")
	}
	cancel()
	<-done
}

// TestASlowReceiverDelaysNoOther has one endpoint that answers only after a
// while and another that answers at once: Run delivers to the quick one
// while the slow one still holds its attempts.
func TestASlowReceiverDelaysNoOther(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite(t), "127.0.0.0/8")
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer slow.Close()
	defer close(release)
	quick := newReceiver(t, http.StatusOK)
	f.create(t, slow.URL, webhook.MessageCreated)
	for range 40 { // more than every slot
		if err := f.s.Emit(ctx, f.ws, webhook.MessageCreated, nil); err != nil {
			t.Fatal(err)
		}
	}
	f.create(t, quick.URL, webhook.MessageCreated)
	if err := f.s.Emit(ctx, f.ws, webhook.MessageCreated, nil); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go f.s.Run(runCtx, 20*time.Millisecond, func(error) {})
	select {
	case <-quick.seen:
	case <-time.After(5 * time.Second):
		t.Fatal("the quick receiver waited for the slow one")
	}
}
