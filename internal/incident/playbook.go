package incident

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/thunaivi/thunaivi/internal/apikey"
	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/store"
)

// AttachDetect carries out step 1, detect: the triggering events, audit
// entries by sequence number, are attached to the incident. Each must be an
// entry of the workspace.
func (s *Service) AttachDetect(ctx context.Context, wsID, id string, seqs []int64,
	note string) (Incident, error) {
	if len(seqs) > 100 || len(note) > 2000 || !utf8.ValidString(note) {
		return Incident{}, fmt.Errorf("incident: %w: at most 100 events and a note of at "+
			"most 2000 characters", ErrInvalid)
	}
	return s.step(ctx, wsID, id, StepDetect, func(in Incident) ([]line, audit.Diff, error) {
		refs := []string{}
		var names []string
		for _, seq := range seqs {
			e, err := s.entry(ctx, wsID, seq)
			if err != nil {
				return nil, nil, err
			}
			refs = append(refs, "audit:"+strconv.FormatInt(seq, 10))
			names = append(names, fmt.Sprintf("#%d %s", seq, e.Action))
		}
		for _, e := range in.Timeline {
			refs = append(refs, e.Refs...) // the detector's own events count too
		}
		text := "Triggering events: " + strings.Join(names, ", ")
		switch {
		case len(names) > 0:
		case len(refs) > 0:
			text = "Triggering events: " + strings.Join(refs, ", ") +
				", which the detector attached"
		default:
			text = "No triggering events attached: the incident was opened by hand"
		}
		if note != "" {
			text += ". " + note
		}
		return []line{{text: text, refs: refs}}, audit.Diff{"events": {nil, len(refs)}}, nil
	})
}

// plural says n things: "1 follow-up task", "2 follow-up tasks".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return strconv.Itoa(n) + " " + thing + "s"
}

// entry returns the workspace's audit entry seq, or ErrInvalid.
func (s *Service) entry(ctx context.Context, wsID string, seq int64) (audit.Entry, error) {
	es, err := s.audit.List(ctx, audit.Filter{Workspace: wsID, Before: seq + 1, Limit: 1})
	if err != nil {
		return audit.Entry{}, err
	}
	if len(es) == 0 || es[0].Seq != seq {
		return audit.Entry{}, fmt.Errorf("incident: %w: no audit entry %d in this workspace",
			ErrInvalid, seq)
	}
	return es[0], nil
}

// Containment says what step 2 acts on.
type Containment struct {
	// UserIDs limits the revocation of sessions to these members; empty ends
	// every session of the workspace but KeepToken's.
	UserIDs []string `json:"user_ids"`
	// KeepAPIKeys, KeepWebhookSecrets and KeepAdminPath leave those
	// credentials as they are; by default every one in scope is rotated.
	KeepAPIKeys        bool `json:"keep_api_keys"`
	KeepWebhookSecrets bool `json:"keep_webhook_secrets"`
	KeepAdminPath      bool `json:"keep_admin_path"`
}

// Contained is what step 2 did, with the new credentials, shown this once.
type Contained struct {
	Incident         Incident       `json:"incident"`
	SessionsEnded    int64          `json:"sessions_ended"`
	Keys             []RolledKey    `json:"keys"`
	RevokedKeys      []string       `json:"revoked_keys"`
	WebhookSecrets   []RotatedHook  `json:"webhook_secrets"`
	FlaggedInboxes   []FlaggedInbox `json:"flagged_inboxes"`
	AdminPath        string         `json:"admin_path,omitempty"`
	AdminPathRotated bool           `json:"admin_path_rotated"`
}

// RolledKey is an API key replaced with no overlap: the old one is refused
// at once.
type RolledKey struct {
	OldID  string `json:"old_id"`
	NewID  string `json:"new_id"`
	Name   string `json:"name"`
	Secret string `json:"secret"`
}

// RotatedHook is a webhook endpoint's new signing secret.
type RotatedHook struct {
	ID     string `json:"id"`
	URL    string `json:"url"`
	Secret string `json:"secret"`
}

