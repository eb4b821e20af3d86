package web

import (
	"embed"
	"net/http"

	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/support"
	"github.com/thunaivi/thunaivi/internal/workspace"
)

//go:embed assets
var assets embed.FS

// Widget request headers. Tokens travel in headers, never in URLs, so that
// they stay out of access logs and browser history.
const (
	widgetTokenHeader  = "X-Widget-Token"
	visitorTokenHeader = "X-Visitor-Token"
)

func (s *Server) widgetRoutes() {
	s.public("GET /widget/v1/thunaivi.js", s.widgetAsset("assets/widget.js"))
	s.public("GET /widget/v1/thunaivi.css", s.widgetAsset("assets/widget.css"))
	s.public("GET /widget/demo", s.widgetDemo)
	s.public("OPTIONS /widget/v1/", s.widgetPreflight)
	s.public("POST /widget/v1/conversations", s.widget(s.widgetStart))
	s.public("GET /widget/v1/conversations/{id}/messages", s.visitor(s.widgetMessages))
	s.public("POST /widget/v1/conversations/{id}/messages", s.visitor(s.widgetSend))
	s.public("GET /widget/v1/conversations/{id}/events", s.visitor(s.widgetEvents))
}

// The widget runs on the business's own site, so its endpoints admit every
// origin. They take no cookies and no API keys: only the inbox's widget token
// and the visitor's own token.
func allowCrossOrigin(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set(
		"Access-Control-Allow-Headers",
		"Content-Type, "+widgetTokenHeader+", "+visitorTokenHeader,
	)
	h.Set("Access-Control-Allow-Methods", "GET, POST")
	h.Set("Access-Control-Max-Age", "600")
}

func (s *Server) widgetPreflight(w http.ResponseWriter, r *http.Request) {
	allowCrossOrigin(w)
	w.WriteHeader(http.StatusNoContent)
}

type inboxHandler func(w http.ResponseWriter, r *http.Request, in workspace.Inbox)

// widget authenticates a request by its widget token and applies the per-IP
// and per-token rate limits.
func (s *Server) widget(h inboxHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		allowCrossOrigin(w)
		if !s.ipLimit.allow(clientIP(r)) {
			writeError(w, r, http.StatusTooManyRequests, "rate_limited",
				"Too many requests from your address. Try again in a minute.")
			return
		}
		in, err := s.Workspaces.InboxByWidgetToken(r.Context(), r.Header.Get(widgetTokenHeader))
		if err != nil {
			writeError(w, r, http.StatusUnauthorized, "bad_widget_token",
				"The widget token is missing or wrong.")
			return
		}
		if !s.tokLimit.allow(in.ID) {
			writeError(w, r, http.StatusTooManyRequests, "rate_limited",
				"This chat is receiving too many requests. Try again in a minute.")
			return
		}
		h(w, r, in)
	}
}

type visitorHandler func(w http.ResponseWriter, r *http.Request, c support.Conversation)

// visitor also checks that the visitor token opens the conversation in the
// path. A wrong token and a conversation of another inbox or workspace get
// the same 404 as a missing one.
func (s *Server) visitor(h visitorHandler) http.HandlerFunc {
	return s.widget(func(w http.ResponseWriter, r *http.Request, in workspace.Inbox) {
		c, err := s.Support.VisitorConversation(r.Context(), in.WorkspaceID, in.ID,
			r.PathValue("id"), r.Header.Get(visitorTokenHeader))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		h(w, r, c)
	})
}

func (s *Server) widgetStart(w http.ResponseWriter, r *http.Request, in workspace.Inbox) {
	var d support.ContactDetails
	if r.ContentLength != 0 {
		if err := decode(w, r, &d, 4<<10); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	d.Name = s.withoutKeys(r, d.Name, "pasted in a conversation by a customer")
	v, err := s.Support.Start(r.Context(), in.WorkspaceID, in.ID, d)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, v)
}

func (s *Server) widgetMessages(w http.ResponseWriter, r *http.Request, c support.Conversation) {
	msgs, err := s.Support.CustomerMessages(r.Context(), c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": msgs})
}

func (s *Server) widgetSend(w http.ResponseWriter, r *http.Request, c support.Conversation) {
	var req customerRequest
	if err := decode(w, r, &req, maxJSONBody); err != nil {
		s.fail(w, r, err)
		return
	}
	text := s.withoutKeys(r, req.Text, "pasted in a conversation by a customer")
	rec, err := s.Support.ReceiveOnce(r.Context(), c, text, req.ExternalID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, receivedStatus(rec), customerReceipt(rec))
}

// customerReceipt is what the visitor learns of their message: it as they
// see it, what became of it, and the reply they see, if any.
func customerReceipt(rec support.Receipt) map[string]any {
	out := map[string]any{"message": rec.Message.ForCustomer(), "outcome": rec.Decision.Action}
	if rec.Reply != nil && rec.Reply.CustomerVisible() {
		out["reply"] = rec.Reply.ForCustomer()
	}
	if rec.Duplicate {
		out["duplicate"] = true
	}
	return out
}

func (s *Server) widgetEvents(w http.ResponseWriter, r *http.Request, c support.Conversation) {
	ch, stop := s.Hub.Subscribe(support.ConversationTopic(c.ID))
	defer stop()
	s.stream(w, r, ch, func() (view, bool) { return support.Event.ForCustomer, true })
}

// widgetAsset serves a file the widget loads into the business's pages.
func (s *Server) widgetAsset(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		allowCrossOrigin(w)
		w.Header().Set("Cache-Control", "public, max-age=300")
		http.ServeFileFS(w, r, assets, name)
	}
}

// demoCSP lets the demo page use inline styles, as a business's own page
// would, and keeps it from being framed.
const demoCSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"

// widgetDemo is a sample page that embeds the widget, for trying it out.
func (s *Server) widgetDemo(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	name := "Example Store"
	if token != "" {
		in, err := s.Workspaces.InboxByWidgetToken(r.Context(), token)
		if err != nil {
			s.fail(w, r, store.ErrNotFound)
			return
		}
		if ws, err := s.Workspaces.Get(r.Context(), in.WorkspaceID); err == nil {
			name = ws.Name
		}
	}
	w.Header().
		Set("Content-Security-Policy", demoCSP)
	s.render(w, r, "demo.html", map[string]any{"Token": token, "Name": name})
}
