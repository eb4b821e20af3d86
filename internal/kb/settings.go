package kb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/store"
)

// Categories returns the workspace's restricted categories: the defaults, with
// the workspace's own edits in their place.
func (s *Service) Categories(ctx context.Context, wsID string) ([]brain.Category, error) {
	rows, err := s.db.QueryContext(ctx, s.q.ListCategories, wsID)
	if err != nil {
		return nil, fmt.Errorf("kb: list categories: %w", err)
	}
	defer rows.Close()
	edited := map[string]brain.Category{}
	for rows.Next() {
		var c brain.Category
		var phrases, examples, languages string
		if err := rows.Scan(&c.Name, &c.Description, &phrases, &examples, &c.Reply,
			&languages); err != nil {
			return nil, err
		}
		json.Unmarshal([]byte(phrases), &c.Phrases)
		json.Unmarshal([]byte(examples), &c.Examples)
		c.Languages = []string{}
		if languages != "" {
			c.Languages = strings.Split(languages, ",")
		}
		edited[c.Name] = c
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := brain.DefaultCategories()
	for i, c := range out {
		if e, ok := edited[c.Name]; ok {
			e.DeferToKB = c.DeferToKB
			out[i] = e
			delete(edited, c.Name)
		} else {
			out[i].Languages = []string{}
		}
	}
	// The workspace's own categories follow the defaults, by name (the
	// query's order).
	for _, name := range slices.Sorted(maps.Keys(edited)) {
		out = append(out, edited[name])
	}
	return out, nil
}

// SaveCategory adds a restricted category of the workspace's own, or
// replaces the description, phrases, examples, reply and languages of one.
func (s *Service) SaveCategory(ctx context.Context, wsID string, c brain.Category) error {
	if !categoryName.MatchString(c.Name) {
		return fmt.Errorf("kb: %w: a category's name is 2 to 40 lower-case letters, digits "+
			"or '_', starting with a letter", ErrInvalid)
	}
	c.Reply = strings.TrimSpace(c.Reply)
	if !plainText(c.Reply) || utf8.RuneCountInString(c.Reply) > 1000 {
		return fmt.Errorf("kb: %w: a reply is text of at most 1000 characters", ErrInvalid)
	}
	for _, l := range c.Languages {
		if !languageCode.MatchString(l) {
			return fmt.Errorf("kb: %w: languages are codes such as en or pt-br", ErrInvalid)
		}
	}
	if len(c.Languages) > 20 {
		return fmt.Errorf("kb: %w: at most 20 languages", ErrInvalid)
	}
	clean := func(list []string) ([]string, error) {
		out := []string{}
		for _, p := range list {
			p = strings.TrimSpace(p)
			if !plainText(p) || utf8.RuneCountInString(p) > 500 {
				return nil, fmt.Errorf("kb: %w: a phrase or example is text of at most "+
					"500 characters", ErrInvalid)
			}
			if p != "" {
				out = append(out, p)
			}
		}
		if len(out) > 500 {
			return nil, fmt.Errorf("kb: %w: at most 500 phrases or examples", ErrInvalid)
		}
		return out, nil
	}
	if !plainText(c.Description) {
		return fmt.Errorf("kb: %w: a description must be text without NUL characters", ErrInvalid)
	}
	var err error
	if c.Phrases, err = clean(c.Phrases); err != nil {
		return err
	}
	if c.Examples, err = clean(c.Examples); err != nil {
		return err
	}
	if !slices.ContainsFunc(brain.DefaultCategories(), func(d brain.Category) bool {
		return d.Name == c.Name
	}) && len(c.Phrases)+len(c.Examples) == 0 {
		return fmt.Errorf("kb: %w: a new category needs a phrase or an example", ErrInvalid)
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, s.q.UpsertCategory, wsID, c.Name,
			strings.TrimSpace(c.Description), mustJSON(c.Phrases), mustJSON(c.Examples),
			s.now().UnixMilli(), c.Reply, strings.Join(c.Languages, ","))
		if err != nil {
			return fmt.Errorf("kb: save category: %w", err)
		}
		if _, err = tx.ExecContext(ctx, s.q.BumpRevision, wsID); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.SettingChanged, TargetType: "category", TargetID: c.Name,
			Diff: audit.Diff{"phrases": {nil, len(c.Phrases)},
				"examples": {nil, len(c.Examples)}}})
	})
	s.changed(wsID)
	return err
}