// FlaggedInbox is a channel whose token its owner should reconnect.
type FlaggedInbox struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Contain carries out step 2: the sessions in scope end, every live API key
// is rolled with no overlap (a key still in a roll's overlap is revoked),
// every webhook secret is replaced with no overlap, the channels' tokens are
// flagged for reconnection and the secret admin path is replaced. keepToken
// is the session of the admin who runs it, which stays.
func (s *Service) Contain(ctx context.Context, wsID, id, byUserID, keepToken string,
	c Containment) (Contained, error) {
	var out Contained
	in, err := s.step(ctx, wsID, id, StepContain, func(Incident) ([]line, audit.Diff, error) {
		var lines []line
		if err := s.endSessions(ctx, wsID, keepToken, c.UserIDs, &out, &lines); err != nil {
			return nil, nil, err
		}
		if !c.KeepAPIKeys {
			if err := s.rollKeys(ctx, wsID, byUserID, &out, &lines); err != nil {
				return nil, nil, err
			}
		}
		if !c.KeepWebhookSecrets && s.Webhooks != nil {
			eps, err := s.Webhooks.List(ctx, wsID)
			if err != nil {
				return nil, nil, err
			}
			for _, ep := range eps {
				secret, err := s.Webhooks.RotateSecret(ctx, wsID, ep.ID, 0)
				if err != nil {
					return nil, nil, err
				}
				out.WebhookSecrets = append(out.WebhookSecrets, RotatedHook{ID: ep.ID,
					URL: ep.URL, Secret: secret})
				lines = append(lines, line{text: "Webhook secret replaced, no overlap: " +
					ep.URL, refs: []string{"webhook:" + ep.ID}})
			}
		}
		inboxes, err := s.Workspaces.Inboxes(ctx, wsID)
		if err != nil {
			return nil, nil, err
		}
		for _, ib := range inboxes {
			if !ib.Connected {
				continue
			}
			out.FlaggedInboxes = append(out.FlaggedInboxes, FlaggedInbox{ID: ib.ID,
				Name: ib.Name})
			lines = append(lines, line{text: "Channel flagged for reconnection: " + ib.Name +
				" (a widget token is public; disconnect and connect the inbox again if its " +
				"page was tampered with)", refs: []string{"inbox:" + ib.ID}})
		}
		if !c.KeepAdminPath {
			path, err := s.Workspaces.SetAdminPath(ctx, wsID, "")
			if err != nil {
				return nil, nil, err
			}
			out.AdminPath, out.AdminPathRotated = path, true
			lines = append(lines, line{text: "Secret admin path replaced; the new one was " +
				"shown once to " + actorName(ctx)})
		}
		return lines, audit.Diff{"sessions_ended": {nil, out.SessionsEnded},
			"keys_rolled_count":     {nil, len(out.Keys)},
			"keys_revoked_count":    {nil, len(out.RevokedKeys)},
			"webhook_secrets_count": {nil, len(out.WebhookSecrets)},
			"admin_path":            {nil, out.AdminPathRotated}}, nil
	})
	out.Incident = in
	if out.Keys == nil {
		out.Keys = []RolledKey{}
	}
	return out, err
}

func (s *Service) endSessions(ctx context.Context, wsID, keepToken string, users []string,
	out *Contained, lines *[]line) error {
	if len(users) == 0 {
		n, err := s.Identity.EndWorkspaceSessions(ctx, wsID, keepToken)
		if err != nil {
			return err
		}
		out.SessionsEnded = n
		*lines = append(*lines, line{text: fmt.Sprintf("Every session of the workspace "+
			"ended but the containing admin's: %d", n)})
		return nil
	}
	if len(users) > 500 {
		return fmt.Errorf("incident: %w: at most 500 members at once", ErrInvalid)
	}
	for _, u := range users {
		if _, err := s.Workspaces.Role(ctx, wsID, u); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("incident: %w: %s is not a member", ErrInvalid, u)
			}
			return err
		}
		if err := s.Identity.EndMemberSessions(ctx, u, wsID,
			"incident containment"); err != nil {
			return err
		}
		*lines = append(*lines, line{text: "Sessions ended", refs: []string{"user:" + u}})
	}
	return nil
}

func (s *Service) rollKeys(ctx context.Context, wsID, byUserID string, out *Contained,
	lines *[]line) error {
	keys, err := s.Keys.List(ctx, wsID)
	if err != nil {
		return err
	}
	for _, k := range keys {
		switch {
		case k.Status == "revoked" || k.Status == "expired":
			continue
		case k.RolledTo != "":
			// In a roll's overlap: its successor is rolled in its turn.
			if err := s.Keys.Revoke(ctx, wsID, k.ID, "incident containment"); err != nil {
				return err
			}
			out.RevokedKeys = append(out.RevokedKeys, k.ID)
			*lines = append(*lines, line{text: "API key in a roll's overlap revoked: " +
				k.Name, refs: []string{"apikey:" + k.ID}})
			continue
		}
		nk, secret, err := s.Keys.Roll(ctx, wsID, k.ID, byUserID, 0)
		if err != nil {
			return err
		}
		out.Keys = append(out.Keys, RolledKey{OldID: k.ID, NewID: nk.ID, Name: k.Name,
			Secret: secret})
		*lines = append(*lines, line{text: "API key rolled, no overlap: " + k.Name,
			refs: []string{"apikey:" + k.ID, "apikey:" + nk.ID}})
	}
	return nil
}

