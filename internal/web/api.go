package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/guard"
	"github.com/thunaivi/thunaivi/internal/kb"
	"github.com/thunaivi/thunaivi/internal/support"
)

func (s *Server) apiRoutes() {
	s.api("GET /api/v1/me", access.ConversationsRead, s.apiMe)
	s.api("GET /api/v1/conversations", access.ConversationsRead, s.apiListConversations)
	s.api("GET /api/v1/conversations/{id}", access.ConversationsRead, s.apiConversation)
	s.api("PATCH /api/v1/conversations/{id}", access.ConversationsWrite, s.apiUpdateConversation)
	s.api("POST /api/v1/conversations/{id}/replies", access.MessagesWrite, s.apiReply)
	s.api("POST /api/v1/conversations/{id}/notes", access.MessagesWrite, s.apiNote)
	s.api("POST /api/v1/conversations/{id}/drafts/{message}/approve", access.ConversationsWrite,
		s.apiApproveDraft)
	s.api("POST /api/v1/conversations/{id}/drafts/{message}/reject", access.ConversationsWrite,
		s.apiRejectDraft)
	s.api("GET /api/v1/events", access.ConversationsRead, s.agentEvents)

	s.api("GET /api/v1/kb/entries", access.KBRead, s.apiListEntries)
	s.api("POST /api/v1/kb/entries", access.KBWrite, s.apiCreateEntry)
	s.api("GET /api/v1/kb/entries/{id}", access.KBRead, s.apiEntry)
	s.api("PUT /api/v1/kb/entries/{id}", access.KBWrite, s.apiUpdateEntry)
	s.api("POST /api/v1/kb/entries/{id}/rollback", access.KBWrite,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			var req struct {
				Version int    `json:"version"`
				Reason  string `json:"reason"`
			}
			if err := decode(w, r, &req, 4<<10); err != nil {
				s.fail(w, r, err)
				return
			}
			e, err := s.KB.Rollback(r.Context(), p.WorkspaceID, p.UserID, r.PathValue("id"),
				req.Version, req.Reason)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"entry": e})
		})
	s.api("GET /api/v1/kb/categories", access.KBRead, s.apiCategories)
	s.api("PUT /api/v1/kb/categories/{name}", access.BrainSettings, s.apiSaveCategory)
	s.api("GET /api/v1/kb/thresholds", access.KBRead, s.apiThresholds)
	s.api("PUT /api/v1/kb/thresholds", access.BrainSettings, s.apiSetThresholds)
	s.api("POST /api/v1/kb/route", access.KBRead, s.apiTryRoute)
	s.api("GET /api/v1/ai/policy", access.KBRead,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			pol, err := s.KB.Policy(r.Context(), p.WorkspaceID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"policy": pol,
				"default_claims": guard.DefaultClaims, "default_max_chars": guard.DefaultMaxChars})
		})
	s.api("PUT /api/v1/ai/policy", access.BrainSettings,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			var pol guard.Policy
			if err := decode(w, r, &pol, 32<<10); err != nil {
				s.fail(w, r, err)
				return
			}
			if err := s.KB.SetPolicy(r.Context(), p.WorkspaceID, pol); err != nil {
				s.fail(w, r, err)
				return
			}
			pol, err := s.KB.Policy(r.Context(), p.WorkspaceID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"policy": pol})
		})
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request, p *principal) {
	writeJSON(w, http.StatusOK, map[string]any{"user_id": p.UserID, "email": p.Email,
		"name": p.Name, "workspace_id": p.WorkspaceID, "role": p.Role,
		"inbox_ids": p.Viewer.InboxIDs, "all_inboxes": p.Viewer.AllInboxes})
}

func filterFrom(r *http.Request) (support.Filter, error) {
	q := r.URL.Query()
	f := support.Filter{Status: q.Get("status"), Priority: q.Get("priority"),
		InboxID: q.Get("inbox_id"), Assignee: q.Get("assignee"), Label: q.Get("label")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > support.MaxListLimit {
			return f, badJSON("limit must be a number from 1 to 100")
		}
		f.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		c, err := support.ParseCursor(v)
		if err != nil {
			return f, err
		}
		f.After = c
	}
	return f, nil
}

