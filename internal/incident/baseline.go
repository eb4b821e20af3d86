package incident

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/identity"
	"github.com/thunaivi/thunaivi/internal/retention"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/webhook"
	"github.com/thunaivi/thunaivi/internal/workspace"
)

// Baseline is a workspace's security configuration as saved at one time: a
// known good state to compare with, and to return to after an incident.
type Baseline struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	State     *State    `json:"state,omitempty"`
}

// State is what a baseline holds.
type State struct {
	Members  []BaselineMember           `json:"members"`
	Security workspace.SecuritySettings `json:"security"`
	// PasswordMinLength is the product's password rule, the same for every
	// workspace: recorded so that a baseline says what it was.
	PasswordMinLength int               `json:"password_min_length"`
	Categories        []brain.Category  `json:"restricted_categories"`
	Retention         retention.Policy  `json:"retention"`
	Webhooks          []BaselineWebhook `json:"webhooks"`
}

// BaselineMember is a member as a baseline keeps them.
type BaselineMember struct {
	UserID   string      `json:"user_id"`
	Email    string      `json:"email"`
	Role     access.Role `json:"role"`
	Disabled bool        `json:"disabled"`
}

// BaselineWebhook is a webhook endpoint as a baseline keeps it: its target,
// never its secret.
type BaselineWebhook struct {
	ID     string          `json:"id"`
	URL    string          `json:"url"`
	Events []webhook.Event `json:"events"`
}

// Difference is one way the current configuration differs from a baseline,
// and what restoring it does.
type Difference struct {
	Area    string `json:"area"`
	Subject string `json:"subject"`
	Saved   any    `json:"saved"`
	Current any    `json:"current"`
	// Restore says what applying the baseline does about it; Manual is set
	// when it cannot, and a person must.
	Restore string `json:"restore"`
	Manual  bool   `json:"manual,omitempty"`
	// ref is the member or endpoint a difference is about.
	ref string
}

// Capture reads a workspace's current security configuration.
func (s *Service) Capture(ctx context.Context, wsID string) (State, error) {
	st := State{PasswordMinLength: identity.MinPasswordLen, Members: []BaselineMember{},
		Webhooks: []BaselineWebhook{}}
	members, err := s.Workspaces.Members(ctx, wsID)
	if err != nil {
		return st, err
	}
	for _, m := range members {
		st.Members = append(st.Members, BaselineMember{UserID: m.UserID, Email: m.Email,
			Role: m.Role, Disabled: m.Disabled})
	}
	if st.Security, err = s.Workspaces.Security(ctx, wsID); err != nil {
		return st, err
	}
	if st.Categories, err = s.KB.Categories(ctx, wsID); err != nil {
		return st, err
	}
	if st.Retention, err = s.Retention.Policy(ctx, wsID); err != nil {
		return st, err
	}
	if s.Webhooks != nil {
		eps, err := s.Webhooks.List(ctx, wsID)
		if err != nil {
			return st, err
		}
		for _, ep := range eps {
			st.Webhooks = append(st.Webhooks, BaselineWebhook{ID: ep.ID, URL: ep.URL,
				Events: ep.Events})
		}
	}
	return st, nil
}

// SaveBaseline saves the workspace's current configuration as a baseline.
func (s *Service) SaveBaseline(ctx context.Context, wsID, name, by string) (Baseline, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "Baseline of " + s.now().UTC().Format("2006-01-02 15:04")
	}
	if len(name) > 200 {
		return Baseline{}, fmt.Errorf("incident: %w: a name of at most 200 characters",
			ErrInvalid)
	}
	st, err := s.Capture(ctx, wsID)
	if err != nil {
		return Baseline{}, err
	}
	body, err := json.Marshal(st)
	if err != nil {
		return Baseline{}, err
	}
	b := Baseline{ID: store.NewID("bl"), Name: clip(name, 200), CreatedBy: by,
		CreatedAt: s.now().UTC().Truncate(time.Millisecond), State: &st}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q.InsertBaseline, wsID, b.ID, b.Name, by,
			b.CreatedAt.UnixMilli(), string(body)); err != nil {
			return fmt.Errorf("incident: save baseline: %w", err)
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.BaselineSaved, TargetType: "baseline", TargetID: b.ID,
			Reason: b.Name, Diff: audit.Diff{"members": {nil, len(st.Members)},
				"webhooks": {nil, len(st.Webhooks)}}})
	})
	return b, err
}

// Baselines lists a workspace's baselines, newest first, without their state.
func (s *Service) Baselines(ctx context.Context, wsID string) ([]Baseline, error) {
	out, err := store.Collect(ctx, s.db, s.q.ListBaselines, scanBaselineRows, wsID)
	if out == nil {
		out = []Baseline{}
	}
	return out, err
}

