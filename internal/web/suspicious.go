package web

import (
	"net/http"

	"net/netip"
	"strings"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/origin"

	"github.com/thunaivi/thunaivi/internal/identity"
)

// Rules that end all of a user's sessions at once when one looks stolen.
// Each firing is audited as session.revoked with its reason, shows on the
// admins' security page, and tells the user why on their next request.

// Rules say which of the rules are on.
type Rules struct {
	// NetworkAndBrowser ends a user's sessions when one is used from another
	// network and another browser than it was started from.
	NetworkAndBrowser bool
	// Probes ends the sessions used from an address that probes for attack
	// paths.
	Probes bool
	// BlockProbers answers every request from an address that keeps
	// probing with a 404 for a while.
	BlockProbers bool
	// FailureBurst ends a user's sessions, and refuses the sign-in, when a
	// sign-in succeeds right after failures from several addresses.
	FailureBurst bool
}

// errSessionRevoked is answered when a rule ended the session just used.
type errSessionRevoked struct{ why string }

func (e errSessionRevoked) Error() string { return e.why }

// network is the network an address belongs to for the "another network"
// rule: its /24 for IPv4, its /48 for IPv6, so that a phone moving between
// a carrier's addresses or a DHCP lease renewal is not another network.
func network(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	bits := 48
	if a.Is4() {
		bits = 24
	}
	p, _ := a.Prefix(bits)
	return p.String()
}

// browser is the user agent without its version numbers, so that a browser
// updating itself is not another browser.
func browser(ua string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r == '.' || r == '_' {
			return -1
		}
		return r
	}, ua)
}

// stolen reports whether a session is used from both another network and
// another browser than it was started from: a copied cookie, not a laptop
// that moved (network alone) or a browser that updated (browser alone).
func (s *Server) stolen(ss identity.Session, r *http.Request) bool {
	if !s.Rules.NetworkAndBrowser || ss.IP == "" {
		return false
	}
	return network(ss.IP) != network(remoteIP(r)) &&
		browser(ss.UserAgent) != browser(r.UserAgent())
}

// revokeStolen ends all of the session's user's sessions, for rule why.
func (s *Server) revokeStolen(r *http.Request, ss identity.Session, why string) error {
	if err := s.Identity.EndUserSessions(r.Context(), ss.UserID, why); err != nil {
		return err
	}
	s.log.Warn("Sessions revoked", "user_id", ss.UserID, "workspace_id", ss.WorkspaceID,
		"reason", why, "request_id", requestID(r.Context()))
	return errSessionRevoked{"Your sessions were ended for your safety: " + why +
		". Sign in again."}
}

// revokeProbers ends the sessions of every user with a session used from
// the address a probe came from.
func (s *Server) revokeProbers(r *http.Request) {
	if !s.Rules.Probes {
		return
	}
	users, err := s.Identity.UsersWithSessionsFrom(r.Context(), remoteIP(r))
	for _, u := range users {
		if err == nil {
			err = s.Identity.EndUserSessions(r.Context(), u,
				"a session's address probed for attack paths")
		}
	}
	if err != nil {
		s.log.Error("Revoking a prober's sessions failed", "error", err,
			"request_id", requestID(r.Context()))
	}
}

// revocationNotice tells a member who just signed in why a rule ended their
// sessions since their previous sign-in, or returns "".
func (s *Server) revocationNotice(r *http.Request, wsID, userID string) string {
	if s.Audit == nil {
		return ""
	}
	ctx := r.Context()
	logins, err := s.Audit.List(ctx, audit.Filter{Workspace: wsID,
		Action: string(audit.LoginSucceeded), Target: userID, Limit: 2})
	if err != nil || len(logins) < 2 {
		return ""
	}
	ended, err := s.Audit.List(ctx, audit.Filter{Workspace: wsID,
		Action: string(audit.SessionRevoked), Target: userID, From: logins[1].At, Limit: 10})
	if err != nil {
		return ""
	}
	for _, e := range ended {
		if e.ActorType == string(origin.System) && !strings.HasPrefix(e.Reason, "idle") {
			return "For your safety, your sessions were ended at " +
				e.At.Format("Jan 2 15:04 UTC") + ": " + e.Reason + ". If that was not you, " +
				"change your password and tell an admin."
		}
	}
	return ""
}
