package incident

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/store"
)

// Check statuses.
const (
	CheckOK      = "ok"
	CheckWarning = "warning"
	CheckFailed  = "failed"
	CheckUnknown = "unknown"
)

// Check is one integrity check and what it found.
type Check struct {
	Name   string   `json:"name"`
	Status string   `json:"status"`
	Detail string   `json:"detail"`
	Items  []string `json:"items,omitempty"`
}

// Integrity is what step 4 found.
type Integrity struct {
	Incident Incident `json:"incident"`
	Checks   []Check  `json:"checks"`
}

// Validate carries out step 4: the audit chain is verified against cps; the
// members and roles are compared with the last saved baseline; admins
// without a second factor, API keys made and webhook or channel changes in
// the incident window are listed; and the running binary's checksum is
// compared with the release manifest the operator recorded.
func (s *Service) Validate(ctx context.Context, wsID, id string,
	cps audit.Checkpoints) (Integrity, error) {
	var out Integrity
	in, err := s.step(ctx, wsID, id, StepValidate, func(in Incident) ([]line, audit.Diff,
		error) {
		var err error
		out.Checks, err = s.checks(ctx, wsID, in, cps)
		if err != nil {
			return nil, nil, err
		}
		var lines []line
		counts := audit.Diff{}
		for _, c := range out.Checks {
			text := fmt.Sprintf("%s: %s. %s", c.Name, c.Status, c.Detail)
			if len(c.Items) > 0 {
				text += ": " + strings.Join(c.Items, "; ")
			}
			lines = append(lines, line{text: text})
			counts[c.Name] = [2]any{nil, c.Status}
		}
		return lines, counts, nil
	})
	out.Incident = in
	return out, err
}

func (s *Service) checks(ctx context.Context, wsID string, in Incident,
	cps audit.Checkpoints) ([]Check, error) {
	var out []Check
	rep, err := s.audit.Verify(ctx, cps)
	if err != nil {
		return nil, err
	}
	c := Check{Name: "audit chain", Status: CheckOK,
		Detail: fmt.Sprintf("%d entries verify, sealed up to %d", rep.Entries, rep.Sealed)}
	if rep.Problem != nil {
		c.Status, c.Detail = CheckFailed, rep.Problem.Error()
	}
	out = append(out, c)

	base := Check{Name: "members and roles against the baseline", Status: CheckOK}
	b, diffs, err := s.Compare(ctx, wsID, "latest")
	switch {
	case errors.Is(err, store.ErrNotFound):
		base.Status, base.Detail = CheckUnknown, "no baseline saved yet"
	case err != nil:
		return nil, err
	default:
		base.Detail = "baseline " + b.Name
		for _, d := range diffs {
			if d.Area == "member" || d.Area == "role" || d.Area == "disabled" {
				base.Items = append(base.Items, fmt.Sprintf("%s %s: saved %v, now %v",
					d.Area, d.Subject, d.Saved, d.Current))
			}
		}
		if len(base.Items) > 0 {
			base.Status = CheckFailed
		}
	}
	out = append(out, base)

	window, err := s.windowChecks(ctx, wsID, in)
	if err != nil {
		return nil, err
	}
	out = append(out, window...)
	out = append(out, s.binaryCheck(ctx, wsID),
		Check{Name: "templates and assets", Status: CheckOK,
			Detail: "none served from disk: the console's templates and assets are " +
				"embedded in the binary, so its checksum covers them"})
	return out, nil
}

