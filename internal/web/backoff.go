package web

import (
	"sync"
	"time"

	"github.com/thunaivi/thunaivi/internal/identity"
)

// backoff slows down guessing at one account, from any number of
// addresses: after freeFailures failed sign-ins in a row, each further
// attempt waits twice as long as the one before, up to maxWait. It is keyed
// by the address typed, whether or not an account has it, so that it tells
// nobody which accounts exist.
type backoff struct {
	now func() time.Time

	mu       sync.Mutex
	accounts map[string]*failures
}

type failures struct {
	count int
	until time.Time
	last  time.Time
	// from are the client addresses the failures came from, up to burstIPs.
	from map[string]bool
}

// A burst is burstFailures or more failures in a row from burstIPs or more
// addresses: credential stuffing. A sign-in that succeeds right after one
// is suspicious.
const (
	burstFailures = 5
	burstIPs      = 3
)

const (
	freeFailures = 5
	firstWait    = time.Second
	maxWait      = 15 * time.Minute
	// backoffMemory bounds how many addresses are remembered; the oldest
	// quiet ones are forgotten first.
	backoffMemory = 100_000
)

func newBackoff(now func() time.Time) *backoff {
	return &backoff{now: now, accounts: map[string]*failures{}}
}

// backoffKey is the account an address names however it is spelled
// ("<Ana@Example.com>", "ana@example.com (work)"), as sign-in reads it, so
// that respelling it does not start the count again. Text that is no address
// shares one key: it signs in to nothing.
func backoffKey(email string) string {
	if norm, err := identity.NormalizeEmail(email); err == nil {
		return norm
	}
	return "(not an address)"
}

// wait reports how long an attempt at email must still wait; 0 lets it in.
func (b *backoff) wait(email string) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	f := b.accounts[backoffKey(email)]
	if f == nil {
		return 0
	}
	return max(0, f.until.Sub(b.now()))
}

// failed counts a failed attempt at email from ip and sets the wait before
// the next.
func (b *backoff) failed(email, ip string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	key := backoffKey(email)
	f := b.accounts[key]
	if f == nil {
		if len(b.accounts) >= backoffMemory {
			b.forgetQuiet(now)
		}
		f = &failures{}
		b.accounts[key] = f
	}
	f.count++
	f.last = now
	if f.from == nil {
		f.from = map[string]bool{}
	}
	if len(f.from) < burstIPs {
		f.from[ip] = true
	}
	if n := f.count - freeFailures; n > 0 {
		wait := maxWait
		if n < 20 {
			wait = min(maxWait, firstWait<<(n-1))
		}
		f.until = now.Add(wait)
	}
}

// succeeded forgets email's failures, and reports whether they were a burst.
func (b *backoff) succeeded(email string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	key := backoffKey(email)
	f := b.accounts[key]
	delete(b.accounts, key)
	return f != nil && f.count >= burstFailures && len(f.from) >= burstIPs
}

// forgetQuiet drops the addresses with no failure for longer than maxWait,
// or, when all are recent, half of them.
func (b *backoff) forgetQuiet(now time.Time) {
	for k, f := range b.accounts {
		if now.Sub(f.last) > maxWait {
			delete(b.accounts, k)
		}
	}
	for k := range b.accounts {
		if len(b.accounts) < backoffMemory/2 {
			break
		}
		delete(b.accounts, k)
	}
}
