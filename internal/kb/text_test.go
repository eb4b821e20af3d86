package kb_test

import (
	"context"
	"errors"
	"testing"

	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/kb"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

// TestUnstorableTextIsRefused checks that entries and categories with NUL
// characters, which PostgreSQL cannot store, are refused as invalid input on
// both engines, and that an id with one names no entry.
func TestUnstorableTextIsRefused(t *testing.T) {
	cases := []struct {
		name string
		call func(ctx context.Context, s *kb.Service, ws string) error
		want error
	}{
		{"title", func(ctx context.Context, s *kb.Service, ws string) error {
			_, err := s.Save(ctx, ws, "test", "new", kb.Entry{Title: "a\x00", Answer: "b"}, 0)
			return err
		}, kb.ErrInvalid},
		{"answer", func(ctx context.Context, s *kb.Service, ws string) error {
			_, err := s.Save(ctx, ws, "test", "new", kb.Entry{Title: "a", Answer: "b\x00"}, 0)
			return err
		}, kb.ErrInvalid},
		{"question", func(ctx context.Context, s *kb.Service, ws string) error {
			_, err := s.Save(ctx, ws, "test", "new", kb.Entry{Title: "a", Answer: "b",
				Questions: []string{"c\x00"}}, 0)
			return err
		}, kb.ErrInvalid},
		{"category phrase", func(ctx context.Context, s *kb.Service, ws string) error {
			return s.SaveCategory(ctx, ws, brain.Category{Name: "legal",
				Phrases: []string{"lawsuit\x00"}})
		}, kb.ErrInvalid},
		{"category description", func(ctx context.Context, s *kb.Service, ws string) error {
			return s.SaveCategory(ctx, ws, brain.Category{Name: "legal",
				Description: "legal\x00", Phrases: []string{"lawsuit"}})
		}, kb.ErrInvalid},
		{"entry id", func(ctx context.Context, s *kb.Service, ws string) error {
			_, err := s.Get(ctx, ws, "a\x00")
			return err
		}, store.ErrNotFound},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ws := service(t, db)
		ctx := context.Background()
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				if err := c.call(ctx, s, ws); !errors.Is(err, c.want) {
					t.Errorf("error %v, want %v", err, c.want)
				}
			})
		}
		list, err := s.List(ctx, ws)
		if err != nil {
			t.Fatal(err)
		}
		cats, err := s.Categories(ctx, ws)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cats {
			if c.Name == "legal" && c.Description == "legal\x00" {
				t.Error("the category was saved")
			}
		}
		if len(list) != 0 {
			t.Errorf("%d entries saved", len(list))
		}
	})
}
