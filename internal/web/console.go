package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/identity"
	"github.com/thunaivi/thunaivi/internal/kb"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/support"
	"github.com/thunaivi/thunaivi/internal/workspace"
)

//go:embed templates
var templateFiles embed.FS

var pages = parsePages()

// parsePages parses each page together with the shared layout.
func parsePages() map[string]*template.Template {
	funcs := template.FuncMap{"join": strings.Join, "pathEscape": url.PathEscape,
		"visitor": visitorName, "list": func(v ...string) []string { return v },
		"mul100": func(v float64) float64 { return v * 100 }, "fileSize": fileSize}
	layout := template.Must(template.New("layout.html").Funcs(funcs).
		ParseFS(templateFiles, "templates/layout.html"))
	names, _ := fs.Glob(templateFiles, "templates/*.html")
	out := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimPrefix(n, "templates/")
		if name == "layout.html" {
			continue
		}
		out[name] = template.Must(template.Must(layout.Clone()).ParseFS(templateFiles, n))
	}
	return out
}

// fileSize writes a file's size as people read it.
func fileSize(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// visitorName tells anonymous customers apart by the random end of their
// contact id (its start is the time, shared by customers who arrive together).
func visitorName(contactID string) string {
	if len(contactID) < 6 {
		return contactID
	}
	return contactID[len(contactID)-6:]
}

// consoleCSP allows only the product's own scripts and styles.
const consoleCSP = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, data map[string]any) {
	s.renderStatus(w, r, http.StatusOK, name, data)
}

// renderStatus renders a page with a status other than 200, such as a form
// shown again with its error.
func (s *Server) renderStatus(w http.ResponseWriter, r *http.Request, status int, name string,
	data map[string]any) {
	if data["Base"] == nil {
		data["Base"] = s.PublicURL
	}
	if data["Root"] == nil {
		root, _ := rootOf(r)
		data["Root"] = root.Path
	}
	if data["Error"] == nil {
		if msg := s.takeFlash(w, r); msg != "" {
			data["Error"] = msg
		}
	}
	if w.Header().Get("Content-Security-Policy") == "" {
		w.Header().Set("Content-Security-Policy", consoleCSP)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := pages[name].ExecuteTemplate(w, name, data); err != nil {
		s.log.Error("Rendering page failed", "page", name, "error", err,
			"request_id", requestID(r.Context()))
	}
}

func (s *Server) consoleRoutes() {
	static, _ := fs.Sub(assets, "assets")
	files := http.StripPrefix("/assets/", http.FileServerFS(static))
	s.public("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	s.public("GET /assets/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			writeError(w, r, http.StatusNotFound, "not_found", "Not found.")
			return
		}
		w.Header().Set("Cache-Control", "no-cache") // kept, and checked on each use
		files.ServeHTTP(w, r)
	})
	s.page("GET /inbox", access.ConversationsRead, s.inboxPage)
	s.page("GET /conversations/{id}", access.ConversationsRead, s.conversationPage)
	s.page("POST /conversations/{id}/reply", access.MessagesWrite, s.formMessage(true))
	s.page("POST /conversations/{id}/note", access.MessagesWrite, s.formMessage(false))
	s.page("POST /conversations/{id}/update", access.ConversationsWrite, s.formUpdate)
	s.page("POST /conversations/{id}/drafts/{message}/approve", access.ConversationsWrite,
		s.formDraft(true))
	s.page("POST /conversations/{id}/drafts/{message}/reject", access.ConversationsWrite,
		s.formDraft(false))
	s.page("GET /kb", access.KBRead, s.kbPage)
	s.page("GET /kb/{id}", access.KBRead, s.kbEntryPage)
	s.page("POST /kb/{id}", access.KBPropose, s.formEntry)
	s.page("POST /kb/{id}/rollback", access.KBWrite, func(w http.ResponseWriter,
		r *http.Request, p *principal) {
		r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
		id := r.PathValue("id")
		version, _ := strconv.Atoi(r.PostFormValue("version"))
		_, err := s.KB.Rollback(r.Context(), p.WorkspaceID, p.UserID, id, version,
			r.PostFormValue("reason"))
		if errors.Is(err, store.ErrNotFound) {
			s.fail(w, r, err)
			return
		}
		s.back(w, r, "/kb/"+url.PathEscape(id), err)
	})
}

