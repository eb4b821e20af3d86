package web

import (
	"context"
	"errors"
	"html/template"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/apikey"
	"github.com/thunaivi/thunaivi/internal/compliance"
	"github.com/thunaivi/thunaivi/internal/datarequest"
	"github.com/thunaivi/thunaivi/internal/retention"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/workspace"
)

// trustRoutes publish what a workspace says about its security: its trust
// page, documents and security.txt, to anyone, once an admin has saved its
// contacts; and let admins set the contacts, save documents and accept the
// hosted service's terms over the API.
func (s *Server) trustRoutes() {
	s.public("GET /.well-known/security.txt", s.hostSecurityTxt)
	s.public("GET /trust/{ws}", s.trustPage)
	s.public("GET /trust/{ws}/security.txt", func(w http.ResponseWriter, r *http.Request) {
		ws, c, ok := s.published(w, r, r.PathValue("ws"))
		if ok {
			s.writeSecurityTxt(w, ws, c, s.trustURL(ws.ID)+"/security.txt")
		}
	})
	s.public("GET /trust/{ws}/documents/{kind}", s.publicDocument)
	s.public("GET /trust/{ws}/documents/{kind}/v/{n}", s.publicDocument)
	csrf := s.crossOriginProtection()
	s.public("POST /trust/{ws}/data-requests", csrf.Handler(http.HandlerFunc(
		s.trustDataRequest)).ServeHTTP)

	s.api("GET /api/v1/trust/contacts", access.TrustManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			c, saved, err := s.Trust.Contacts(r.Context(), p.WorkspaceID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, s.contactsBody(p.WorkspaceID, c, saved))
		})
	s.api("PUT /api/v1/trust/contacts", access.TrustManage, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			var req compliance.Contacts
			if err := decode(w, r, &req, 8<<10); err != nil {
				s.fail(w, r, err)
				return
			}
			c, err := s.Trust.SetContacts(r.Context(), p.WorkspaceID, req, p.Email)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, s.contactsBody(p.WorkspaceID, c, true))
		}))
	s.api("GET /api/v1/trust/documents", access.TrustManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			docs, err := s.documentStates(r.Context(), p.WorkspaceID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"documents": docs})
		})
	s.api("GET /api/v1/trust/documents/{kind}", access.TrustManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			st, err := s.documentState(r.Context(), p.WorkspaceID, r.PathValue("kind"), true)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, st)
		})
	s.api("POST /api/v1/trust/documents/{kind}/versions", access.TrustManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			var req struct {
				Markdown string `json:"markdown"`
			}
			if err := decode(w, r, &req, compliance.MaxBody*2); err != nil {
				s.fail(w, r, err)
				return
			}
			d, err := s.saveDocument(r.Context(), p, r.PathValue("kind"), req.Markdown)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusCreated, map[string]any{"document": d,
				"url": s.documentURL(p.WorkspaceID, d.Kind, d.Version)})
		})
	s.api("GET /api/v1/trust/terms", access.TrustManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			t, a, err := s.serviceTerms(r.Context(), p.WorkspaceID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"terms": t, "accepted": a})
		})
	s.api("POST /api/v1/trust/terms/accept", access.TrustManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			var req struct {
				Version int `json:"version"`
			}
			if err := decode(w, r, &req, 1<<10); err != nil {
				s.fail(w, r, err)
				return
			}
			a, err := s.Trust.Accept(r.Context(), p.WorkspaceID, req.Version, p.UserID, p.Email)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusCreated, map[string]any{"accepted": a})
		})
}

// trustURL is a workspace's public trust page.
func (s *Server) trustURL(wsID string) string {
	return s.PublicURL + "/trust/" + url.PathEscape(wsID)
}

// documentURL is where a document is published: its current version when
// version is 0, else that version.
func (s *Server) documentURL(wsID string, kind compliance.Kind, version int) string {
	u := s.trustURL(wsID) + "/documents/" + string(kind)
	if version > 0 {
		u += "/v/" + strconv.Itoa(version)
	}
	return u
}

func (s *Server) contactsBody(wsID string, c compliance.Contacts, saved bool) map[string]any {
	return map[string]any{"contacts": c, "published": saved, "trust_url": s.trustURL(wsID),
		"security_txt_url": s.trustURL(wsID) + "/security.txt"}
}