// Isolation says what step 3 cuts off.
type Isolation struct {
	UserIDs  []string `json:"user_ids"`
	KeyIDs   []string `json:"key_ids"`
	InboxIDs []string `json:"inbox_ids"`
	// IPRanges are added to the workspace's refused ranges.
	IPRanges      []string `json:"ip_ranges"`
	PauseAI       bool     `json:"pause_ai"`
	FreezeExports bool     `json:"freeze_exports"`
}

// isolable checks, before anything changes, that everything an isolation
// names is the workspace's, and that the admin isolating does not disable
// themselves: half an isolation, or an admin locked out mid-incident, is
// worse than none.
func (s *Service) isolable(ctx context.Context, wsID, callerID string, iso Isolation) error {
	for _, u := range iso.UserIDs {
		if u == callerID {
			return fmt.Errorf("incident: %w: you cannot disable yourself", ErrInvalid)
		}
		if _, err := s.Workspaces.Role(ctx, wsID, u); err != nil {
			return err
		}
	}
	if len(iso.KeyIDs) > 0 {
		keys, err := s.Keys.List(ctx, wsID)
		if err != nil {
			return err
		}
		for _, k := range iso.KeyIDs {
			if !slices.ContainsFunc(keys, func(key apikey.Key) bool { return key.ID == k }) {
				return store.ErrNotFound
			}
		}
	}
	for _, ib := range iso.InboxIDs {
		if _, err := s.Workspaces.Inbox(ctx, wsID, ib); err != nil {
			return err
		}
	}
	return nil
}

// Isolate carries out step 3: the members named are disabled, the keys
// revoked, the channels disconnected, the ranges refused, and the AI's
// auto-replies paused and exports frozen when asked. callerID and callerIP are
// the admin who runs it, who may not be disabled, and their address, which no
// refused range may hold.
func (s *Service) Isolate(ctx context.Context, wsID, id, callerID, callerIP string,
	iso Isolation) (Incident, error) {
	if len(iso.UserIDs)+len(iso.KeyIDs)+len(iso.InboxIDs) > 500 {
		return Incident{}, fmt.Errorf("incident: %w: at most 500 at once", ErrInvalid)
	}
	if err := s.isolable(ctx, wsID, callerID, iso); err != nil {
		return Incident{}, err
	}
	return s.step(ctx, wsID, id, StepIsolate, func(Incident) ([]line, audit.Diff, error) {
		old, err := s.Lockdown(ctx, wsID)
		if err != nil {
			return nil, nil, err
		}
		ranges := []string{}
		for _, p := range old.IPDeny {
			ranges = append(ranges, p.String())
		}
		ranges = append(ranges, iso.IPRanges...)
		ch := LockdownChange{IPDeny: &ranges}
		if iso.PauseAI {
			ch.AIPaused = &iso.PauseAI
		}
		if iso.FreezeExports {
			ch.ExportsFrozen = &iso.FreezeExports
		}
		next, err := applyLockdown(old, callerIP, ch) // checked before anything changes
		if err != nil {
			return nil, nil, err
		}
		var lines []line
		for _, u := range iso.UserIDs {
			if err := s.Workspaces.SetDisabled(ctx, s.Identity, wsID, u, true); err != nil {
				return nil, nil, err
			}
			lines = append(lines, line{text: "Member disabled", refs: []string{"user:" + u}})
		}
		for _, k := range iso.KeyIDs {
			if err := s.Keys.Revoke(ctx, wsID, k, "incident isolation"); err != nil {
				return nil, nil, err
			}
			lines = append(lines, line{text: "API key revoked", refs: []string{"apikey:" + k}})
		}
		for _, ib := range iso.InboxIDs {
			if err := s.Workspaces.DisconnectInbox(ctx, wsID, ib); err != nil {
				return nil, nil, err
			}
			lines = append(lines, line{text: "Channel disconnected",
				refs: []string{"inbox:" + ib}})
		}
		if err := s.db.InTx(ctx, func(tx *store.Tx) error {
			return s.saveLockdown(ctx, tx, wsID, old, next)
		}); err != nil {
			return nil, nil, err
		}
		if len(iso.IPRanges) > 0 {
			lines = append(lines, line{text: "Address ranges refused: " +
				strings.Join(iso.IPRanges, ", ")})
		}
		if next.AIPaused {
			lines = append(lines, line{text: "AI auto-replies paused: every customer message " +
				"goes to a person"})
		}
		if next.ExportsFrozen {
			lines = append(lines, line{text: "Exports frozen"})
		}
		return lines, audit.Diff{"users_disabled": {nil, len(iso.UserIDs)},
			"keys_revoked_count": {nil, len(iso.KeyIDs)}, "inboxes": {nil, len(iso.InboxIDs)},
			"ip_ranges": {nil, len(iso.IPRanges)}, "ai_paused": {old.AIPaused, next.AIPaused},
			"exports_frozen": {old.ExportsFrozen, next.ExportsFrozen}}, nil
	})
}

