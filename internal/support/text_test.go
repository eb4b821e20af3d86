package support_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"github.com/thunaivi/thunaivi/internal/support"
)

// TestUnstorableTextIsRefused checks that text PostgreSQL cannot store, NUL
// characters and invalid UTF-8, is refused as the caller's mistake before it
// reaches the database, on both engines alike: as invalid input, or as a
// record that does not exist when it names one.
func TestUnstorableTextIsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		c := f.conversation(t)
		f.receive(t, c, "how long does shipping take?")
		labels := []string{"a\x00b"}
		cases := []struct {
			name string
			call func() error
			want error
		}{
			{"message with NUL", func() error {
				_, err := f.a.Support.Receive(ctx, c, "a\x00b")
				return err
			}, support.ErrInvalid},
			{"reply with NUL", func() error {
				_, err := f.a.Support.Reply(ctx, f.admin, c.ID, "a\x00b")
				return err
			}, support.ErrInvalid},
			{"message over the limit", func() error {
				long := strings.Repeat("a", support.MaxMessageBytes+1)
				_, err := f.a.Support.Receive(ctx, c, long)
				return err
			}, support.ErrTooLong},
			{"contact name with NUL", func() error {
				_, err := f.a.Support.Start(ctx, f.ws.Workspace.ID, f.ws.Inbox.ID,
					support.ContactDetails{Name: "a\x00b"})
				return err
			}, support.ErrInvalid},
			{"label with NUL", func() error {
				_, err := f.a.Support.Update(ctx, f.admin, c.ID,
					support.Change{Labels: &labels}, nil)
				return err
			}, support.ErrInvalid},
			{"list filter with NUL", func() error {
				_, err := f.a.Support.List(ctx, f.admin, support.Filter{Label: "a\x00b"})
				return err
			}, support.ErrInvalid},
			{"list filter with invalid UTF-8", func() error {
				_, err := f.a.Support.List(ctx, f.admin, support.Filter{InboxID: "\xff"})
				return err
			}, support.ErrInvalid},
			{"conversation id with NUL", func() error {
				_, err := f.a.Support.Get(ctx, f.admin, "cv_\x00")
				return err
			}, store.ErrNotFound},
			{"conversation id with invalid UTF-8", func() error {
				_, err := f.a.Support.VisitorConversation(ctx, f.ws.Workspace.ID,
					f.ws.Inbox.ID, "cv_\xff", "token")
				return err
			}, store.ErrNotFound},
			{"message id with NUL", func() error {
				_, err := f.a.Support.ResolveDraft(ctx, f.admin, c.ID, "ms_\x00", true, "")
				return err
			}, store.ErrNotFound},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if err := tc.call(); !errors.Is(err, tc.want) {
					t.Errorf("error %v, want %v", err, tc.want)
				}
			})
		}
		msgs, err := f.a.Support.Messages(ctx, f.admin, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.get(t, c.ID); len(msgs) != 2 || len(got.Labels) != 0 {
			t.Errorf("refused calls changed the conversation: %d messages, labels %q",
				len(msgs), got.Labels)
		}
	})
}
