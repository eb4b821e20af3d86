package web

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/datarequest"
	"github.com/thunaivi/thunaivi/internal/mail"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/support"
)

// dataRequestRoutes carry customers' requests for their data or its
// deletion: from the widget, filed by an agent (for a request made by mail or
// in person), followed by the requester from a link, and decided by a
// manager or admin.
func (s *Server) dataRequestRoutes() {
	s.public("POST /widget/v1/conversations/{id}/data-requests", s.visitor(s.widgetDataRequest))
	s.public("GET /data-requests/receipt-key", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"algorithm": "Ed25519",
			"public_key": base64.StdEncoding.EncodeToString(s.DataRequests.ReceiptKey())})
	})
	csrf := s.crossOriginProtection()
	s.public("GET /data-requests/{id}", s.requesterPage)
	s.public("POST /data-requests/{id}/verify", csrf.Handler(http.HandlerFunc(
		s.requesterVerify)).ServeHTTP)
	s.public("GET /data-requests/{id}/receipt", func(w http.ResponseWriter, r *http.Request) {
		if s.throttled(w, r) {
			return
		}
		q := r.URL.Query()
		req, err := s.DataRequests.ByToken(r.Context(), q.Get("ws"), r.PathValue("id"),
			q.Get("token"))
		if err == nil && req.Receipt == nil {
			err = store.ErrNotFound
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, receiptDocument(*req.Receipt))
	})
	s.public("GET /data-requests/{id}/export", func(w http.ResponseWriter, r *http.Request) {
		if s.throttled(w, r) {
			return
		}
		q := r.URL.Query()
		req, err := s.DataRequests.ByToken(r.Context(), q.Get("ws"), r.PathValue("id"),
			q.Get("token"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.sendExport(w, r, q.Get("ws"), req.ID)
	})

	s.api("POST /api/v1/data-requests", access.ConversationsWrite, s.apiFileDataRequest)
	s.api("GET /api/v1/data-requests", access.DataRequests,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			list, err := s.DataRequests.List(r.Context(), p.WorkspaceID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"data_requests": list})
		})
	s.api("GET /api/v1/data-requests/{id}", access.DataRequests,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			req, err := s.DataRequests.Get(r.Context(), p.WorkspaceID, r.PathValue("id"))
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"data_request": req})
		})
	s.api("POST /api/v1/data-requests/{id}/approve", access.DataRequests, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			req, err := s.approveDataRequest(r.Context(), p, r.PathValue("id"))
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"data_request": req})
		}))
	s.api("POST /api/v1/data-requests/{id}/reject", access.DataRequests, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			var body struct {
				Note string `json:"note"`
			}
			if err := decode(w, r, &body, 4<<10); err != nil {
				s.fail(w, r, err)
				return
			}
			if err := s.DataRequests.Reject(r.Context(), p.WorkspaceID, r.PathValue("id"),
				p.Email, body.Note); err != nil {
				s.fail(w, r, err)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}))
	s.api("GET /api/v1/data-requests/{id}/export", access.DataRequests,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			s.sendExport(w, r, p.WorkspaceID, r.PathValue("id"))
		})

	s.page("GET /data-requests", access.DataRequests, s.dataRequestsPage)
	s.page("POST /data-requests/{id}/approve", access.DataRequests, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			_, err := s.approveDataRequest(r.Context(), p, r.PathValue("id"))
			s.back(w, r, "/data-requests", err)
		}))
	s.page("POST /data-requests/{id}/reject", access.DataRequests, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
			s.back(w, r, "/data-requests", s.DataRequests.Reject(r.Context(), p.WorkspaceID,
				r.PathValue("id"), p.Email, r.PostFormValue("note")))
		}))
}

// receiptDocument is a receipt as a requester keeps it: what it says, the
// exact bytes signed (base64), and the Ed25519 signature over them, so that
// anyone with the public key at /data-requests/receipt-key can check it.
func receiptDocument(rc datarequest.Receipt) map[string]any {
	return map[string]any{"receipt": rc, "algorithm": "Ed25519",
		"signed": base64.StdEncoding.EncodeToString(rc.Signed()), "signature": rc.Signature}
}

