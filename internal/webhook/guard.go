package webhook

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"time"
)

// timeout bounds one delivery, from dialling to reading the answer.
const timeout = 10 * time.Second

// errRefused is a host with an address webhooks may not reach.
var errRefused = errors.New("webhook: refused: the host has an address webhooks may not reach")

// nonPublic lists the ranges that are not public unicast addresses beyond
// those netip.Addr's methods name (loopback, private, link-local, multicast,
// unspecified).
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // this network
	netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, and broadcast
	netip.MustParsePrefix("::/96"),          // IPv4-compatible, deprecated
	netip.MustParsePrefix("64:ff9b::/96"),   // NAT64, which reaches IPv4 behind it
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64
	netip.MustParsePrefix("100::/64"),       // discard
	netip.MustParsePrefix("2001::/32"),      // Teredo, which embeds IPv4
	netip.MustParsePrefix("2002::/16"),      // 6to4, which embeds IPv4
	netip.MustParsePrefix("fec0::/10"),      // site-local, deprecated
}

// guard decides which addresses deliveries may reach, and dials only those.
type guard struct {
	allow    []netip.Prefix
	resolver Resolver
	dial     func(ctx context.Context, network, address string) (net.Conn, error)
}

func newGuard(o Options) guard {
	g := guard{resolver: o.Resolver, dial: o.Dial}
	for _, p := range o.Allow {
		g.allow = append(g.allow, p.Masked())
	}
	if g.resolver == nil {
		g.resolver = net.DefaultResolver
	}
	return g
}

// public reports whether a is a public unicast address.
func public(a netip.Addr) bool {
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() ||
		a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	return !slices.ContainsFunc(nonPublic, func(p netip.Prefix) bool { return p.Contains(a) })
}

// permitted reports whether a delivery may connect to a: an address in an
// allowed range always, a public one unless the delivery is plain http. An
// address with a zone is refused: only link-local addresses need one.
func (g guard) permitted(a netip.Addr, plain bool) bool {
	if a.Zone() != "" {
		return false
	}
	a = a.Unmap()
	if slices.ContainsFunc(g.allow, func(p netip.Prefix) bool { return p.Contains(a) }) {
		return true
	}
	return !plain && public(a)
}

// check refuses addrs unless every one of them is permitted.
func (g guard) check(addrs []netip.Addr, plain bool) error {
	if len(addrs) == 0 {
		return errRefused
	}
	for _, a := range addrs {
		if !g.permitted(a, plain) {
			return errRefused
		}
	}
	return nil
}

// lookup returns host's addresses: itself when it is an IP address.
func (g guard) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	return g.resolver.LookupNetIP(ctx, "ip", host)
}

// dialer returns the dial function of a delivery's transport. It resolves
// the host once, refuses it unless every address is permitted, and then
// connects to those very addresses, so that a name that resolves otherwise a
// moment later (DNS rebinding) cannot lead it elsewhere.
func (g guard) dialer(plain bool) func(ctx context.Context, network,
	address string) (net.Conn, error) {
	dial := g.dial
	if dial == nil {
		dial = (&net.Dialer{Timeout: timeout}).DialContext
	}
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(address)
		if err != nil {
			return nil, fmt.Errorf("webhook: dial: %w", err)
		}
		addrs, err := g.lookup(ctx, host)
		if err != nil {
			return nil, fmt.Errorf("webhook: resolve the host: %w", err)
		}
		if err := g.check(addrs, plain); err != nil {
			return nil, err
		}
		var errs []error
		for _, a := range addrs {
			c, err := dial(ctx, network, net.JoinHostPort(a.Unmap().String(), port))
			if err == nil {
				return c, nil
			}
			errs = append(errs, err)
		}
		return nil, errors.Join(errs...)
	}
}

// client returns the client deliveries are posted with: certificates
// verified, TLS 1.2 at least, no redirects followed and no proxy, since a
// proxy would be dialled in place of the checked address.
func (g guard) client(plain bool) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:         g.dialer(plain),
			TLSClientConfig:     &tls.Config{MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout: timeout,
			MaxIdleConnsPerHost: 2,
			IdleConnTimeout:     90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