// Baseline returns a saved baseline; id "latest" is the newest.
func (s *Service) Baseline(ctx context.Context, wsID, id string) (Baseline, error) {
	if id == "latest" {
		return scanBaseline(s.db.QueryRowContext(ctx, s.q.LatestBaseline, wsID))
	}
	return scanBaseline(s.db.QueryRowContext(ctx, s.q.BaselineByID, wsID, id))
}

func scanBaselineRows(rows *sql.Rows) (Baseline, error) { return scanBaseline(rows) }

func scanBaseline(row interface{ Scan(...any) error }) (Baseline, error) {
	var b Baseline
	var at int64
	var body string
	err := row.Scan(&b.ID, &b.Name, &b.CreatedBy, &at, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return Baseline{}, store.ErrNotFound
	}
	if err != nil {
		return Baseline{}, fmt.Errorf("incident: load baseline: %w", err)
	}
	b.CreatedAt = time.UnixMilli(at).UTC()
	if body != "" {
		b.State = &State{}
		if err := json.Unmarshal([]byte(body), b.State); err != nil {
			return Baseline{}, fmt.Errorf("incident: read baseline: %w", err)
		}
	}
	return b, nil
}

// ErrUnconfirmed is returned for a restore whose differences were not
// confirmed as they stand: a restore may reverse what isolation or an admin
// did since the baseline, so it applies only what a person saw.
var ErrUnconfirmed = errors.New("incident: review the differences first, and confirm " +
	"them as they stand (the confirm value of the diff)")

