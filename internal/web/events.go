package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/thunaivi/thunaivi/internal/support"
)

// heartbeat keeps idle event streams open through proxies.
const heartbeat = 25 * time.Second

// stream writes events from ch as Server-Sent Events until the client goes
// away. keep says which events this client may receive. It first sends a
// "ready" event, so a client knows it will hear of whatever happens next.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, ch <-chan support.Event,
	keep func(support.Event) bool) {
	rc := http.NewResponseController(w)
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
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		case <-tick.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		case ev := <-ch:
			if !keep(ev) {
				continue
			}
			b, err := json.Marshal(ev)
			if err != nil {
				continue
			}
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.Type, b)
		}
		if rc.Flush() != nil {
			return
		}
	}
}

// agentEvents streams the live changes of the conversations the member may
// see: of one conversation with ?conversation_id=, else of the workspace.
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
	s.stream(w, r, ch, func(ev support.Event) bool {
		return p.Viewer.SeesInbox(ev.InboxID)
	})
}
