package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/datarequest"
	"github.com/thunaivi/thunaivi/internal/meta"
	"github.com/thunaivi/thunaivi/internal/store"
)

// metaRoutes take Meta's data-deletion callback for a workspace that set its
// Meta app secret: a person who asked Meta to delete their data from the app
// starts a deletion request here, which a manager or admin approves as any.
func (s *Server) metaRoutes() {
	s.api("PUT /api/v1/channels/meta", access.InboxesManage, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			var req struct {
				AppSecret string `json:"app_secret"`
			}
			if err := decode(w, r, &req, 1<<10); err != nil {
				s.fail(w, r, err)
				return
			}
			if err := s.Meta.SetSecret(r.Context(), p.WorkspaceID, req.AppSecret); err != nil {
				s.fail(w, r, err)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}))
	s.public("POST /channels/meta/{workspace}/data-deletion", s.metaDeletion)
	s.public("GET /data-requests/status", s.confirmationPage)
}

// confirmationLink is where a person Meta sent follows their request by its
// confirmation code. It shows the state and the due date only.
func (s *Server) confirmationLink(wsID, code string) string {
	return s.PublicURL + "/data-requests/status?" +
		url.Values{"ws": {wsID}, "code": {code}}.Encode()
}

func (s *Server) confirmationPage(w http.ResponseWriter, r *http.Request) {
	if s.throttled(w, r) {
		return
	}
	q := r.URL.Query()
	data := map[string]any{"Title": "Your data request"}
	req, err := s.DataRequests.Get(r.Context(), q.Get("ws"), q.Get("code"))
	switch {
	case err == nil:
		data["Status"] = req
	case errors.Is(err, store.ErrNotFound):
		data["Unknown"] = true
	default:
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "data_request_status.html", data)
}

// metaDeletion answers as Meta's documentation asks: a status URL and a
// confirmation code. Every failure, an unknown workspace included, answers
// alike, so the endpoint tells nobody which workspaces use Meta.
func (s *Server) metaDeletion(w http.ResponseWriter, r *http.Request) {
	if s.throttled(w, r) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	wsID := r.PathValue("workspace")
	refuse := func() {
		writeError(w, r, http.StatusBadRequest, "bad_signed_request",
			"The signed request does not verify.")
	}
	secret, err := s.Meta.Secret(r.Context(), wsID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	payload, err := meta.ParseSignedRequest(r.PostFormValue("signed_request"), secret, s.Now())
	if err != nil {
		if secret != "" && s.BadSignature != nil {
			s.BadSignature(r.Context(), wsID)
		}
		refuse()
		return
	}
	contacts, err := s.DataRequests.ContactsByExternalID(r.Context(), wsID,
		"meta:"+payload.UserID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// A code that names no request tells the person we hold nothing of
	// theirs, in the same shape as one that does.
	code := store.NewID("dr")
	for _, contact := range contacts {
		req, open, err := s.DataRequests.OpenRequest(r.Context(), wsID, contact,
			datarequest.FromMeta)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !open { // Meta may send the same request again: the first stands
			req, _, err = s.DataRequests.File(r.Context(), wsID, datarequest.Filing{
				ContactID: contact, Kinds: []string{datarequest.Deletion},
				Source: datarequest.FromMeta, FiledBy: "Meta data-deletion callback"})
			if errors.Is(err, datarequest.ErrOpen) {
				// Another callback filed it meanwhile: answer with that one.
				req, open, err = s.DataRequests.OpenRequest(r.Context(), wsID, contact,
					datarequest.FromMeta)
				if err == nil && !open {
					err = datarequest.ErrOpen
				}
			}
			if err != nil {
				s.fail(w, r, err)
				return
			}
		}
		code = req.ID
	}
	writeJSON(w, http.StatusOK, map[string]string{"url": s.confirmationLink(wsID, code),
		"confirmation_code": code})
}
