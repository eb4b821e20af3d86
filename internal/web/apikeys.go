package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/apikey"
	"github.com/thunaivi/thunaivi/internal/identity"
	"github.com/thunaivi/thunaivi/internal/origin"
	"github.com/thunaivi/thunaivi/internal/support"
)

// keyScopes is the scope an API key needs for a route's permission. A
// permission missing here is for members only: keys never reach it. Opening
// conversations and writing as the customer need the write scopes too.
var keyScopes = map[access.Permission]apikey.Scope{
	access.InboundOpen:        apikey.ConversationsWrite,
	access.InboundMessage:     apikey.MessagesWrite,
	access.WebhooksManage:     apikey.WebhooksWrite,
	access.ConversationsRead:  apikey.ConversationsRead,
	access.ConversationsWrite: apikey.ConversationsWrite,
	access.MessagesWrite:      apikey.MessagesWrite,
	access.KBRead:             apikey.KBRead,
	access.KBWrite:            apikey.KBWrite,
	access.KBPropose:          apikey.KBWrite,
}

// leakReportLimit bounds the public leak report per address: a minute's
// worth of reports.
const leakReportLimit = 10

// apiKeyRoutes let admins create, roll and revoke the workspace's API keys,
// and anyone report keys they found leaked.
func (s *Server) apiKeyRoutes() {
	s.api("GET /api/v1/keys", access.APIKeysManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			keys, err := s.Keys.List(r.Context(), p.WorkspaceID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
		})
	s.api("POST /api/v1/keys", access.APIKeysManage, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			var spec apikey.Spec
			if err := decode(w, r, &spec, 8<<10); err != nil {
				s.fail(w, r, err)
				return
			}
			k, secret, err := s.Keys.Create(r.Context(), p.WorkspaceID, p.UserID, spec)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			showsSecret(w)
			writeJSON(w, http.StatusCreated, map[string]any{"key": k, "secret": secret})
		}))
	s.api("POST /api/v1/keys/{id}/roll", access.APIKeysManage, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			var req struct {
				OverlapHours float64 `json:"overlap_hours"`
			}
			if err := decode(w, r, &req, 1<<10); err != nil {
				s.fail(w, r, err)
				return
			}
			overlap := time.Duration(req.OverlapHours * float64(time.Hour))
			k, secret, err := s.Keys.Roll(r.Context(), p.WorkspaceID, r.PathValue("id"),
				p.UserID, overlap)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			showsSecret(w)
			writeJSON(w, http.StatusCreated, map[string]any{"key": k, "secret": secret})
		}))
	s.api("PATCH /api/v1/keys/{id}", access.APIKeysManage, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			var ch apikey.Change
			if err := decode(w, r, &ch, 8<<10); err != nil {
				s.fail(w, r, err)
				return
			}
			k, err := s.Keys.Update(r.Context(), p.WorkspaceID, r.PathValue("id"), ch)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"key": k})
		}))
	s.api("DELETE /api/v1/keys/{id}", access.APIKeysManage,
		s.noContent(func(r *http.Request, p *principal) error {
			return s.Keys.Revoke(r.Context(), p.WorkspaceID, r.PathValue("id"), "")
		}))
	s.public("POST /api/v1/keys/report-leak", s.reportLeak)
}

// reportLeak takes text someone found keys in, a paste or a commit, and
// revokes every live key in it. The answer is the same whatever the text
// held, so that it cannot be used to test whether a key exists.
func (s *Server) reportLeak(w http.ResponseWriter, r *http.Request) {
	if !s.leaks.allow(clientIP(r)) {
		s.Metrics.Denied("rate_limited")
		w.Header().Set("Retry-After", "60")
		writeError(w, r, http.StatusTooManyRequests, "rate_limited",
			"Too many reports. Wait a minute and try again.")
		return
	}
	var req struct {
		Text string `json:"text"`
	}
	if err := decode(w, r, &req, 64<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.Keys.RevokeFound(r.Context(), req.Text, "reported"); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "received",
		"message": "Thank you. Any live key in the text is revoked."})
}

// keyInURL revokes the keys a request carries in its query string, where
// proxies, logs and browser histories keep them, and reports whether there
// were any to refuse.
func (s *Server) keyInURL(r *http.Request) bool {
	raw, err := url.QueryUnescape(r.URL.RawQuery)
	if err != nil {
		raw = r.URL.RawQuery
	}
	raw += " " + r.URL.Path // decoded already
	if !strings.Contains(raw, apikey.Prefix) || len(apikey.Find(raw)) == 0 {
		return false
	}
	if _, err := s.Keys.RevokeFound(r.Context(), raw, "sent in a URL"); err != nil {
		s.log.Error("Revoking a key sent in a URL failed", "error", err,
			"request_id", requestID(r.Context()))
	}
	return true
}

// fromBrowser reports whether a request looks like a browser's: keys belong
// on servers, never in pages or apps a user can read them from.
func fromBrowser(r *http.Request) bool {
	h := r.Header
	return h.Get("Origin") != "" || h.Get("Sec-Fetch-Site") != "" ||
		h.Get("Sec-Fetch-Mode") != "" || h.Get("Cookie") != ""
}