func (s *Server) apiListConversations(w http.ResponseWriter, r *http.Request, p *principal) {
	f, err := filterFrom(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list, err := s.Support.List(r.Context(), p.Viewer, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeConversations(w, list, support.NextCursor(list, f).String())
}

// thread is a conversation as an agent sees it: with every message, note and
// draft, and the AI's decisions with their reasons.
type thread struct {
	Conversation support.Conversation `json:"conversation"`
	Messages     []support.Message    `json:"messages"`
	Decisions    []support.Decision   `json:"decisions"`
}

func (s *Server) loadThread(r *http.Request, p *principal, id string) (thread, error) {
	var t thread
	var err error
	if t.Conversation, err = s.Support.Get(r.Context(), p.Viewer, id); err != nil {
		return t, err
	}
	if t.Messages, err = s.Support.Messages(r.Context(), p.Viewer, id); err != nil {
		return t, err
	}
	t.Decisions, err = s.Support.Decisions(r.Context(), p.Viewer, id)
	return t, err
}

func (s *Server) apiConversation(w http.ResponseWriter, r *http.Request, p *principal) {
	t, err := s.loadThread(r, p, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) apiUpdateConversation(w http.ResponseWriter, r *http.Request, p *principal) {
	var ch support.Change
	if err := decode(w, r, &ch, maxJSONBody); err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.Support.Update(r.Context(), p.Viewer, r.PathValue("id"), ch, s.teamExists)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) teamExists(ctx context.Context, wsID, teamID string) error {
	_, err := s.Workspaces.Team(ctx, wsID, teamID)
	return err
}

type textRequest struct {
	Text string `json:"text"`
}

func (s *Server) apiReply(w http.ResponseWriter, r *http.Request, p *principal) {
	s.apiMessage(w, r, p, s.Support.Reply)
}

func (s *Server) apiNote(w http.ResponseWriter, r *http.Request, p *principal) {
	s.apiMessage(w, r, p, s.Support.Note)
}

type messageFunc func(ctx context.Context, v support.Viewer, id,
	text string) (support.Message, error)

func (s *Server) apiMessage(
	w http.ResponseWriter,
	r *http.Request,
	p *principal,
	send messageFunc,
) {
	var req textRequest
	if err := decode(w, r, &req, maxJSONBody); err != nil {
		s.fail(w, r, err)
		return
	}
	text := s.withoutKeys(r, req.Text, "pasted in a conversation")
	m, err := send(r.Context(), p.Viewer, r.PathValue("id"), text)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, m)
}

type approveRequest struct {
	// Text, when given, replaces the draft's text before it is sent.
	Text string `json:"text"`
}

func (s *Server) apiApproveDraft(w http.ResponseWriter, r *http.Request, p *principal) {
	var req approveRequest
	if r.ContentLength != 0 {
		if err := decode(w, r, &req, maxJSONBody); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.resolveDraft(w, r, p, true, req.Text)
}

func (s *Server) apiRejectDraft(w http.ResponseWriter, r *http.Request, p *principal) {
	s.resolveDraft(w, r, p, false, "")
}

func (s *Server) resolveDraft(
	w http.ResponseWriter,
	r *http.Request,
	p *principal,
	approve bool,
	text string,
) {
	m, err := s.Support.ResolveDraft(r.Context(), p.Viewer, r.PathValue("id"),
		r.PathValue("message"), approve, s.withoutKeys(r, text, "pasted in a conversation"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) apiListEntries(w http.ResponseWriter, r *http.Request, p *principal) {
	list, err := s.KB.List(r.Context(), p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if list == nil {
		list = []kb.Entry{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": list})
}

func (s *Server) apiEntry(w http.ResponseWriter, r *http.Request, p *principal) {
	e, err := s.KB.Get(r.Context(), p.WorkspaceID, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	versions, err := s.KB.Versions(r.Context(), p.WorkspaceID, e.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"entry": e, "versions": versions})
}

// entryRequest creates or changes an entry; Reason goes to the version history.
// On a change, a field left out keeps its value: leaving out the question
// variants or the handoff must not quietly change how messages are routed.
type entryRequest struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Questions   []string `json:"questions"`
	Answer      string   `json:"answer"`
	Tags        []string `json:"tags"`
	Handoff     *string  `json:"handoff"`
	Published   *bool    `json:"published"`
	Reason      string   `json:"reason"`
	BaseVersion int      `json:"base_version"`
	// Owner names the member who answers for the entry; its author when
	// empty on creation, unchanged when empty on a change.
	Owner string `json:"owner"`
	// Version, UpdatedBy and UpdatedAt are what GET returns; an entry read
	// and sent back as it is may carry them, and they are ignored.
	Version   any `json:"version"`
	UpdatedBy any `json:"updated_by"`
	UpdatedAt any `json:"updated_at"`
}

func (s *Server) apiCreateEntry(w http.ResponseWriter, r *http.Request, p *principal) {
	s.saveEntry(w, r, p, "", http.StatusCreated)
}

func (s *Server) apiUpdateEntry(w http.ResponseWriter, r *http.Request, p *principal) {
	if _, err := s.KB.Get(r.Context(), p.WorkspaceID, r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.saveEntry(w, r, p, r.PathValue("id"), http.StatusOK)
}

func (s *Server) saveEntry(
	w http.ResponseWriter,
	r *http.Request,
	p *principal,
	id string,
	status int,
) {
	e, req, ok := s.entryFromRequest(w, r, p, id, status == http.StatusCreated)
	if !ok {
		return
	}
	saved, err := s.KB.Edit(r.Context(), p.WorkspaceID, p.Email, req.Reason, e,
		req.BaseVersion)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, status, saved)
}

// keep fills the fields a change left out with the entry's current values.
func keep(e *kb.Entry, current kb.Entry, req entryRequest) {
	if req.Title == "" {
		e.Title = current.Title
	}
	if req.Answer == "" {
		e.Answer = current.Answer
	}
	if req.Questions == nil {
		e.Questions = current.Questions
	}
	if req.Tags == nil {
		e.Tags = current.Tags
	}
	if req.Handoff == nil {
		e.Handoff = current.Handoff
	}
	if req.Published == nil {
		e.Published = current.Published
	}
}

// entryFromRequest decodes and checks an entry a member writes or proposes:
// a new one when id is empty, else a change to entry id. On failure it has
// answered the request.
func (s *Server) entryFromRequest(w http.ResponseWriter, r *http.Request, p *principal,
	id string, create bool) (kb.Entry, entryRequest, bool) {
	var req entryRequest
	if err := decode(w, r, &req, maxJSONBody); err != nil {
		s.fail(w, r, err)
		return kb.Entry{}, req, false
	}
	if create {
		id = req.ID
		if id != "" {
			if _, err := s.KB.Get(r.Context(), p.WorkspaceID, id); err == nil {
				writeError(w, r, http.StatusConflict, "conflict", "An entry with that id exists.")
				return kb.Entry{}, req, false
			}
		}
	}
	e := kb.Entry{ID: id, Title: req.Title, Questions: req.Questions,
		Answer: s.withoutKeys(r, req.Answer, "pasted in a knowledge-base entry"),
		Tags:   req.Tags, Published: req.Published == nil || *req.Published, Owner: req.Owner}
	if req.Handoff != nil {
		e.Handoff = *req.Handoff
	}
	target := id
	if !create && target == "" && req.BaseVersion != 0 {
		target = req.ID // a proposed change to an existing entry
	}
	if target != "" && !create {
		current, err := s.KB.Get(r.Context(), p.WorkspaceID, target)
		if err != nil {
			s.fail(w, r, err)
			return kb.Entry{}, req, false
		}
		keep(&e, current, req)
	}
	if e.Owner == "" && create {
		e.Owner = p.UserID // the author, when a member writes it
	}
	if e.Owner != "" {
		if _, err := s.Workspaces.Role(r.Context(), p.WorkspaceID, e.Owner); err != nil {
			writeError(w, r, http.StatusUnprocessableEntity, "invalid",
				"The owner must be a member of the workspace.")
			return kb.Entry{}, req, false
		}
	}
	if e.Handoff != "" && !s.knownCategory(r, p, e.Handoff) {
		writeError(w, r, http.StatusUnprocessableEntity, "invalid",
			"Handoff must name a restricted category.")
		return kb.Entry{}, req, false
	}
	switch {
	case req.Reason != "":
	case create:
		req.Reason = "created"
	default:
		req.Reason = "edited"
	}
	return e, req, true
}

func (s *Server) knownCategory(r *http.Request, p *principal, name string) bool {
	cats, err := s.KB.Categories(r.Context(), p.WorkspaceID)
	if err != nil {
		return false
	}
	for _, c := range cats {
		if c.Name == name {
			return true
		}
	}
	return false
}

func (s *Server) apiCategories(w http.ResponseWriter, r *http.Request, p *principal) {
	cats, err := s.KB.Categories(r.Context(), p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"categories": cats})
}

func (s *Server) apiSaveCategory(w http.ResponseWriter, r *http.Request, p *principal) {
	var c brain.Category
	if err := decode(w, r, &c, 256<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	c.Name = r.PathValue("name")
	if err := s.KB.SaveCategory(r.Context(), p.WorkspaceID, c); err != nil {
		s.fail(w, r, err)
		return
	}
	s.apiCategories(w, r, p)
}

func (s *Server) apiThresholds(w http.ResponseWriter, r *http.Request, p *principal) {
	th, err := s.KB.Thresholds(r.Context(), p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, th)
}

func (s *Server) apiSetThresholds(w http.ResponseWriter, r *http.Request, p *principal) {
	var req struct {
		Answer *float64 `json:"answer"`
		Draft  *float64 `json:"draft"`
	}
	if err := decode(w, r, &req, 4<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	// Both, always: a threshold left out must not silently become 0.
	if req.Answer == nil || req.Draft == nil {
		s.fail(w, r, formError("give both thresholds, answer and draft"))
		return
	}
	th := brain.Thresholds{Answer: *req.Answer, Draft: *req.Draft}
	if err := s.KB.SetThresholds(r.Context(), p.WorkspaceID, th); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, th)
}

// apiTryRoute shows what the router would decide for a message, without a
// conversation: for testing the knowledge base and categories.
func (s *Server) apiTryRoute(w http.ResponseWriter, r *http.Request, p *principal) {
	var req textRequest
	if err := decode(w, r, &req, maxJSONBody); err != nil {
		s.fail(w, r, err)
		return
	}
	text, err := support.CheckText(req.Text)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	router, err := s.KB.Router(r.Context(), p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, support.Screen(router.Route(text, brain.Signals{}), text))
}