// published finds a workspace whose trust page is public: it exists and an
// admin saved its contacts. Anything else answers 404, as an unknown path.
func (s *Server) published(w http.ResponseWriter, r *http.Request,
	wsID string) (workspace.Workspace, compliance.Contacts, bool) {
	ws, c, err := s.publishedWorkspace(r.Context(), wsID)
	if err != nil {
		s.fail(w, r, err)
		return ws, c, false
	}
	return ws, c, true
}

func (s *Server) publishedWorkspace(ctx context.Context,
	wsID string) (workspace.Workspace, compliance.Contacts, error) {
	if wsID == "" || len(wsID) > 64 || strings.ContainsFunc(wsID, func(r rune) bool {
		return !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' ||
			r >= 'A' && r <= 'Z')
	}) {
		return workspace.Workspace{}, compliance.Contacts{}, store.ErrNotFound
	}
	ws, err := s.Workspaces.Get(ctx, wsID)
	if err != nil {
		return ws, compliance.Contacts{}, err
	}
	c, saved, err := s.Trust.Contacts(ctx, wsID)
	if err == nil && !saved {
		err = store.ErrNotFound
	}
	return ws, c, err
}

// hostSecurityTxt serves the security.txt of the workspace the operator
// named, or of the server's only workspace; on a server of several with none
// named, there is none.
func (s *Server) hostSecurityTxt(w http.ResponseWriter, r *http.Request) {
	wsID := s.SecurityTxtWorkspace
	if wsID == "" {
		ids, err := s.Workspaces.IDs(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if len(ids) != 1 {
			writeError(w, r, http.StatusNotFound, "not_found", "Not found.")
			return
		}
		wsID = ids[0]
	}
	ws, c, ok := s.published(w, r, wsID)
	if ok {
		s.writeSecurityTxt(w, ws, c, s.PublicURL+"/.well-known/security.txt")
	}
}

func (s *Server) writeSecurityTxt(w http.ResponseWriter, ws workspace.Workspace,
	c compliance.Contacts, canonical string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte(compliance.SecurityTxt(c, canonical,
		s.documentURL(ws.ID, compliance.Security, 0), s.Now())))
}

// retentionLabels say what each retention class holds, for the public.
var retentionLabels = map[retention.Class]string{
	retention.Conversations: "Conversations and their messages, from the last message",
	retention.AIDecisions:   "The AI's recorded reasons for each answer",
	retention.Attachments:   "Files customers and the team sent in conversations, from upload",
	retention.Contacts: "Customers' names and addresses, once none of their " +
		"conversations remain",
	retention.SecurityEvents: "Team members' ended sign-in sessions, with address and browser",
}

// trustFacts gathers the live settings the trust page and documents quote.
func (s *Server) trustFacts(ctx context.Context, ws workspace.Workspace,
	c compliance.Contacts) (compliance.Facts, error) {
	base := s.trustURL(ws.ID)
	f := compliance.Facts{Workspace: ws.Name, TrustURL: base, DocumentsURL: base + "/documents",
		SecurityTxtURL: base + "/security.txt", Contacts: c, Transport: s.Transport,
		AuditDays: s.AuditRetentionDays, Roles: compliance.Roles(),
		Keys: compliance.KeyFacts{Format: apikey.Prefix + "…", Pattern: apikey.Pattern,
			DefaultLifetime: int(apikey.DefaultLifetime.Hours() / 24),
			MaxLifetime:     int(apikey.MaxLifetime.Hours() / 24),
			RotationDue:     int(apikey.RotationDue.Hours() / 24),
			MaxOverlap:      int(apikey.MaxOverlap.Hours() / 24)}}
	if s.Retention != nil {
		pol, err := s.Retention.Policy(ctx, ws.ID)
		if err != nil {
			return f, err
		}
		for _, cl := range retention.Classes {
			f.Retention = append(f.Retention, compliance.Period{Class: string(cl),
				Label: retentionLabels[cl], Days: pol[cl]})
		}
	}
	if s.LLM != nil {
		st, err := s.LLM.Settings(ctx, ws.ID)
		if err != nil {
			return f, err
		}
		if st.Enabled {
			f.Subprocessors = append(f.Subprocessors, compliance.Subprocessor{
				Name: "LLM provider: " + providerName(st.BaseURL),
				Purpose: "rewrites the knowledge base's answers in the workspace's tone; " +
					"receives customers' messages as quoted text"})
		}
	}
	if s.MailRelay != "" {
		f.Subprocessors = append(f.Subprocessors, compliance.Subprocessor{
			Name: "mail relay: " + providerName("smtp://"+s.MailRelay),
			Purpose: "delivers the product's mail, such as data-request confirmations; " +
				"sees recipients' addresses and the messages"})
	}
	return f, nil
}