// windowChecks list what changed during the incident window.
func (s *Service) windowChecks(ctx context.Context, wsID string, in Incident) ([]Check,
	error) {
	members, err := s.Workspaces.Members(ctx, wsID)
	if err != nil {
		return nil, err
	}
	tfa := Check{Name: "admins without 2FA", Status: CheckOK, Detail: "every admin has one"}
	for _, m := range members {
		if m.Role != access.Admin || m.Disabled {
			continue
		}
		on, err := s.Identity.HasSecondFactor(ctx, m.UserID)
		if err != nil {
			return nil, err
		}
		if !on {
			tfa.Items = append(tfa.Items, m.Email)
		}
	}
	if len(tfa.Items) > 0 {
		tfa.Status, tfa.Detail = CheckFailed, "admins without a second factor"
	}

	keys, err := s.Keys.List(ctx, wsID)
	if err != nil {
		return nil, err
	}
	successors := map[string]bool{}
	for _, k := range keys {
		successors[k.RolledTo] = true
	}
	made := Check{Name: "API keys made in the window", Status: CheckOK,
		Detail: "none but the successors of rolled keys"}
	for _, k := range keys {
		if !k.CreatedAt.Before(in.WindowFrom) && !successors[k.ID] {
			made.Items = append(made.Items, fmt.Sprintf("%s (…%s), %s", k.Name, k.Last4,
				k.Status))
		}
	}
	if len(made.Items) > 0 {
		made.Status, made.Detail = CheckWarning, "made since "+
			in.WindowFrom.Format("2006-01-02 15:04 UTC")
	}

	out := []Check{tfa, made}
	for _, area := range []struct{ name, prefix string }{
		{"webhook changes in the window", "webhook"},
		{"channel changes in the window", "channel"},
		{"admins added or promoted in the window", "member"},
	} {
		c, err := s.changesIn(ctx, wsID, in, area.name, area.prefix)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// changesIn lists the audit entries under prefix in the incident window; for
// "member", the joins and role changes that made an admin.
func (s *Service) changesIn(ctx context.Context, wsID string, in Incident, name,
	prefix string) (Check, error) {
	c := Check{Name: name, Status: CheckOK, Detail: "none since " +
		in.WindowFrom.Format("2006-01-02 15:04 UTC")}
	f := audit.Filter{Workspace: wsID, From: in.WindowFrom, Action: prefix}
	if prefix == "member" {
		f.Action = ""
	}
	entries, err := s.audit.List(ctx, f)
	if err != nil {
		return c, err
	}
	for _, e := range entries {
		switch {
		case prefix != "member":
		case e.Action == audit.RoleChanged && strings.Contains(e.Diff, `"admin"]`),
			e.Action == audit.MemberJoined && strings.Contains(e.Diff, `"admin"`):
		default:
			continue
		}
		c.Items = append(c.Items, fmt.Sprintf("#%d %s %s by %s", e.Seq, e.Action, e.TargetID,
			firstOf(e.ActorEmail, e.ActorType)))
	}
	if len(c.Items) > 0 {
		c.Status, c.Detail = CheckWarning, "review each change"
	}
	return c, nil
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// binaryCheck compares the running binary's checksum with the one the
// operator recorded from the release manifest.
func (s *Service) binaryCheck(ctx context.Context, wsID string) Check {
	c := Check{Name: "product binary"}
	sum, err := ExecutableSHA256()
	if err != nil {
		c.Status, c.Detail = CheckUnknown, "the running binary could not be read"
		return c
	}
	l, err := s.Lockdown(ctx, wsID)
	switch {
	case err != nil:
		c.Status, c.Detail = CheckUnknown, "the release manifest could not be read"
	case l.ReleaseSHA256 == "":
		c.Status, c.Detail = CheckUnknown, "no manifest: record the release's sha256 "+
			"(PUT /api/v1/security/lockdown {\"release_sha256\"}); the binary's is "+sum
	case l.ReleaseSHA256 == sum:
		c.Status, c.Detail = CheckOK, "sha256 "+sum+" matches the release manifest"
	default:
		c.Status, c.Detail = CheckFailed, "sha256 "+sum+" differs from the release "+
			"manifest's "+l.ReleaseSHA256
	}
	return c
}

// ExecutableSHA256 is the hex sha256 of the running binary's file.
func ExecutableSHA256() (string, error) {
	path, err := os.Executable()
	if err != nil {
		return "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Version is the product's version as built: its module version, or the
// VCS revision for a build from a checkout.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, st := range bi.Settings {
		if st.Key == "vcs.revision" {
			return "devel " + st.Value
		}
	}
	return "devel"
}