// Confirm is the value a restore must be given for differences: it changes
// whenever they do.
func Confirm(diffs []Difference) string {
	b, _ := json.Marshal(diffs)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// Compare returns how the workspace's current configuration differs from a
// saved baseline.
func (s *Service) Compare(ctx context.Context, wsID, id string) (Baseline, []Difference,
	error) {
	b, err := s.Baseline(ctx, wsID, id)
	if err != nil {
		return Baseline{}, nil, err
	}
	cur, err := s.Capture(ctx, wsID)
	if err != nil {
		return Baseline{}, nil, err
	}
	return b, compare(*b.State, cur), nil
}

// compare lists the differences of cur from saved.
func compare(saved, cur State) []Difference {
	out := []Difference{}
	was := map[string]BaselineMember{}
	for _, m := range saved.Members {
		was[m.UserID] = m
	}
	for _, m := range cur.Members {
		old, ok := was[m.UserID]
		delete(was, m.UserID)
		switch {
		case !ok:
			out = append(out, Difference{Area: "member", Subject: m.Email, Current: m.Role,
				Restore: "remove the member, added since the baseline", ref: m.UserID})
		case old.Role != m.Role:
			out = append(out, Difference{Area: "role", Subject: m.Email, Saved: old.Role,
				Current: m.Role, Restore: "set the role back to " + string(old.Role),
				ref: m.UserID})
		}
		if ok && old.Disabled != m.Disabled {
			restore := "enable the member again"
			if old.Disabled {
				restore = "disable the member again"
			}
			out = append(out, Difference{Area: "disabled", Subject: m.Email,
				Saved: old.Disabled, Current: m.Disabled, Restore: restore, ref: m.UserID})
		}
	}
	for _, id := range slices.Sorted(maps.Keys(was)) {
		m := was[id]
		out = append(out, Difference{Area: "member", Subject: m.Email, Saved: m.Role,
			Restore: "removed since the baseline: invite them again if they should be back",
			Manual:  true})
	}
	if !reflect.DeepEqual(saved.Security, cur.Security) {
		out = append(out, Difference{Area: "security", Subject: "office domains and 2FA",
			Saved: saved.Security, Current: cur.Security,
			Restore: "set the office domains and the 2FA rule back"})
	}
	if saved.PasswordMinLength != cur.PasswordMinLength {
		out = append(out, Difference{Area: "password", Subject: "minimum length",
			Saved: saved.PasswordMinLength, Current: cur.PasswordMinLength,
			Restore: "the product's own rule: upgrade or downgrade to change it", Manual: true})
	}
	out = append(out, compareCategories(saved.Categories, cur.Categories)...)
	for _, c := range retention.Classes {
		if saved.Retention[c] != cur.Retention[c] {
			out = append(out, Difference{Area: "retention", Subject: string(c),
				Saved: saved.Retention[c], Current: cur.Retention[c],
				Restore: fmt.Sprintf("set the period back to %d days", saved.Retention[c])})
		}
	}
	out = append(out, compareWebhooks(saved.Webhooks, cur.Webhooks)...)
	return out
}

func compareCategories(saved, cur []brain.Category) []Difference {
	var out []Difference
	was := map[string]brain.Category{}
	for _, c := range saved {
		was[c.Name] = c
	}
	for _, c := range cur {
		old, ok := was[c.Name]
		delete(was, c.Name)
		switch {
		case !ok:
			out = append(out, Difference{Area: "category", Subject: c.Name,
				Current: c.Description, Manual: true,
				Restore: "added since the baseline: review it under AI settings"})
		case !sameCategory(old, c):
			out = append(out, Difference{Area: "category", Subject: c.Name,
				Saved: old, Current: c, Restore: "put the category's saved phrases, " +
					"examples and reply back"})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(was)) {
		out = append(out, Difference{Area: "category", Subject: name, Saved: was[name],
			Restore: "put the category back"})
	}
	return out
}

func sameCategory(a, b brain.Category) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func compareWebhooks(saved, cur []BaselineWebhook) []Difference {
	var out []Difference
	was := map[string]BaselineWebhook{}
	for _, w := range saved {
		was[w.ID] = w
	}
	for _, w := range cur {
		if _, ok := was[w.ID]; !ok {
			out = append(out, Difference{Area: "webhook", Subject: w.URL, Current: w.Events,
				Restore: "remove the endpoint, added since the baseline", ref: w.ID})
		}
		delete(was, w.ID)
	}
	for _, id := range slices.Sorted(maps.Keys(was)) {
		out = append(out, Difference{Area: "webhook", Subject: was[id].URL,
			Saved: was[id].Events, Manual: true,
			Restore: "removed since the baseline: add it again with a new secret"})
	}
	return out
}

// Restored is what applying a baseline did.
type Restored struct {
	Baseline Baseline     `json:"baseline"`
	Applied  []Difference `json:"applied"`
	Manual   []Difference `json:"manual"`
}

// RestoreBaseline applies a saved baseline: members added since are removed,
// roles and disabled flags set back, security settings, changed categories,
// retention periods put back, webhook endpoints added since removed. What it
// cannot restore is listed for a person. byUserID and byEmail are the admin
// applying it, who is never removed or changed by it.
func (s *Service) RestoreBaseline(ctx context.Context, wsID, id, byUserID, byEmail,
	confirm string) (Restored, error) {
	b, diffs, err := s.Compare(ctx, wsID, id)
	if err != nil {
		return Restored{}, err
	}
	if confirm != Confirm(diffs) {
		return Restored{}, ErrUnconfirmed
	}
	out := Restored{Baseline: Baseline{ID: b.ID, Name: b.Name, CreatedBy: b.CreatedBy,
		CreatedAt: b.CreatedAt}, Applied: []Difference{}, Manual: []Difference{}}
	for _, d := range diffs {
		if d.Manual || d.ref != "" && d.ref == byUserID {
			if !d.Manual {
				d.Manual, d.Restore = true, "your own membership: another admin changes it"
			}
			out.Manual = append(out.Manual, d)
			continue
		}
		if err := s.apply(ctx, wsID, byEmail, *b.State, d); err != nil {
			return out, fmt.Errorf("incident: restore %s %s: %w", d.Area, d.Subject, err)
		}
		out.Applied = append(out.Applied, d)
	}
	err = s.audit.Write(ctx, audit.Event{Workspace: wsID, Action: audit.BaselineRestored,
		TargetType: "baseline", TargetID: b.ID, Reason: b.Name,
		Diff: audit.Diff{"applied": {nil, len(out.Applied)},
			"manual": {nil, len(out.Manual)}}})
	return out, err
}

// apply restores one difference through the service that owns it, which
// audits the change.
func (s *Service) apply(ctx context.Context, wsID, byEmail string, saved State,
	d Difference) error {
	switch d.Area {
	case "member":
		return s.Workspaces.RemoveMember(ctx, s.Identity, wsID, d.ref)
	case "role":
		return s.Workspaces.SetRole(ctx, s.Identity, wsID, d.ref, d.Saved.(access.Role))
	case "disabled":
		return s.Workspaces.SetDisabled(ctx, s.Identity, wsID, d.ref, d.Saved.(bool))
	case "security":
		return s.Workspaces.SetSecurity(ctx, wsID, byEmail, saved.Security)
	case "category":
		return s.KB.SaveCategory(ctx, wsID, d.Saved.(brain.Category))
	case "retention":
		return s.Retention.SetPolicy(ctx, wsID,
			retention.Policy{retention.Class(d.Subject): d.Saved.(int)})
	case "webhook":
		if s.Webhooks == nil {
			return errors.New("webhooks are not available")
		}
		return s.Webhooks.Delete(ctx, wsID, d.ref)
	}
	return fmt.Errorf("unknown area %q", d.Area)
}