// providerName names a service by its host, without giving away an
// address on the operator's own network.
func providerName(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return "a service the operator configured"
	}
	host := u.Hostname()
	if net.ParseIP(host) != nil || !strings.Contains(host, ".") {
		return "a service on the operator's own network"
	}
	return host
}

// draft is the kind's draft from the workspace's settings now.
func (s *Server) draft(ctx context.Context, ws workspace.Workspace, c compliance.Contacts,
	kind compliance.Kind) (string, error) {
	f, err := s.trustFacts(ctx, ws, c)
	if err != nil {
		return "", err
	}
	return compliance.Draft(kind, f)
}

// draftOf is the draft the workspace's settings give now for the kind a
// path names.
func (s *Server) draftOf(ctx context.Context, wsID, rawKind string) (compliance.Kind, string,
	error) {
	kind, err := compliance.ParseKind(rawKind)
	if err != nil {
		return "", "", err
	}
	ws, err := s.Workspaces.Get(ctx, wsID)
	if err != nil {
		return "", "", err
	}
	c, _, err := s.Trust.Contacts(ctx, wsID)
	if err != nil {
		return "", "", err
	}
	draft, err := s.draft(ctx, ws, c, kind)
	return kind, draft, err
}

// documentStatus is a document as the console and the API show it.
type documentStatus struct {
	Kind  compliance.Kind `json:"kind"`
	Title string          `json:"title"`
	// Current is the newest saved version; nil while the public address
	// serves the draft.
	Current *compliance.Document `json:"current"`
	// Stale says the settings the document quotes changed since it was
	// saved: the draft differs from the one it was saved against.
	Stale    bool                  `json:"settings_changed"`
	URL      string                `json:"url"`
	Draft    string                `json:"draft,omitempty"`
	Versions []compliance.Document `json:"versions,omitempty"`
}

func (s *Server) documentState(ctx context.Context, wsID, rawKind string,
	full bool) (documentStatus, error) {
	kind, draft, err := s.draftOf(ctx, wsID, rawKind)
	if err != nil {
		return documentStatus{}, err
	}
	st := documentStatus{Kind: kind, Title: compliance.Titles[kind],
		URL: s.documentURL(wsID, kind, 0)}
	cur, err := s.Trust.Current(ctx, wsID, kind)
	switch {
	case err == nil:
		st.Current, st.Stale = &cur, cur.DraftHash != compliance.Hash(draft)
		if !full {
			cur.Body = ""
		}
	case !errors.Is(err, store.ErrNotFound):
		return st, err
	}
	if full {
		st.Draft = draft
		if st.Versions, err = s.Trust.Versions(ctx, wsID, kind); err != nil {
			return st, err
		}
	}
	return st, nil
}

