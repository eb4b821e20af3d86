// Package outbound makes the product's calls to servers its users name:
// webhook endpoints, an optional LLM provider. Every such call is guarded
// against server-side request forgery: a host that resolves to any loopback,
// private, link-local or otherwise non-public address is refused, on the
// address actually dialled, unless an operator allowed its range. Certificates
// are always verified, redirects are never followed, and no proxy is used.
package outbound

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"time"
)

// ErrRefused is a host with an address outbound calls may not reach.
var ErrRefused = errors.New("refused: the host has an address the product may not reach")

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

// Resolver looks up a host's addresses; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Options adjust where calls may go.
type Options struct {
	// Allow lists ranges an operator permits although they are not public,
	// such as a server on the same private network. Plain http is allowed
	// only to hosts all of whose addresses fall in these ranges.
	Allow []netip.Prefix
	// Resolver checks hosts; nil is net.DefaultResolver.
	Resolver Resolver
	// Dial, when set, makes connections in place of a net.Dialer, so that a
	// test can see every attempt. It is only ever given an IP address and
	// port that passed the checks.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// RootCAs, when set, are the only certificate authorities trusted in
	// place of the system's: a test passes its own server's. Certificates are
	// verified either way.
	RootCAs *x509.CertPool
}

// Guard decides which addresses calls may reach, and dials only those.
type Guard struct {
	allow    []netip.Prefix
	resolver Resolver
	dial     func(ctx context.Context, network, address string) (net.Conn, error)
	roots    *x509.CertPool
}

// New returns the guard the options describe.
func New(o Options) Guard {
	g := Guard{resolver: o.Resolver, dial: o.Dial, roots: o.RootCAs}
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

// permitted reports whether a call may connect to a: an address in an
// allowed range always, a public one unless the call is plain http. An
// address with a zone is refused: only link-local addresses need one.
func (g Guard) permitted(a netip.Addr, plain bool) bool {
	if a.Zone() != "" {
		return false
	}
	a = a.Unmap()
	if slices.ContainsFunc(g.allow, func(p netip.Prefix) bool { return p.Contains(a) }) {
		return true
	}
	return !plain && public(a)
}

// Check refuses addrs, with ErrRefused, unless every one of them may be
// reached; plain says whether the call is plain http.
func (g Guard) Check(addrs []netip.Addr, plain bool) error {
	if len(addrs) == 0 {
		return ErrRefused
	}
	for _, a := range addrs {
		if !g.permitted(a, plain) {
			return ErrRefused
		}
	}
	return nil
}

// Lookup returns host's addresses: itself when it is an IP address.
func (g Guard) Lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	return g.resolver.LookupNetIP(ctx, "ip", host)
}

// dialer returns the dial function of a call's transport. It resolves the
// host once, refuses it unless every address is permitted, and then connects
// to those very addresses, so that a name that resolves otherwise a moment
// later (DNS rebinding) cannot lead it elsewhere.
func (g Guard) dialer(plain bool, timeout time.Duration) func(ctx context.Context, network,
	address string) (net.Conn, error) {
	dial := g.dial
	if dial == nil {
		dial = (&net.Dialer{Timeout: timeout}).DialContext
	}
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(address)
		if err != nil {
			return nil, fmt.Errorf("dial: %w", err)
		}
		addrs, err := g.Lookup(ctx, host)
		if err != nil {
			return nil, fmt.Errorf("resolve the host: %w", err)
		}
		if err := g.Check(addrs, plain); err != nil {
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

// Client returns a client for plain http calls, or for https ones:
// certificates verified, TLS 1.2 at least, no redirects followed and no
// proxy, since a proxy would be dialled in place of the checked address.
// timeout bounds each call, from dialling to reading the answer's body.
func (g Guard) Client(plain bool, timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext: g.dialer(plain, timeout),
			TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12,
				RootCAs: g.roots},
			TLSHandshakeTimeout:   timeout,
			ResponseHeaderTimeout: timeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