// me is what the layout shows of the signed-in member.
func me(p *principal) map[string]any {
	return map[string]any{"UserID": p.UserID, "Email": p.Email, "Role": p.Role,
		"Quality": access.Allowed(p.Role, access.QualityManage)}
}

// memberNames maps the workspace's members' user ids to the names the
// console shows for them.
func memberNames(members []workspace.Member) map[string]string {
	names := make(map[string]string, len(members))
	for _, m := range members {
		names[m.UserID] = m.Email
		if m.Name != "" {
			names[m.UserID] = m.Name
		}
	}
	return names
}

var (
	statusOptions   = []string{"open", "pending", "escalated", "resolved"}
	priorityOptions = []string{"low", "medium", "high", "urgent"}
)

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "login.html", map[string]any{"Title": "Sign in"})
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if !s.login.allow(clientIP(r)) {
		s.Metrics.Denied("rate_limited")
		s.Metrics.Login("throttled")
		s.renderStatus(w, r, http.StatusTooManyRequests, "login.html", map[string]any{
			"Title": "Sign in",
			"Error": "Too many sign-in attempts. Wait a minute and try again."})
		return
	}
	_, told, err := s.signIn(w, r, r.PostFormValue("email"), r.PostFormValue("password"),
		r.PostFormValue("code"))
	if err != nil {
		msg, status := "Wrong email or password.", http.StatusUnauthorized
		var wait accountWait
		switch {
		case errors.As(err, &wait):
			msg, status = wait.Error(), http.StatusTooManyRequests
		case errors.As(err, new(errSessionRevoked)):
			msg = err.Error()
		case errors.Is(err, identity.ErrSecondFactorNeeded):
			msg = "Enter the code from your authenticator app, or a recovery code."
		case errors.Is(err, identity.ErrBadSecondFactor):
			msg = "That code is not right, or was used already."
		case !errors.Is(err, identity.ErrBadCredentials) && !errors.Is(err, store.ErrNotFound):
			s.log.Error("Sign-in failed", "error", err, "request_id", requestID(r.Context()))
			msg = "Sign-in is not available right now."
		}
		s.renderStatus(w, r, status, "login.html", map[string]any{
			"Title": "Sign in", "Error": msg,
			"Email": r.PostFormValue("email")})
		return
	}
	// A rule that ended the member's sessions lately is told on the inbox.
	var notice error
	if told != "" {
		notice = formError(told)
	}
	home := "/inbox"
	if _, admin := rootOf(r); admin {
		home = at(r, "/")
	}
	s.back(w, r, home, notice)
}

func (s *Server) setupPage(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	s.render(w, r, "setup.html", map[string]any{"Title": "Setup", "Token": token,
		"Valid": token != "" && s.Workspaces.SetupTokenValid(r.Context(), token)})
}

func (s *Server) setupForm(w http.ResponseWriter, r *http.Request) {
	if s.throttled(w, r) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	token := r.PostFormValue("token")
	if token == "" {
		s.fail(w, r, store.ErrNotFound)
		return
	}
	res, err := s.Workspaces.Setup(r.Context(), s.Identity, token, workspace.SetupRequest{
		Workspace: r.PostFormValue("workspace"), AdminEmail: r.PostFormValue("email"),
		AdminPassword: r.PostFormValue("password")})
	if err != nil {
		msg := s.userMessage(r, err)
		if errors.Is(err, workspace.ErrSetupDone) {
			msg = "This setup link is no longer valid."
		}
		s.renderStatus(w, r, http.StatusUnprocessableEntity, "setup.html", map[string]any{
			"Title": "Setup", "Token": token,
			"Valid": s.Workspaces.SetupTokenValid(r.Context(), token), "Error": msg})
		return
	}
	s.log.Info("First workspace created through the setup link")
	s.render(w, r, "admin_path.html", map[string]any{"Title": "Workspace created",
		"Setup": true, "AdminURL": s.PublicURL + "/" + res.AdminPath + "/login",
		"WorkspaceID": res.Workspace.ID, "WidgetToken": res.Inbox.WidgetToken,
		"DemoURL": s.PublicURL + "/widget/demo?token=" + url.QueryEscape(res.Inbox.WidgetToken)})
}