// statusLink is where the requester follows a request.
func (s *Server) statusLink(wsID, id, token string) string {
	return s.PublicURL + "/data-requests/" + url.PathEscape(id) + "?" +
		url.Values{"ws": {wsID}, "token": {token}}.Encode()
}

func (s *Server) widgetDataRequest(w http.ResponseWriter, r *http.Request,
	c support.Conversation) {
	var body struct {
		Kinds []string `json:"kinds"`
	}
	if err := decode(w, r, &body, 1<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	req, token, err := s.DataRequests.File(r.Context(), c.WorkspaceID, datarequest.Filing{
		ContactID: c.ContactID, Kinds: body.Kinds, Source: datarequest.FromWidget,
		FiledBy: "customer"})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": req.ID, "state": req.State,
		"due_at": req.DueAt, "status_url": s.statusLink(c.WorkspaceID, req.ID, token)})
}

func (s *Server) apiFileDataRequest(w http.ResponseWriter, r *http.Request, p *principal) {
	var body struct {
		ContactID string   `json:"contact_id"`
		Kinds     []string `json:"kinds"`
		Source    string   `json:"source"`
	}
	if err := decode(w, r, &body, 2<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	switch body.Source {
	case datarequest.FromEmail, datarequest.FromAgent:
	default:
		body.Source = datarequest.FromAgent // only a channel vouches for its people
	}
	if !s.seesContact(r, p, body.ContactID) {
		writeError(w, r, http.StatusNotFound, "not_found", "Not found.")
		return
	}
	_, filer := proposer(p)
	req, token, err := s.DataRequests.File(r.Context(), p.WorkspaceID, datarequest.Filing{
		ContactID: body.ContactID, Kinds: body.Kinds, Source: body.Source, FiledBy: filer})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	err = s.mailConfirmation(r.Context(), p.WorkspaceID, req, token)
	writeJSON(w, http.StatusCreated, map[string]any{"data_request": req,
		"mailed": err == nil})
}

// mailConfirmation mails the contact of a request the link that confirms
// it; a failure is logged and returned.
func (s *Server) mailConfirmation(ctx context.Context, wsID string, req datarequest.Request,
	token string) error {
	to, err := s.DataRequests.Email(ctx, wsID, req.ContactID)
	if err == nil {
		err = s.Mail.Send(ctx, mail.Message{To: to,
			Subject: "Confirm your request about your data at " + s.workspaceName(ctx, wsID),
			Text: "We received a request for " + kindsText(req.Kinds) + " of the data we " +
				"hold on you. Open this link to confirm that you made it; " +
				"nothing happens until you do:\n\n" + s.statusLink(wsID, req.ID,
				token) + "\n\nIf you did not ask for this, ignore this message.\n"})
	}
	if err != nil {
		s.log.Warn("Mailing a data request's confirmation failed", "request_id",
			requestID(ctx), "error", err)
	}
	return err
}

// workspaceName is the name customers know the workspace by, for mail.
func (s *Server) workspaceName(ctx context.Context, wsID string) string {
	if ws, err := s.Workspaces.Get(ctx, wsID); err == nil && ws.Name != "" {
		return ws.Name
	}
	return "our team"
}

// kindsText names what a request asks for, in words: "a copy and deletion".
func kindsText(kinds []string) string {
	words := map[string]string{datarequest.Access: "a copy",
		datarequest.Portability: "a portable copy", datarequest.Deletion: "deletion"}
	var out []string
	for _, k := range kinds {
		out = append(out, words[k])
	}
	return strings.Join(out, " and ")
}

// seesContact reports whether the member may act for a contact: they see one
// of its conversations.
func (s *Server) seesContact(r *http.Request, p *principal, contactID string) bool {
	ids, err := s.DataRequests.Conversations(r.Context(), p.WorkspaceID, contactID)
	if err != nil {
		return false
	}
	for _, id := range ids {
		if _, err := s.Support.Get(r.Context(), p.Viewer, id); err == nil {
			return true
		}
	}
	return false
}

// approveDataRequest carries out a request and tells the requester by mail,
// when the contact had an address, what was done.
func (s *Server) approveDataRequest(ctx context.Context, p *principal,
	id string) (datarequest.Request, error) {
	req, err := s.DataRequests.Get(ctx, p.WorkspaceID, id)
	if err != nil {
		return req, err
	}
	to, _ := s.DataRequests.Email(ctx, p.WorkspaceID, req.ContactID)
	req, err = s.DataRequests.Approve(ctx, p.WorkspaceID, id, p.Email)
	// The outcome goes only to an address its owner proved by the mailed
	// link: one typed into the chat may be anyone's, and the chat's own
	// requester follows the request on its page.
	if err != nil || to == "" || req.VerifiedBy != datarequest.ByEmailLink {
		return req, err
	}
	text := "Your request about your data was carried out on " +
		req.Receipt.CompletedAt.Format(time.RFC1123) + ".\n"
	if req.Receipt.ExportUntil != nil {
		text += "Your copy can be downloaded from the request's page until " +
			req.Receipt.ExportUntil.Format(time.RFC1123) + ".\n"
	}
	if len(req.Receipt.Removed) > 0 {
		text += "Deleted:\n"
		for _, kind := range slices.Sorted(maps.Keys(req.Receipt.Removed)) {
			text += fmt.Sprintf("- %s: %d\n", strings.ReplaceAll(kind, "_", " "),
				req.Receipt.Removed[kind])
		}
		text += "The signed receipt is on the request's page.\n"
	}
	if err := s.Mail.Send(ctx, mail.Message{To: to, Subject: "Your data request is done",
		Text: text}); err != nil {
		s.log.Warn("Mailing a data request's outcome failed", "error", err)
	}
	return req, nil
}

func (s *Server) sendExport(w http.ResponseWriter, r *http.Request, wsID, id string) {
	archive, err := s.DataRequests.Export(r.Context(), wsID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="data-`+id+`.zip"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(archive)
}

func (s *Server) requesterPage(w http.ResponseWriter, r *http.Request) {
	if s.throttled(w, r) {
		return
	}
	q := r.URL.Query()
	req, err := s.DataRequests.ByToken(r.Context(), q.Get("ws"), r.PathValue("id"),
		q.Get("token"))
	if errors.Is(err, store.ErrNotFound) {
		s.renderStatus(w, r, http.StatusNotFound, "data_request.html", map[string]any{
			"Title": "Your data request", "Error": "This link does not work."})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	s.render(w, r, "data_request.html", map[string]any{"Title": "Your data request",
		"Request": req, "WS": q.Get("ws"), "Token": q.Get("token"),
		"StateText":  requesterStates[req.State],
		"ExportKept": s.DataRequests.ExportKept(r.Context(), q.Get("ws"), req.ID)})
}

// requesterStates say a request's state in the requester's words.
var requesterStates = map[string]string{
	datarequest.AwaitingVerification: "waiting for you to confirm it",
	datarequest.AwaitingApproval:     "being reviewed by our team",
	datarequest.Completed:            "done",
	datarequest.Rejected:             "refused",
}

func (s *Server) requesterVerify(w http.ResponseWriter, r *http.Request) {
	if s.throttled(w, r) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	ws, token := r.PostFormValue("ws"), r.PostFormValue("token")
	_, err := s.DataRequests.Verify(r.Context(), ws, r.PathValue("id"), token)
	if errors.Is(err, store.ErrNotFound) {
		s.renderStatus(w, r, http.StatusNotFound, "data_request.html", map[string]any{
			"Title": "Your data request", "Error": "This link does not work."})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, s.statusLink(ws, r.PathValue("id"), token), http.StatusSeeOther)
}

func (s *Server) dataRequestsPage(w http.ResponseWriter, r *http.Request, p *principal) {
	list, err := s.DataRequests.List(r.Context(), p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	same := map[string]int{}
	for _, req := range list {
		if req.State == datarequest.AwaitingApproval {
			if n, err := s.DataRequests.SameAddress(r.Context(), p.WorkspaceID,
				req.ContactID); err == nil && n > 0 {
				same[req.ID] = n
			}
		}
	}
	s.render(w, r, "data_requests.html", map[string]any{"Title": "Data requests",
		"Section": "data_requests", "Me": me(p), "Requests": list, "Now": s.Now(),
		"SameAddress": same})
}
