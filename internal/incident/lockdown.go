package incident

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/store"
)

// Lockdown is the isolation in force in a workspace, and what the operator
// recorded about the release it should run.
type Lockdown struct {
	// AIPaused hands every customer message to a person: the AI sends no
	// answer, draft or courtesy reply.
	AIPaused bool `json:"ai_paused"`
	// ExportsFrozen refuses every export of customer data.
	ExportsFrozen bool `json:"exports_frozen"`
	// IPDeny are address ranges whose members and API keys are refused.
	IPDeny []netip.Prefix `json:"ip_deny"`
	// ReleaseSHA256 is the checksum the release manifest gives for the
	// binary this workspace's server should run; "" when none is recorded.
	ReleaseSHA256 string `json:"release_sha256"`
	// LatestRelease is the newest release of the product the operator
	// knows of, for the monthly checklist's "updates confirmed".
	LatestRelease string    `json:"latest_release"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// maxDeny caps a workspace's refused ranges.
const maxDeny = 200

// lockdownTTL is how long a node trusts its copy of a workspace's lockdown.
// Every request checks the refused ranges, so the copy spares the database;
// another node sees a change within this time.
const lockdownTTL = 3 * time.Second

type cachedLockdown struct {
	l       Lockdown
	expires time.Time
}

// Lockdown returns a workspace's isolation settings.
func (s *Service) Lockdown(ctx context.Context, wsID string) (Lockdown, error) {
	var l Lockdown
	var ai, frozen int
	var deny string
	var updated int64
	err := s.db.QueryRowContext(ctx, s.q.Lockdown, wsID).Scan(&ai, &frozen, &deny,
		&l.ReleaseSHA256, &l.LatestRelease, &updated)
	l.IPDeny = []netip.Prefix{}
	if errors.Is(err, sql.ErrNoRows) {
		return l, nil
	}
	if err != nil {
		return l, fmt.Errorf("incident: lockdown: %w", err)
	}
	l.AIPaused, l.ExportsFrozen = ai == 1, frozen == 1
	for _, p := range strings.Split(deny, ",") {
		if pfx, err := netip.ParsePrefix(p); err == nil {
			l.IPDeny = append(l.IPDeny, pfx)
		}
	}
	l.UpdatedAt = time.UnixMilli(updated).UTC()
	return l, nil
}

// cached returns a workspace's lockdown as this node last read it, within
// lockdownTTL; the zero Lockdown when it cannot be read.
func (s *Service) cached(ctx context.Context, wsID string) Lockdown {
	now := s.now()
	if c, ok := s.lockCache.Load(wsID); ok && now.Before(c.(cachedLockdown).expires) {
		return c.(cachedLockdown).l
	}
	l, err := s.Lockdown(ctx, wsID)
	if err != nil {
		return Lockdown{}
	}
	s.lockCache.Store(wsID, cachedLockdown{l: l, expires: now.Add(lockdownTTL)})
	return l
}

// AIPaused reports whether a workspace's AI auto-replies are paused.
func (s *Service) AIPaused(ctx context.Context, wsID string) bool {
	l, err := s.Lockdown(ctx, wsID)
	// A pause that cannot be read is kept: a person answering is the safe side.
	return err != nil || l.AIPaused
}

// ExportsFrozen reports whether a workspace's exports are frozen.
func (s *Service) ExportsFrozen(ctx context.Context, wsID string) bool {
	l, err := s.Lockdown(ctx, wsID)
	return err != nil || l.ExportsFrozen
}

// IPDenied reports whether ip falls in one of a workspace's refused ranges.
func (s *Service) IPDenied(ctx context.Context, wsID, ip string) bool {
	l := s.cached(ctx, wsID)
	if len(l.IPDeny) == 0 {
		return false
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	return slices.ContainsFunc(l.IPDeny, func(p netip.Prefix) bool { return p.Contains(addr) })
}

// LockdownChange is what SetLockdown changes; a nil field stays as it is.
type LockdownChange struct {
	AIPaused      *bool     `json:"ai_paused"`
	ExportsFrozen *bool     `json:"exports_frozen"`
	IPDeny        *[]string `json:"ip_deny"`
	ReleaseSHA256 *string   `json:"release_sha256"`
	LatestRelease *string   `json:"latest_release"`
}

var (
	sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)
	version   = regexp.MustCompile(`^v?[0-9A-Za-z.+-]{1,64}$`)
)

// SetLockdown changes a workspace's isolation settings and audits old and
// new. callerIP is the address of whoever asks: a range holding it is
// refused, so that nobody locks themselves out.
func (s *Service) SetLockdown(ctx context.Context, wsID, callerIP string,
	ch LockdownChange) (Lockdown, error) {
	old, err := s.Lockdown(ctx, wsID)
	if err != nil {
		return Lockdown{}, err
	}
	next, err := applyLockdown(old, callerIP, ch)
	if err != nil {
		return Lockdown{}, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		return s.saveLockdown(ctx, tx, wsID, old, next)
	})
	s.lockCache.Delete(wsID)
	return next, err
}

func (s *Service) saveLockdown(ctx context.Context, tx *store.Tx, wsID string, old,
	next Lockdown) error {
	next.UpdatedAt = s.now().UTC()
	ranges := make([]string, len(next.IPDeny))
	for i, p := range next.IPDeny {
		ranges[i] = p.String()
	}
	if _, err := tx.ExecContext(ctx, s.q.SetLockdown, wsID, boolInt(next.AIPaused),
		boolInt(next.ExportsFrozen), strings.Join(ranges, ","), next.ReleaseSHA256,
		next.LatestRelease, next.UpdatedAt.UnixMilli()); err != nil {
		return fmt.Errorf("incident: set lockdown: %w", err)
	}
	s.lockCache.Delete(wsID)
	return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
		Action: audit.LockdownChanged, TargetType: "workspace", TargetID: wsID,
		Diff: audit.Diff{"ai_paused": {old.AIPaused, next.AIPaused},
			"exports_frozen": {old.ExportsFrozen, next.ExportsFrozen},
			"ip_deny":        {old.IPDeny, next.IPDeny},
			"release_sha256": {old.ReleaseSHA256, next.ReleaseSHA256},
			"latest_release": {old.LatestRelease, next.LatestRelease}}})
}

// applyLockdown checks a change and returns the settings it makes.
func applyLockdown(l Lockdown, callerIP string, ch LockdownChange) (Lockdown, error) {
	if ch.AIPaused != nil {
		l.AIPaused = *ch.AIPaused
	}
	if ch.ExportsFrozen != nil {
		l.ExportsFrozen = *ch.ExportsFrozen
	}
	if ch.IPDeny != nil {
		ranges, err := denyRanges(*ch.IPDeny, callerIP)
		if err != nil {
			return l, err
		}
		l.IPDeny = ranges
	}
	if ch.ReleaseSHA256 != nil {
		v := strings.ToLower(strings.TrimSpace(*ch.ReleaseSHA256))
		if v != "" && !sha256Hex.MatchString(v) {
			return l, fmt.Errorf("incident: %w: the release checksum is 64 hex digits "+
				"(sha256)", ErrInvalid)
		}
		l.ReleaseSHA256 = v
	}
	if ch.LatestRelease != nil {
		v := strings.TrimSpace(*ch.LatestRelease)
		if v != "" && !version.MatchString(v) {
			return l, fmt.Errorf("incident: %w: a release is a version such as v1.4.2",
				ErrInvalid)
		}
		l.LatestRelease = v
	}
	return l, nil
}

// denyRanges parses refused ranges; a bare address is its own range. A range
// that holds callerIP is refused.
func denyRanges(in []string, callerIP string) ([]netip.Prefix, error) {
	if len(in) > maxDeny {
		return nil, fmt.Errorf("incident: %w: at most %d ranges", ErrInvalid, maxDeny)
	}
	caller, _ := netip.ParseAddr(callerIP)
	out := []netip.Prefix{}
	for _, r := range in {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		p, err := netip.ParsePrefix(r)
		if err != nil {
			a, aerr := netip.ParseAddr(r)
			if aerr != nil {
				return nil, fmt.Errorf("incident: %w: %q is not an address or a CIDR range",
					ErrInvalid, r)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		p = p.Masked()
		if caller.IsValid() && p.Contains(caller.Unmap()) {
			return nil, fmt.Errorf("incident: %w: %s holds your own address", ErrInvalid, p)
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}