func (s *Server) inboxPage(w http.ResponseWriter, r *http.Request, p *principal) {
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
	members, err := s.Workspaces.Members(r.Context(), p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var older string
	if next := support.NextCursor(list, f).String(); next != "" {
		q := r.URL.Query()
		q.Set("cursor", next)
		older = "/inbox?" + q.Encode()
	}
	s.render(w, r, "inbox.html", map[string]any{"Title": "Inbox", "Section": "inbox",
		"Me": me(p), "Conversations": list, "Filter": f, "Statuses": statusOptions,
		"Priorities": priorityOptions, "Names": memberNames(members), "Older": older})
}

func (s *Server) conversationPage(w http.ResponseWriter, r *http.Request, p *principal) {
	t, err := s.loadThread(r, p, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	members, err := s.Workspaces.Members(r.Context(), p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	assignable, err := s.Workspaces.Assignable(r.Context(), p.WorkspaceID,
		t.Conversation.InboxID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	title := t.Conversation.Subject
	if title == "" {
		title = "Conversation"
	}
	// asked is what each customer message said, to show beside the AI's
	// decision on it.
	asked := map[string]string{}
	for _, m := range t.Messages {
		if m.Kind == support.KindIncoming {
			asked[m.ID] = m.Body
		}
	}
	s.render(w, r, "conversation.html", map[string]any{"Title": title, "Section": "inbox",
		"Me": me(p), "Thread": t, "Members": assignable, "Names": memberNames(members),
		"Asked": asked, "Statuses": statusOptions, "Priorities": priorityOptions,
		"Contribute": access.Allowed(p.Role, access.QualityContribute) && s.Quality != nil,
		"Flagged":    s.flaggedReplies(r, p, t.Conversation.ID)})
}

// flashCookie carries an error from a form to the page it returns to. A
// cookie, not the URL, so that nobody can make a console page show text of
// their choosing by sending a link; and signed with a key of this process,
// so that nobody who can set cookies on the host can either.
const flashCookie = "thv_flash"

// flashKey signs flash cookies. A flash set on another node or before a
// restart is dropped, which loses only an error message.
var flashKey = func() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}()

func flashSignature(msg string) string {
	m := hmac.New(sha256.New, flashKey)
	m.Write([]byte(msg))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// back returns to the page a form was posted from, with an error to show.
func (s *Server) back(w http.ResponseWriter, r *http.Request, path string, err error) {
	if err != nil {
		msg := s.userMessage(r, err)
		http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: "/", MaxAge: 60,
			Value: base64.RawURLEncoding.EncodeToString([]byte(msg)) + "." +
				flashSignature(msg),
			HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteStrictMode})
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// takeFlash returns the error a form left for this page, and clears it.
func (s *Server) takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.SecureCookies, SameSite: http.SameSiteStrictMode})
	encoded, sig, _ := strings.Cut(c.Value, ".")
	raw, err := base64.RawURLEncoding.DecodeString(encoded)
	msg := string(raw)
	if err != nil || len(msg) > 300 || !utf8.ValidString(msg) ||
		!hmac.Equal([]byte(sig), []byte(flashSignature(msg))) {
		return ""
	}
	return msg
}

func (s *Server) formMessage(reply bool) memberHandler {
	return func(w http.ResponseWriter, r *http.Request, p *principal) {
		r.Body = http.MaxBytesReader(w, r.Body, maxJSONBody)
		id := r.PathValue("id")
		send := s.Support.Note
		if reply {
			send = s.Support.Reply
		}
		text := s.withoutKeys(r, r.PostFormValue("text"), "pasted in a conversation")
		_, err := send(r.Context(), p.Viewer, id, text)
		if errors.Is(err, store.ErrNotFound) {
			s.fail(w, r, err)
			return
		}
		if err == nil {
			// Land on the composer, just below the message sent.
			http.Redirect(w, r, "/conversations/"+id+"#compose", http.StatusSeeOther)
			return
		}
		s.back(w, r, "/conversations/"+id, err)
	}
}

func (s *Server) formUpdate(w http.ResponseWriter, r *http.Request, p *principal) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	id := r.PathValue("id")
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, errTooLarge)
		return
	}
	// Only the fields the form sent change, so that a one-field form such as
	// "Assign to me" cannot undo what a colleague changed meanwhile.
	var ch support.Change
	field := func(name string) *string {
		if !r.PostForm.Has(name) {
			return nil
		}
		v := r.PostForm.Get(name)
		return &v
	}
	ch.Status, ch.Priority, ch.AssigneeID = field("status"), field("priority"),
		field("assignee_id")
	if l := field("labels"); l != nil {
		labels := strings.Split(*l, ",")
		ch.Labels = &labels
	}
	_, err := s.Support.Update(r.Context(), p.Viewer, id, ch, s.teamExists)
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, err)
		return
	}
	s.back(w, r, "/conversations/"+id, err)
}