func (s *Server) documentStates(ctx context.Context, wsID string) ([]documentStatus, error) {
	var out []documentStatus
	for _, k := range compliance.Kinds {
		st, err := s.documentState(ctx, wsID, string(k), false)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// saveDocument saves an admin's text as the kind's next version, against
// the draft the settings give now.
func (s *Server) saveDocument(ctx context.Context, p *principal, rawKind,
	body string) (compliance.Document, error) {
	kind, draft, err := s.draftOf(ctx, p.WorkspaceID, rawKind)
	if err != nil {
		return compliance.Document{}, err
	}
	return s.Trust.Save(ctx, p.WorkspaceID, kind, body, draft, p.Email)
}

// serviceTerms returns the current service terms and the workspace's
// acceptance of them; both nil when the operator published none.
func (s *Server) serviceTerms(ctx context.Context, wsID string) (*compliance.ServiceTerms,
	*compliance.Acceptance, error) {
	t, err := s.Trust.CurrentTerms(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	a, err := s.Trust.Accepted(ctx, wsID, t.Version)
	return &t, a, err
}

// publicDocument serves a document's current version (its draft from the
// live settings until one is saved) or a past version, as HTML rendered
// from Markdown with anything that could run removed.
func (s *Server) publicDocument(w http.ResponseWriter, r *http.Request) {
	ws, c, ok := s.published(w, r, r.PathValue("ws"))
	if !ok {
		return
	}
	kind, err := compliance.ParseKind(r.PathValue("kind"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var d compliance.Document
	if n := r.PathValue("n"); n != "" {
		v, perr := strconv.Atoi(n)
		if perr != nil || v < 1 {
			s.fail(w, r, store.ErrNotFound)
			return
		}
		d, err = s.Trust.Version(r.Context(), ws.ID, kind, v)
	} else {
		d, err = s.Trust.Current(r.Context(), ws.ID, kind)
		if errors.Is(err, store.ErrNotFound) {
			d = compliance.Document{Kind: kind}
			d.Body, err = s.draft(r.Context(), ws, c, kind)
		}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "trust_document.html", map[string]any{"Title": compliance.Titles[kind],
		"Workspace": ws, "Document": d, "TrustURL": s.trustURL(ws.ID),
		"Body": template.HTML(compliance.HTML(d.Body))}) // sanitized by compliance.HTML
}

// trustPage is the workspace's public trust page, built from its live
// settings each time it is asked for.
func (s *Server) trustPage(w http.ResponseWriter, r *http.Request) {
	ws, c, ok := s.published(w, r, r.PathValue("ws"))
	if !ok {
		return
	}
	f, err := s.trustFacts(r.Context(), ws, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	type doc struct {
		Title, URL string
	}
	var docs []doc
	for _, k := range compliance.Kinds {
		docs = append(docs, doc{compliance.Titles[k], s.documentURL(ws.ID, k, 0)})
	}
	s.render(w, r, "trust.html", map[string]any{"Title": "Trust and security: " + ws.Name,
		"Facts": f, "Documents": docs, "Requested": r.URL.Query().Has("requested"),
		"DataRequests": s.DataRequests != nil,
		"Action":       "/trust/" + url.PathEscape(ws.ID) + "/data-requests"})
}

// trustDataRequest starts a data-subject request from the trust page: when
// the workspace has a contact with the address given, the request is filed
// as one made by mail and its confirmation link mailed to that address, so
// only its owner can go on with it. The answer is the same either way.
func (s *Server) trustDataRequest(w http.ResponseWriter, r *http.Request) {
	if s.throttled(w, r) {
		return
	}
	ws, _, ok := s.published(w, r, r.PathValue("ws"))
	if !ok || s.DataRequests == nil {
		if ok {
			s.fail(w, r, store.ErrNotFound)
		}
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, formError("the form could not be read"))
		return
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
		s.fail(w, r, formError("give the email address you wrote to us from"))
		return
	}
	// Every check of the form comes before the address is looked up, so
	// that no answer differs by whether the address is a customer's.
	kinds := r.PostForm["kind"]
	if len(kinds) == 0 || len(kinds) > 3 || slices.ContainsFunc(kinds, func(k string) bool {
		return k != datarequest.Access && k != datarequest.Portability &&
			k != datarequest.Deletion
	}) {
		s.fail(w, r, formError("choose what you are asking for"))
		return
	}
	// Whether the address is a customer's is looked up after the answer:
	// filing and mailing take time, which would tell the two apart.
	// The request is filed and mailed after the answer, which is the same
	// whether or not the address is a customer's (FileForAddress).
	s.later(r, func(ctx context.Context) {
		req, token, err := s.DataRequests.FileForAddress(ctx, ws.ID, email, kinds,
			"trust page")
		switch {
		case err == nil:
			s.mailConfirmation(ctx, ws.ID, req, token)
		case errors.Is(err, datarequest.ErrTooMany):
			s.log.Warn("A data request from the trust page was not filed: the address had "+
				"its requests for the day", "workspace_id", ws.ID, "request_id",
				requestID(ctx))
		case !errors.Is(err, store.ErrNotFound) && !errors.Is(err, datarequest.ErrOpen):
			s.log.Error("Filing a data request from the trust page failed", "workspace_id",
				ws.ID, "error", err, "request_id", requestID(ctx))
		}
	})
	http.Redirect(w, r, "/trust/"+url.PathEscape(ws.ID)+"?requested=1#deletion",
		http.StatusSeeOther)
}

// trustPages are the admin console's Trust page: contacts and response
// times, the documents and their versions, and the service's terms.
func (s *Server) trustPages() {
	s.page("GET /settings/trust", access.TrustManage, s.trustSettingsPage)
	s.page("POST /settings/trust/contacts", access.TrustManage, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
			c, err := contactsForm(r)
			if err == nil {
				_, err = s.Trust.SetContacts(r.Context(), p.WorkspaceID, c, p.Email)
			}
			s.back(w, r, at(r, "/settings/trust"), err)
		}))
	s.page("GET /settings/trust/documents/{kind}", access.TrustManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			st, err := s.documentState(r.Context(), p.WorkspaceID, r.PathValue("kind"), true)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			text := st.Draft
			if st.Current != nil {
				text = st.Current.Body
			}
			s.render(w, r, "trust_edit.html", map[string]any{"Title": st.Title,
				"Section": "trust", "Me": me(p), "Doc": st, "Text": text,
				"Public": func(v int) string { return s.documentURL(p.WorkspaceID, st.Kind, v) }})
		})
	s.page("POST /settings/trust/documents/{kind}", access.TrustManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			r.Body = http.MaxBytesReader(w, r.Body, compliance.MaxBody*4)
			_, err := s.saveDocument(r.Context(), p, r.PathValue("kind"),
				r.PostFormValue("markdown"))
			if errors.Is(err, store.ErrNotFound) {
				s.fail(w, r, err)
				return
			}
			s.back(w, r, at(r, "/settings/trust/documents/"+url.PathEscape(
				r.PathValue("kind"))), err)
		})
	s.page("POST /settings/trust/terms/accept", access.TrustManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			r.Body = http.MaxBytesReader(w, r.Body, 1<<10)
			v, err := strconv.Atoi(r.PostFormValue("version"))
			if err != nil {
				err = formError("no version of the terms was named")
			} else {
				_, err = s.Trust.Accept(r.Context(), p.WorkspaceID, v, p.UserID, p.Email)
			}
			s.back(w, r, at(r, "/settings/trust"), err)
		})
}

