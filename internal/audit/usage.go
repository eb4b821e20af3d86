package audit

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/thunaivi/thunaivi/internal/origin"
)

// Usage audits API-key use without flooding the log: a key's first use, its
// first use from each new address, and one count per key per hour.
type Usage struct {
	log *Log

	mu   sync.Mutex
	keys map[string]*keyUse
	// hour is the start of the hour being counted.
	hour time.Time
}

type keyUse struct {
	workspace string
	ips       map[string]bool
	count     int
}

// maxIPsPerKey bounds the addresses remembered per key; beyond it the log is
// asked again, which is slower but never wrong.
const maxIPsPerKey = 256

// NewUsage returns a usage tracker writing to l.
func NewUsage(l *Log) *Usage {
	return &Usage{log: l, keys: map[string]*keyUse{}}
}

// Used records one use of key keyID of a workspace, by the request in ctx.
func (u *Usage) Used(ctx context.Context, wsID, keyID string) error {
	ip := origin.RequestFrom(ctx).IP
	u.mu.Lock()
	if err := u.rollLocked(ctx); err != nil {
		u.mu.Unlock()
		return err
	}
	k := u.keys[keyID]
	if k == nil {
		k = &keyUse{workspace: wsID, ips: map[string]bool{}}
		u.keys[keyID] = k
	}
	k.count++
	known := k.ips[ip]
	if !known && len(k.ips) < maxIPsPerKey {
		k.ips[ip] = true
	}
	u.mu.Unlock()
	if known {
		return nil
	}
	return u.firstUses(ctx, wsID, keyID, ip)
}

// firstUses writes the first-use and new-address entries a use calls for,
// asking the log what it saw before this process started.
func (u *Usage) firstUses(ctx context.Context, wsID, keyID, ip string) error {
	actor := origin.Actor{Type: origin.APIKey, ID: keyID}
	var ever, fromIP int
	if err := u.log.db.QueryRowContext(ctx, u.log.q.KeyUseSeen, keyID, "", "").
		Scan(&ever); err != nil {
		return err
	}
	if err := u.log.db.QueryRowContext(ctx, u.log.q.KeyUseSeen, keyID, ip, ip).
		Scan(&fromIP); err != nil {
		return err
	}
	ev := Event{Workspace: wsID, Action: APIKeyUsed, TargetType: "apikey", TargetID: keyID,
		Actor: &actor}
	switch {
	case ever == 0:
		ev.Reason = "first use"
	case fromIP == 0:
		ev.Reason = "first use from a new address"
	default:
		return nil
	}
	return u.log.Write(ctx, ev)
}

// rollLocked writes the finished hour's counts when the hour has turned.
func (u *Usage) rollLocked(ctx context.Context) error {
	hour := u.log.now().UTC().Truncate(time.Hour)
	if u.hour.IsZero() {
		u.hour = hour
	}
	if !hour.After(u.hour) {
		return nil
	}
	err := u.flushLocked(ctx)
	u.hour = hour
	return err
}

// Flush writes the counts so far, as on shutdown.
func (u *Usage) Flush(ctx context.Context) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.flushLocked(ctx)
}

func (u *Usage) flushLocked(ctx context.Context) error {
	for id, k := range u.keys {
		if k.count == 0 {
			continue
		}
		actor := origin.Actor{Type: origin.APIKey, ID: id}
		err := u.log.Write(context.WithoutCancel(ctx), Event{Workspace: k.workspace,
			Action: APIKeyUsed, TargetType: "apikey", TargetID: id, Actor: &actor,
			Reason: "hourly count from " + u.hour.Format(time.RFC3339),
			Diff:   Diff{"uses": {nil, strconv.Itoa(k.count)}}})
		if err != nil {
			return err
		}
		k.count = 0
	}
	return nil
}
