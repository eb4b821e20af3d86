package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// The headers a reverse proxy passes on: the client's address, the scheme
// and the host it asked for.
const (
	forwardedFor   = "X-Forwarded-For"
	forwardedProto = "X-Forwarded-Proto"
	forwardedHost  = "X-Forwarded-Host"
)

// hstsHeader tells browsers to reach the product only over HTTPS for a
// year.
const hstsHeader = "max-age=31536000"

// forwarded returns the request as the client sent it through a trusted
// proxy: its address in RemoteAddr, and the host it asked for in Host. From
// any other peer the forwarded headers are removed, so that nothing further
// on (rate limits, audit entries, cross-origin checks) can be told a made-up
// address by the client itself.
func (s *Server) forwarded(r *http.Request) *http.Request {
	h := r.Header
	if h.Get(forwardedFor) == "" && h.Get(forwardedProto) == "" && h.Get(forwardedHost) == "" {
		return r
	}
	out := r.WithContext(r.Context())
	out.Header = h.Clone()
	peer, ok := peerAddr(r)
	if !ok || !s.trusted(peer) {
		out.Header.Del(forwardedFor)
		out.Header.Del(forwardedProto)
		out.Header.Del(forwardedHost)
		return out
	}
	out.RemoteAddr = net.JoinHostPort(s.forwardedClient(peer, h.Values(forwardedFor)).String(),
		"0")
	if host := strings.TrimSpace(h.Get(forwardedHost)); host != "" {
		out.Host = host
	}
	return out
}

// forwardedClient walks X-Forwarded-For from the right, where the nearest
// proxy appended the address it saw, past every trusted proxy: the first
// address that is not one is the client's. Addresses further left were
// written by the client, or proxies nobody vouches for, and count for
// nothing.
func (s *Server) forwardedClient(peer netip.Addr, values []string) netip.Addr {
	var hops []string
	for _, v := range values {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0 && s.trusted(client); i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		client = a.Unmap()
	}
	return client
}

// trusted reports whether a peer is one of the proxies the operator named.
func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// peerAddr is the address of the connection's other end.
func peerAddr(r *http.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

// overHTTPS reports whether the client reached the product over HTTPS:
// directly, or through a trusted proxy that says so (forwarded has removed
// the header from anyone else).
func overHTTPS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(strings.TrimSpace(r.Header.Get(forwardedProto)),
		"https")
}