// bearerKey returns the bearer token of a request's Authorization header,
// if it has one: on the API, that is an API key.
func bearerKey(r *http.Request) (string, bool) {
	v := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// serveKey serves a JSON route to a request that carries an API key: it
// must come from a server, name a live key used from an allowed address,
// within the key's rate, holding the scope the route's permission needs.
func (s *Server) serveKey(w http.ResponseWriter, r *http.Request, secret string,
	perm access.Permission, h memberHandler) {
	if fromBrowser(r) {
		s.Metrics.Denied("api_key_from_browser")
		writeError(w, r, http.StatusForbidden, "api_key_from_browser",
			"API keys are for servers; a request from a browser is refused. Keep the key "+
				"on your server and call the API from there.")
		return
	}
	k, err := s.Keys.Authenticate(r.Context(), secret, remoteIP(r))
	switch {
	case errors.Is(err, apikey.ErrUnknown):
		s.Metrics.Denied("invalid_api_key")
		writeError(w, r, http.StatusUnauthorized, "invalid_api_key",
			"The API key is not valid: unknown, revoked or expired.")
		return
	case errors.Is(err, apikey.ErrAddress):
		s.Metrics.Denied("address_not_allowed")
		writeError(w, r, http.StatusForbidden, "address_not_allowed",
			"This key may not be used from this address.")
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	if s.ipRefused(w, r, k.WorkspaceID) {
		return
	}
	scope, ok := keyScopes[perm]
	if !ok {
		writeError(w, r, http.StatusForbidden, "not_for_api_keys",
			"API keys cannot use this route; a member signs in for it.")
		return
	}
	if !k.Has(scope) {
		writeError(w, r, http.StatusForbidden, "insufficient_scope",
			fmt.Sprintf("This key lacks the scope %s.", scope))
		return
	}
	if !s.keyLimit.allowAt(k.ID, float64(k.RateLimit)) {
		s.Metrics.Denied("rate_limited")
		w.Header().Set("Retry-After", "60")
		writeError(w, r, http.StatusTooManyRequests, "rate_limited",
			fmt.Sprintf("This key may make %d requests a minute.", k.RateLimit))
		return
	}
	r = r.WithContext(origin.WithActor(r.Context(), origin.Actor{Type: origin.APIKey,
		ID: k.ID}))
	p := &principal{Session: identity.Session{WorkspaceID: k.WorkspaceID}, Key: &k,
		Viewer: support.Viewer{WorkspaceID: k.WorkspaceID, AllInboxes: true}}
	h(w, r, p)
}

// withoutKeys revokes the live keys in text someone wrote into the product,
// a message or a note, and returns the text with every key redacted.
func (s *Server) withoutKeys(r *http.Request, text, where string) string {
	if !strings.Contains(text, apikey.Prefix) || len(apikey.Find(text)) == 0 {
		return text
	}
	if _, err := s.Keys.RevokeFound(r.Context(), text, where); err != nil {
		s.log.Error("Revoking a pasted key failed", "error", err,
			"request_id", requestID(r.Context()))
	}
	return apikey.Redact(text)
}

// apiKeyPages are the admin console's API keys page: the keys, a form to
// create one, and a roll and a revoke button on each.
func (s *Server) apiKeyPages() {
	s.page("GET /settings/api-keys", access.APIKeysManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			s.renderKeys(w, r, p, nil)
		})
	s.page("POST /settings/api-keys", access.APIKeysManage, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
			spec := apikey.Spec{Name: r.PostFormValue("name"), Scopes: r.PostForm["scope"],
				AllowedIPs: splitList(r.PostFormValue("allowed_ips"))}
			spec.ExpiresInDays, _ = strconv.Atoi(r.PostFormValue("expires_in_days"))
			spec.RateLimit, _ = strconv.Atoi(r.PostFormValue("rate_limit"))
			_, secret, err := s.Keys.Create(r.Context(), p.WorkspaceID, p.UserID, spec)
			if err != nil {
				s.back(w, r, at(r, "/settings/api-keys"), err)
				return
			}
			s.renderKeys(w, r, p, map[string]any{"Secret": secret})
		}))
	s.page("POST /settings/api-keys/{id}/roll", access.APIKeysManage, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			r.Body = http.MaxBytesReader(w, r.Body, 1<<10)
			hours, _ := strconv.ParseFloat(r.PostFormValue("overlap_hours"), 64)
			_, secret, err := s.Keys.Roll(r.Context(), p.WorkspaceID, r.PathValue("id"),
				p.UserID, time.Duration(hours*float64(time.Hour)))
			if err != nil {
				s.back(w, r, at(r, "/settings/api-keys"), err)
				return
			}
			s.renderKeys(w, r, p, map[string]any{"Secret": secret})
		}))
	s.page("POST /settings/api-keys/{id}/revoke", access.APIKeysManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			s.back(w, r, at(r, "/settings/api-keys"), s.Keys.Revoke(r.Context(),
				p.WorkspaceID, r.PathValue("id"), ""))
		})
}

func (s *Server) renderKeys(w http.ResponseWriter, r *http.Request, p *principal,
	data map[string]any) {
	keys, err := s.Keys.List(r.Context(), p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if data == nil {
		data = map[string]any{}
	}
	data["Title"], data["Section"], data["Me"] = "API keys", "keys", me(p)
	data["Keys"], data["Scopes"] = keys, apikey.Scopes
	s.render(w, r, "api_keys.html", data)
}

// splitList splits a comma- or space-separated list.
func splitList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' })
}