var (
	categoryName = regexp.MustCompile(`^[a-z][a-z0-9_]{1,39}$`)
	languageCode = regexp.MustCompile(`^[a-z]{2,3}(-[a-z0-9]{2,8})?$`)
)

// Thresholds returns the workspace's confidence thresholds.
func (s *Service) Thresholds(ctx context.Context, wsID string) (brain.Thresholds, error) {
	_, th, err := s.settings(ctx, wsID)
	return th, err
}

// SetThresholds changes the workspace's confidence thresholds.
func (s *Service) SetThresholds(ctx context.Context, wsID string, th brain.Thresholds) error {
	if th.Draft < 0 || th.Answer > 1 || th.Draft > th.Answer {
		return fmt.Errorf("kb: %w: thresholds need 0 ≤ draft ≤ answer ≤ 1", ErrInvalid)
	}
	old, err := s.Thresholds(ctx, wsID)
	if err != nil {
		return err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q.SetThresholds, wsID, mustJSON(th)); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.SettingChanged, TargetType: "thresholds",
			Diff: audit.Diff{"draft": {old.Draft, th.Draft}, "answer": {old.Answer, th.Answer}}})
	})
	s.changed(wsID)
	return err
}

func (s *Service) settings(ctx context.Context, wsID string) (int64, brain.Thresholds, error) {
	var rev int64
	var raw string
	th := brain.DefaultThresholds()
	err := s.db.QueryRowContext(ctx, s.q.BrainSettings, wsID).Scan(&rev, &raw)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, th, nil
	}
	if err != nil {
		return 0, th, fmt.Errorf("kb: load settings: %w", err)
	}
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &th); err != nil {
			return 0, th, fmt.Errorf("kb: thresholds: %w", err)
		}
	}
	return rev, th, nil
}

// routerRecheck is how long a node uses its router before asking the
// database whether another node changed the workspace's knowledge or
// settings. Changes made on this node apply at once.
const routerRecheck = time.Second

// Router returns the workspace's router, built from its published entries,
// categories and thresholds. It is rebuilt only when the workspace's revision
// has changed since the last build.
func (s *Service) Router(ctx context.Context, wsID string) (*brain.Router, error) {
	now := s.now()
	s.mu.Lock()
	c, cached := s.routers[wsID]
	s.mu.Unlock()
	if cached && now.Sub(c.checked) < routerRecheck {
		return c.router, nil
	}
	rev, th, err := s.settings(ctx, wsID)
	if err != nil {
		return nil, err
	}
	if !cached || c.revision != rev {
		s.building.Lock()
		defer s.building.Unlock()
		if c.router, err = s.build(ctx, wsID, th); err != nil {
			return nil, err
		}
	}
	c.revision, c.checked = rev, now
	s.mu.Lock()
	s.routers[wsID] = c
	s.mu.Unlock()
	return c.router, nil
}

func (s *Service) build(
	ctx context.Context,
	wsID string,
	th brain.Thresholds,
) (*brain.Router, error) {
	entries, err := s.List(ctx, wsID)
	if err != nil {
		return nil, err
	}
	cats, err := s.Categories(ctx, wsID)
	if err != nil {
		return nil, err
	}
	var published []brain.Entry
	for _, e := range entries {
		if e.Published {
			published = append(published, brain.Entry{ID: e.ID, Title: e.Title,
				Questions: e.Questions, Answer: e.Answer, Tags: e.Tags, Handoff: e.Handoff})
		}
	}
	return brain.NewRouter(brain.NewIndex(published), cats, th), nil
}

// changed forgets the workspace's router after a change on this node, so the
// next message is routed with the change.
func (s *Service) changed(wsID string) {
	s.mu.Lock()
	delete(s.routers, wsID)
	s.mu.Unlock()
}