func (s *Server) formDraft(approve bool) memberHandler {
	return func(w http.ResponseWriter, r *http.Request, p *principal) {
		r.Body = http.MaxBytesReader(w, r.Body, maxJSONBody)
		id := r.PathValue("id")
		_, err := s.Support.ResolveDraft(r.Context(), p.Viewer, id, r.PathValue("message"),
			approve, s.withoutKeys(r, r.PostFormValue("text"), "pasted in a conversation"))
		if errors.Is(err, store.ErrNotFound) {
			s.fail(w, r, err)
			return
		}
		s.back(w, r, "/conversations/"+id, err)
	}
}

func (s *Server) kbPage(w http.ResponseWriter, r *http.Request, p *principal) {
	list, err := s.KB.List(r.Context(), p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "kb.html", map[string]any{"Title": "Knowledge base", "Section": "kb",
		"Me": me(p), "Entries": list, "WorkspaceID": p.WorkspaceID})
}

func (s *Server) kbEntryPage(w http.ResponseWriter, r *http.Request, p *principal) {
	data := map[string]any{"Title": "Knowledge base", "Section": "kb", "Me": me(p),
		"CanEdit":    access.Allowed(p.Role, access.KBWrite),
		"CanPropose": access.Allowed(p.Role, access.KBPropose),
		"Publishes":  s.publishes(r, p)}
	var e kb.Entry
	if id := r.PathValue("id"); id != "new" {
		var err error
		if e, err = s.KB.Get(r.Context(), p.WorkspaceID, id); err != nil {
			s.fail(w, r, err)
			return
		}
		if data["Versions"], err = s.KB.Versions(r.Context(), p.WorkspaceID, id); err != nil {
			s.fail(w, r, err)
			return
		}
		if e.Owner != "" {
			members, err := s.Workspaces.Members(r.Context(), p.WorkspaceID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			data["Owner"] = memberNames(members)[e.Owner]
		}
	}
	cats, err := s.KB.Categories(r.Context(), p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data["Entry"], data["Categories"] = e, cats
	s.render(w, r, "kb_entry.html", data)
}

func (s *Server) formEntry(w http.ResponseWriter, r *http.Request, p *principal) {
	r.Body = http.MaxBytesReader(w, r.Body, maxJSONBody)
	id := r.PathValue("id")
	if id == "new" {
		id = ""
	} else if _, err := s.KB.Get(r.Context(), p.WorkspaceID, id); err != nil {
		s.fail(w, r, err)
		return
	}
	var questions, tags []string
	for _, q := range strings.Split(r.PostFormValue("questions"), "\n") {
		if q = strings.TrimSpace(q); q != "" {
			questions = append(questions, q)
		}
	}
	for _, t := range strings.Split(r.PostFormValue("tags"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	e := kb.Entry{ID: id, Title: r.PostFormValue("title"), Questions: questions,
		Answer: s.withoutKeys(r, r.PostFormValue("answer"), "pasted in a knowledge-base entry"),
		Tags:   tags, Handoff: r.PostFormValue("handoff"),
		Published: r.PostFormValue("published") == "1"}
	from := "/kb/new"
	if id != "" {
		from = "/kb/" + url.PathEscape(id)
	}
	if e.Handoff != "" && !s.knownCategory(r, p, e.Handoff) {
		s.back(w, r, from, formError("handoff must name a restricted category"))
		return
	}
	base, err := strconv.Atoi(r.PostFormValue("base_version"))
	if err != nil {
		s.back(w, r, from, formError("the form is out of date; reload it"))
		return
	}
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if reason == "" {
		s.back(w, r, from, formError("say why you change it"))
		return
	}
	if r.PostFormValue("action") == "propose" || !s.publishes(r, p) {
		author, name := proposer(p)
		prop, err := s.KB.Propose(r.Context(), p.WorkspaceID, author, name, reason, e, base)
		if err != nil {
			s.back(w, r, from, err)
			return
		}
		http.Redirect(w, r, "/review/"+url.PathEscape(prop.ID), http.StatusSeeOther)
		return
	}
	saved, err := s.KB.Edit(r.Context(), p.WorkspaceID, p.Email, reason, e, base)
	if err != nil {
		s.back(w, r, from, err)
		return
	}
	http.Redirect(w, r, "/kb/"+url.PathEscape(saved.ID), http.StatusSeeOther)
}
