package webhook

import (
	"time"

	"github.com/thunaivi/thunaivi/internal/outbound"
)

// timeout bounds one delivery, from dialling to reading the answer.
const timeout = 10 * time.Second

// newGuard returns the guard deliveries pass: the product's outbound one,
// with the operator's allowed ranges.
func newGuard(o Options) outbound.Guard {
	return outbound.New(outbound.Options{Allow: o.Allow, Resolver: o.Resolver, Dial: o.Dial})
}