func (s *Server) trustSettingsPage(w http.ResponseWriter, r *http.Request, p *principal) {
	c, saved, err := s.Trust.Contacts(r.Context(), p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	docs, err := s.documentStates(r.Context(), p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	terms, accepted, err := s.serviceTerms(r.Context(), p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var termsHTML template.HTML
	if terms != nil {
		termsHTML = template.HTML(compliance.HTML(terms.Body)) // sanitized
	}
	type sev struct {
		Name, Meaning string
		Time          compliance.Duration
	}
	var sevs []sev
	for _, v := range compliance.Severities {
		sevs = append(sevs, sev{string(v), compliance.Meaning[v], c.ResponseTimes[v]})
	}
	s.render(w, r, "trust_settings.html", map[string]any{"Title": "Trust",
		"Section": "trust", "Me": me(p), "Contacts": c, "Published": saved,
		"Severities": sevs, "Documents": docs, "Terms": terms, "TermsHTML": termsHTML,
		"Accepted": accepted, "TrustURL": s.trustURL(p.WorkspaceID),
		"Languages": strings.Join(c.Languages, ", "),
		"Units":     []string{compliance.Minutes, compliance.Hours, compliance.BusinessDays}})
}

// contactsForm reads the console's contacts form.
func contactsForm(r *http.Request) (compliance.Contacts, error) {
	c := compliance.Defaults()
	for name, dst := range map[string]*compliance.Contact{"security": &c.Security,
		"billing": &c.Billing, "incident": &c.Incident} {
		*dst = compliance.Contact{Email: r.PostFormValue(name + "_email"),
			Phone: r.PostFormValue(name + "_phone"), URL: r.PostFormValue(name + "_url")}
	}
	for _, sev := range compliance.Severities {
		n, err := strconv.Atoi(r.PostFormValue(string(sev) + "_amount"))
		if err != nil {
			return c, formError("each response time is a whole number")
		}
		c.ResponseTimes[sev] = compliance.Duration{Amount: n,
			Unit: r.PostFormValue(string(sev) + "_unit")}
	}
	c.Languages = nil
	for _, l := range strings.Split(r.PostFormValue("languages"), ",") {
		if l = strings.TrimSpace(l); l != "" {
			c.Languages = append(c.Languages, l)
		}
	}
	return c, nil
}
