package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/thunaivi/thunaivi/internal/apikey"
	"github.com/thunaivi/thunaivi/internal/support"
)

const (
	// heartbeat keeps idle event streams open through proxies, and is when
	// a stream's access is checked again while nothing happens.
	heartbeat = 25 * time.Second
	// recheckEvery bounds how long a stream goes on delivering after its
	// access ended (a sign-out, a lost role or inbox).
	recheckEvery = 2 * time.Second
	// quietRecheck is how often a stream with nothing to deliver checks its
	// access: a session ended by an admin or a rule closes its streams
	// within this, not at the next event.
	quietRecheck = 5 * time.Second
	// maxStreamLife ends every stream after a while; clients reconnect, and
	// pass the access checks again.
	maxStreamLife = 30 * time.Minute
	// maxStreamsPerIP caps the streams one address may hold open.
	maxStreamsPerIP = 64
)

// streamCounter counts open streams per client address.
type streamCounter struct {
	mu   sync.Mutex
	open map[string]int
}

// acquire counts a new stream for ip and reports whether it is within the cap.
func (c *streamCounter) acquire(ip string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open == nil {
		c.open = map[string]int{}
	}
	if c.open[ip] >= maxStreamsPerIP {
		return false
	}
	c.open[ip]++
	return true
}

func (c *streamCounter) release(ip string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open[ip]--; c.open[ip] <= 0 {
		delete(c.open, ip)
	}
}

// view returns what a stream's client may see of an event, and false for an
// event it may not see at all.
type view func(support.Event) (support.Event, bool)

// filter gives a stream's current view. It is called again at least every
// recheckEvery while events flow, and on every heartbeat: a false ok ends
// the stream.
type filter func() (see view, ok bool)

// stream writes events from ch as Server-Sent Events until the client goes
// away, its access ends, or maxStreamLife passes. It first sends a "ready"
// event, so a client knows it will hear of whatever happens next.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, ch <-chan support.Event,
	access filter) {
	ip := clientIP(r)
	if !s.streams.acquire(ip) {
		writeError(w, r, http.StatusTooManyRequests, "rate_limited",
			"Too many live connections from your address.")
		return
	}
	defer s.streams.release(ip)
	see, ok := access()
	if !ok {
		writeError(w, r, http.StatusUnauthorized, "unauthenticated", "Sign in first.")
		return
	}
	rc := http.NewResponseController(w)
	// The server's read timeout bounds request bodies; a stream has none
	// and lives longer.
	rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "event: ready\ndata: {}\n\n")
	if rc.Flush() != nil {
		return
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	quiet := time.NewTicker(quietRecheck)
	defer quiet.Stop()
	end := time.NewTimer(maxStreamLife)
	defer end.Stop()
	checked := s.Now()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		case <-end.C:
			return
		case <-tick.C:
			if see, ok = access(); !ok {
				return
			}
			checked = s.Now()
			fmt.Fprint(w, ": keep-alive\n\n")
		case <-quiet.C:
			if see, ok = access(); !ok {
				return
			}
			checked = s.Now()
			continue
		case ev := <-ch:
			if s.Now().Sub(checked) > recheckEvery {
				if see, ok = access(); !ok {
					return
				}
				checked = s.Now()
			}
			if !writeEvents(w, see, ev, ch) {
				continue
			}
		}
		if rc.Flush() != nil {
			return
		}
	}
}

// writeEvents writes ev and every event already waiting on ch that the
// client may see, so that the events of one change go out in one flush. It
// reports whether it wrote any.
func writeEvents(w io.Writer, see view, ev support.Event, ch <-chan support.Event) bool {
	wrote := false
	for {
		if e, ok := see(ev); ok {
			if b, err := json.Marshal(e); err == nil {
				fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.Type, b)
				wrote = true
			}
		}
		select {
		case ev = <-ch:
		default:
			return wrote
		}
	}
}

// agentEvents streams the live changes of the conversations the member may
// see: of one conversation with ?conversation_id=, else of the workspace.
// The member's session, role and inboxes are checked again as it runs.
func (s *Server) agentEvents(w http.ResponseWriter, r *http.Request, p *principal) {
	topic := support.WorkspaceTopic(p.WorkspaceID)
	one := r.URL.Query().Get("conversation_id")
	if one != "" {
		if _, err := s.Support.Get(r.Context(), p.Viewer, one); err != nil {
			s.fail(w, r, err)
			return
		}
		topic = support.ConversationTopic(one)
	}
	ch, stop := s.Hub.Subscribe(topic)
	defer stop()
	s.stream(w, r, ch, func() (view, bool) {
		now, err := s.recheck(r, p)
		if err != nil || now.WorkspaceID != p.WorkspaceID {
			return nil, false
		}
		return func(ev support.Event) (support.Event, bool) {
			return ev, now.Viewer.SeesInbox(ev.InboxID)
		}, true
	})
}

// errAddressRefused ends a stream from a range the workspace now refuses.
var errAddressRefused = errors.New("address refused")

// recheck loads again who a long-lived request acts for: the member's
// session, or the server's API key, so that a revoked session or key, or an
// address refused since, ends the stream within a recheck.
func (s *Server) recheck(r *http.Request, p *principal) (*principal, error) {
	// A range refused while the stream was open ends it, as it refuses a
	// new request.
	if s.Incidents != nil && s.Incidents.IPDenied(r.Context(), p.WorkspaceID, clientIP(r)) {
		return nil, errAddressRefused
	}
	if p.Key == nil {
		return s.principal(r)
	}
	secret, _ := bearerKey(r)
	k, err := s.Keys.Authenticate(r.Context(), secret, remoteIP(r))
	if err != nil {
		return nil, err
	}
	if !k.Has(apikey.ConversationsRead) {
		return nil, apikey.ErrUnknown
	}
	return &principal{Session: p.Session, Key: &k, Viewer: p.Viewer}, nil
}