// Restore carries out step 5: the baseline named ("latest" for the newest)
// is applied, after the console or the API showed its differences, which
// confirm must name (Confirm).
func (s *Service) Restore(ctx context.Context, wsID, id, baselineID, byUserID, byEmail,
	confirm string) (Restored, Incident, error) {
	var out Restored
	in, err := s.step(ctx, wsID, id, StepRestore, func(Incident) ([]line, audit.Diff, error) {
		var err error
		if out, err = s.RestoreBaseline(ctx, wsID, baselineID, byUserID, byEmail,
			confirm); err != nil {
			return nil, nil, err
		}
		lines := []line{{text: "Baseline applied: " + out.Baseline.Name,
			refs: []string{"baseline:" + out.Baseline.ID}}}
		for _, d := range out.Applied {
			lines = append(lines, line{text: "Restored " + d.Area + " " + d.Subject + ": " +
				d.Restore})
		}
		for _, d := range out.Manual {
			lines = append(lines, line{text: "Left for a person: " + d.Area + " " +
				d.Subject + ": " + d.Restore})
		}
		return lines, audit.Diff{"applied": {nil, len(out.Applied)},
			"manual": {nil, len(out.Manual)}}, nil
	})
	return out, in, err
}

// Postmortem is what step 6 records.
type Postmortem struct {
	RootCause  string   `json:"root_cause"`
	Impact     string   `json:"impact"`
	Preventive string   `json:"preventive"`
	FollowUps  []string `json:"follow_ups"`
}

func (p *Postmortem) check() error {
	p.RootCause, p.Impact = strings.TrimSpace(p.RootCause), strings.TrimSpace(p.Impact)
	p.Preventive = strings.TrimSpace(p.Preventive)
	var fu []string
	for _, f := range p.FollowUps {
		if f = strings.TrimSpace(strings.ReplaceAll(f, "\n", " ")); f != "" {
			fu = append(fu, f)
		}
	}
	p.FollowUps = fu
	for _, f := range []string{p.RootCause, p.Impact, p.Preventive} {
		if f == "" || len(f) > 10000 || !utf8.ValidString(f) {
			return fmt.Errorf("incident: %w: the root cause, impact and preventive controls "+
				"are each 1 to 10000 characters", ErrInvalid)
		}
	}
	if len(fu) > 50 || slices.ContainsFunc(fu, func(f string) bool {
		return len(f) > 500 || !utf8.ValidString(f)
	}) {
		return fmt.Errorf("incident: %w: at most 50 follow-up tasks of 500 characters",
			ErrInvalid)
	}
	return nil
}

// Document carries out step 6: the root cause, impact, preventive controls
// and follow-up tasks are recorded.
func (s *Service) Document(ctx context.Context, wsID, id string, p Postmortem) (Incident,
	error) {
	if err := p.check(); err != nil {
		return Incident{}, err
	}
	return s.step(ctx, wsID, id, StepDocument, func(Incident) ([]line, audit.Diff, error) {
		if _, err := s.db.ExecContext(ctx, s.q.SetDocument, p.RootCause, p.Impact,
			p.Preventive, strings.Join(p.FollowUps, "\n"), wsID, id); err != nil {
			return nil, nil, fmt.Errorf("incident: document: %w", err)
		}
		return []line{{text: "Postmortem written: root cause, impact, preventive " +
				"controls, " + plural(len(p.FollowUps), "follow-up task")}},
			audit.Diff{"follow_ups": {nil, len(p.FollowUps)}}, nil
	})
}
