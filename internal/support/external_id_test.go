package support_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"github.com/thunaivi/thunaivi/internal/support"
)

// A message sent again under the same external id, one after the other or at
// once, is stored and routed once; the same id in another conversation is
// another message.
func TestReceiveOnceStoresAMessageOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		c := f.conversation(t)
		first, err := f.a.Support.ReceiveOnce(ctx, c, "how long does shipping take?", "m-1")
		if err != nil || first.Duplicate {
			t.Fatalf("first: %+v %v", first, err)
		}
		again, err := f.a.Support.ReceiveOnce(ctx, f.get(t, c.ID),
			"how long does shipping take?", "m-1")
		if err != nil || !again.Duplicate || again.Message.ID != first.Message.ID ||
			again.Decision.Action != first.Decision.Action {
			t.Fatalf("retry: %+v %v, first %+v", again, err, first)
		}

		var wg sync.WaitGroup
		ids := make([]string, 8)
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := f.a.Support.ReceiveOnce(ctx, f.get(t, c.ID), "and returns?", "m-2")
				if err != nil {
					t.Error(err)
					return
				}
				ids[i] = r.Message.ID
			}()
		}
		wg.Wait()
		for _, id := range ids {
			if id != ids[0] {
				t.Fatalf("concurrent retries stored different messages: %v", ids)
			}
		}
		msgs, err := f.a.Support.CustomerMessages(ctx, f.get(t, c.ID))
		if err != nil {
			t.Fatal(err)
		}
		incoming := 0
		for _, m := range msgs {
			if m.Kind == support.KindIncoming {
				incoming++
			}
		}
		if incoming != 2 {
			t.Fatalf("%d customer messages stored, want 2", incoming)
		}

		other := f.conversation(t)
		r, err := f.a.Support.ReceiveOnce(ctx, other, "how long does shipping take?", "m-1")
		if err != nil || r.Duplicate {
			t.Fatalf("same id, another conversation: %+v %v", r, err)
		}
	})
}

func TestReceiveOnceRefusesABadExternalID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c := f.conversation(t)
		for _, id := range []string{strings.Repeat("x", support.MaxExternalIDLen+1), " m",
			"a\x00b"} {
			_, err := f.a.Support.ReceiveOnce(context.Background(), c, "hello", id)
			if !errors.Is(err, support.ErrInvalid) {
				t.Errorf("external id %q: %v, want ErrInvalid", id, err)
			}
		}
	})
}
