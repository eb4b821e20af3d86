package web

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/origin"
)

// probePaths are what scanners ask every server for: secrets left in the web
// root, other products' admin pages, version-control folders. Thunaivi serves
// none of them (its admin console lives under a secret path), so asking is a
// probe. None is a word the product uses of itself, such as "console", which
// a member may well type by mistake.
var probePaths = []string{"/.env", "/.git", "/.svn", "/.hg", "/.aws", "/.ssh", "/.htaccess",
	"/.htpasswd", "/.ds_store", "/admin", "/adminer", "/manager/html", "/wp-admin",
	"/wp-login", "/wp-content", "/wp-includes",
	"/xmlrpc.php", "/phpmyadmin", "/pma", "/administrator", "/cgi-bin", "/vendor/phpunit",
	"/server-status", "/actuator", "/h2-console", "/jmx-console", "/.well-known/../",
	"/etc/passwd",
	"/config.json", "/config.php", "/web.config", "/backup", "/dump.sql", "/db.sql"}

// probing reports whether path is a scanner's probe: one of probePaths, any
// .php page, or a path that climbs out of the root.
func probing(path string) bool {
	p := strings.ToLower(path)
	for _, prefix := range probePaths {
		if p == prefix || strings.HasPrefix(p, prefix+"/") || strings.HasPrefix(p, prefix+".") {
			return true
		}
	}
	return strings.HasSuffix(p, ".php") || strings.Contains(p, "/../") ||
		strings.HasSuffix(p, "/..")
}

// Refusals are recorded without letting one client flood the audit log: a
// client's probes at most once per probeQuiet (a scan of a thousand paths is
// one entry), a member's refused requests at most once per deniedQuiet. The
// metrics still count every one.
const (
	probeQuiet  = 10 * time.Minute
	deniedQuiet = time.Minute
)

// quietLog remembers whose refusals were recorded lately.
type quietLog struct {
	mu     sync.Mutex
	now    func() time.Time
	window time.Duration
	seen   map[string]time.Time
}

func newQuietLog(now func() time.Time, window time.Duration) *quietLog {
	return &quietLog{now: now, window: window, seen: map[string]time.Time{}}
}

// first reports whether a refusal of key's should be recorded now.
func (l *quietLog) first(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.seen) > 10000 {
		for k, t := range l.seen {
			if now.Sub(t) > l.window {
				delete(l.seen, k)
			}
		}
	}
	if t, ok := l.seen[key]; ok && now.Sub(t) < l.window {
		return false
	}
	l.seen[key] = now
	return true
}

// probe counts a refused probe and records the first from its client in a
// while in the audit log.
func (s *Server) probe(r *http.Request, what string) {
	s.Metrics.Probe()
	// Another site can make a visitor's browser ask for any path: such a
	// request is recorded, but ends no session and blocks no address, or any
	// page could sign out an office behind one address.
	fromPage := sentByOtherSite(r)
	if fromPage {
		what += ", sent by a browser from another site"
	}
	if s.Rules.BlockProbers && !fromPage && s.probers.probed(clientIP(r)) {
		s.log.Warn("Blocked a probing address", "ip", clientIP(r), "for", blockFor.String(),
			"request_id", requestID(r.Context()))
	}
	if !fromPage {
		s.revokeProbers(r)
	}
	if s.Audit == nil || !s.probes.first(clientIP(r)) {
		return
	}
	anon := origin.Actor{Type: origin.Anonymous}
	err := s.Audit.Write(r.Context(), audit.Event{Action: audit.ProbeBlocked, Actor: &anon,
		TargetType: "path", TargetID: loggedPath(r.URL.Path), Outcome: audit.Refused,
		Reason: what + " (" + r.Method + ")"})
	if err != nil {
		s.log.Error("Recording a probe failed", "error", err, "request_id", requestID(r.Context()))
	}
}

// sentByOtherSite reports whether a browser sent the request on another
// site's behalf: its fetch metadata says so, or its Origin or Referer names
// another host.
func sentByOtherSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return true
	}
	for _, h := range []string{"Origin", "Referer"} {
		if v := r.Header.Get(h); v != "" {
			if u, err := url.Parse(v); err != nil || u.Host != r.Host {
				return true
			}
		}
	}
	return false
}

// denied counts and records a member asking for what their role does not
// allow.
func (s *Server) denied(r *http.Request, p *principal, perm access.Permission) {
	s.Metrics.Denied("forbidden")
	if s.Audit == nil || !s.refusals.first(p.UserID) {
		return
	}
	err := s.Audit.Write(r.Context(), audit.Event{Workspace: p.WorkspaceID,
		Action: audit.Denied, TargetType: "route", TargetID: r.Method + " " + r.URL.Path,
		Outcome: audit.Refused, Reason: "the " + string(p.Role) + " role lacks " + string(perm)})
	if err != nil {
		s.log.Error("Recording a refusal failed", "error", err,
			"request_id", requestID(r.Context()))
	}
}

// remoteIP is the client's address as the audit log records it: the whole
// address, IPv6 included.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Probers are blocked: an address that sends proberLimit probes within
// probeQuiet gets every answer a 404, whatever it asks, for blockFor.
const (
	proberLimit = 20
	blockFor    = 15 * time.Minute
)

// proberLog counts probes per client address and remembers who is blocked.
type proberLog struct {
	mu      sync.Mutex
	now     func() time.Time
	probes  map[string][]time.Time
	blocked map[string]time.Time
}

func newProberLog(now func() time.Time) *proberLog {
	return &proberLog{now: now, probes: map[string][]time.Time{},
		blocked: map[string]time.Time{}}
}

// probed counts a probe from key, and reports whether it is now blocked.
func (l *proberLog) probed(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.probes) > 10000 {
		for k, ts := range l.probes {
			if now.Sub(ts[len(ts)-1]) > probeQuiet {
				delete(l.probes, k)
			}
		}
	}
	recent := []time.Time{now}
	for _, t := range l.probes[key] {
		if now.Sub(t) < probeQuiet {
			recent = append(recent, t)
		}
	}
	l.probes[key] = recent
	if len(recent) >= proberLimit {
		l.blocked[key] = now.Add(blockFor)
		delete(l.probes, key)
		return true
	}
	return false
}

// isBlocked reports whether key is blocked now.
func (l *proberLog) isBlocked(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	until, ok := l.blocked[key]
	if ok && !l.now().Before(until) {
		delete(l.blocked, key)
		return false
	}
	return ok
}
