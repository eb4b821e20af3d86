package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/audit"
)

// securityWindow is how far back the security page looks.
const securityWindow = 30 * 24 * time.Hour

// auditRoutes serve the audit log's review, export and verification, and the
// security page of failed sign-ins and anomalies, to admins.
func (s *Server) auditRoutes() {
	s.api("GET /api/v1/audit", access.AuditRead, s.apiAudit)
	s.api("GET /api/v1/audit/export", access.AuditRead, s.fresh(s.auditExport))
	s.api("POST /api/v1/audit/verify", access.AuditRead, s.apiVerify)
	s.api("GET /api/v1/security/summary", access.AuditRead, s.apiSecurity)
	s.page("GET /settings/audit", access.AuditRead, s.auditPage)
	s.page("GET /settings/audit/export", access.AuditRead, s.fresh(s.auditExport))
	s.page("POST /settings/audit/verify", access.AuditRead, s.formVerify)
	s.page("GET /settings/security", access.AuditRead, s.securityPage)
}

// auditFilter reads the review filters from a query string: from and to as
// dates (2026-12-01) or times (RFC 3339), actor, action, target, outcome,
// and the paging cursor before with limit.
func auditFilter(wsID string, q url.Values) (audit.Filter, error) {
	f := audit.Filter{Workspace: wsID, Actor: strings.TrimSpace(q.Get("actor")),
		Action: strings.TrimSpace(q.Get("action")), Target: strings.TrimSpace(q.Get("target")),
		Outcome: audit.Outcome(q.Get("outcome")), Limit: 100}
	var err error
	if f.From, err = filterTime(q.Get("from"), false); err != nil {
		return f, err
	}
	if f.To, err = filterTime(q.Get("to"), true); err != nil {
		return f, err
	}
	switch f.Outcome {
	case "", audit.Success, audit.Failure, audit.Refused:
	default:
		return f, formError("the outcome is success, failure or denied")
	}
	if v := q.Get("before"); v != "" {
		if f.Before, err = strconv.ParseInt(v, 10, 64); err != nil || f.Before < 1 {
			return f, formError("before is a positive entry number")
		}
	}
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 || f.Limit > audit.MaxPage {
			return f, formError(fmt.Sprintf("the limit is 1 to %d", audit.MaxPage))
		}
	}
	for _, v := range []string{f.Actor, f.Action, f.Target} {
		if len(v) > 254 {
			return f, formError("a filter has at most 254 characters")
		}
	}
	if strings.Contains(f.Actor, "@") {
		f.Actor = strings.ToLower(f.Actor) // addresses are kept lower-cased
	}
	if f.Action != "" && !knownAction(f.Action) {
		return f, formError("the action is not one the audit log records; see docs/AUDIT.md")
	}
	return f, nil
}

// knownAction reports whether a filter names an action of the vocabulary, or
// the start of some ("authn", "authn.login").
func knownAction(a string) bool {
	for _, v := range audit.Vocabulary {
		if string(v.Action) == a || strings.HasPrefix(string(v.Action), a+".") {
			return true
		}
	}
	return false
}

// auditQuery reads the filters of a request. A semicolon is refused: Go's
// query parser drops a pair holding one, which would silently widen an
// export to the whole log.
func auditQuery(r *http.Request, p *principal) (audit.Filter, error) {
	if strings.Contains(r.URL.RawQuery, ";") {
		return audit.Filter{}, formError("separate filters with &, not ;")
	}
	return auditFilter(p.WorkspaceID, r.URL.Query())
}

// filterTime parses a date or an RFC 3339 time; a date as the end of a range
// means the end of that day.
func filterTime(v string, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, formError("a time is a date such as 2026-12-01 or an RFC 3339 time")
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}

type auditPage struct {
	Entries []audit.Entry `json:"entries"`
	// Next is the cursor of the following page, 0 on the last.
	Next int64 `json:"next_before,omitempty"`
}

func (s *Server) listAudit(r *http.Request, p *principal) (auditPage, audit.Filter, error) {
	f, err := auditQuery(r, p)
	if err != nil {
		return auditPage{}, f, err
	}
	es, err := s.Audit.List(r.Context(), f)
	if err != nil {
		return auditPage{}, f, err
	}
	page := auditPage{Entries: es}
	if len(es) == f.Limit {
		page.Next = es[len(es)-1].Seq
	}
	if page.Entries == nil {
		page.Entries = []audit.Entry{}
	}
	return page, f, nil
}

func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request, p *principal) {
	page, _, err := s.listAudit(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// auditExport sends the entries matching the filters as CSV or JSON Lines.
// The export is itself recorded first: if that fails, nothing is sent.
func (s *Server) auditExport(w http.ResponseWriter, r *http.Request, p *principal) {
	f, err := auditQuery(r, p)
	format := r.URL.Query().Get("format")
	if err == nil && format != audit.CSV && format != audit.JSONL {
		err = formError("the format is csv or jsonl")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	err = s.Audit.Write(r.Context(), audit.Event{Workspace: p.WorkspaceID,
		Action: audit.ExportCreated, TargetType: "audit_log", Reason: "audit export as " + format,
		Diff: audit.Diff{"filter": {nil, filterSummary(f)}}})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctype := map[string]string{audit.CSV: "text/csv; charset=utf-8",
		audit.JSONL: "application/jsonl; charset=utf-8"}[format]
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="audit-%s.%s"`,
		s.Now().UTC().Format("20060102-150405"), format))
	w.Header().Set("Cache-Control", "no-store")
	if _, err := s.Audit.Export(r.Context(), w, format, f); err != nil {
		// The status is sent; the truncated file is all that can be done.
		s.log.Error("Audit export failed", "error", err, "request_id", requestID(r.Context()))
	}
}

func filterSummary(f audit.Filter) string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	if !f.From.IsZero() {
		add("from", f.From.Format(time.RFC3339))
	}
	if !f.To.IsZero() {
		add("to", f.To.Format(time.RFC3339))
	}
	add("actor", f.Actor)
	add("action", f.Action)
	add("target", f.Target)
	add("outcome", string(f.Outcome))
	return strings.Join(parts, " ")
}

// verify checks the whole chain against the checkpoints the server can
// read, and records that it did, with the result.
func (s *Server) verify(r *http.Request, p *principal) (audit.Report, error) {
	var cps audit.Checkpoints
	if s.Checkpoints != nil {
		var err error
		if cps, err = s.Checkpoints(); err != nil {
			return audit.Report{}, err
		}
	}
	rep, err := s.Audit.Verify(r.Context(), cps)
	if err != nil {
		return rep, err
	}
	ev := audit.Event{Workspace: p.WorkspaceID, Action: audit.AuditVerified,
		TargetType: "audit_log", Reason: fmt.Sprintf("%d entries checked", rep.Entries)}
	if rep.Problem != nil {
		ev.Outcome, ev.Reason = audit.Failure, rep.Problem.Error()
		s.log.Error("The audit log does not verify", "problem", rep.Problem.Error(),
			"request_id", requestID(r.Context()))
		defer s.detectAuditBroken(r.Context(), p.WorkspaceID, rep.Problem.Error())
	}
	return rep, s.Audit.Write(r.Context(), ev)
}

func (s *Server) apiVerify(w http.ResponseWriter, r *http.Request, p *principal) {
	rep, err := s.verify(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func (s *Server) apiSecurity(w http.ResponseWriter, r *http.Request, p *principal) {
	sum, err := s.Audit.Security(r.Context(), p.WorkspaceID, s.Now().Add(-securityWindow))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sum)
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, p *principal) {
	s.renderAudit(w, r, p, nil)
}

func (s *Server) formVerify(w http.ResponseWriter, r *http.Request, p *principal) {
	rep, err := s.verify(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderAudit(w, r, p, &rep)
}

func (s *Server) renderAudit(w http.ResponseWriter, r *http.Request, p *principal,
	rep *audit.Report) {
	page, _, err := s.listAudit(r, p)
	if err != nil {
		if _, code := classify(err); code != "internal" {
			s.renderStatus(w, r, http.StatusUnprocessableEntity, "audit.html",
				map[string]any{"Title": "Audit log", "Section": "audit", "Me": me(p),
					"Error": s.userMessage(r, err), "Query": r.URL.Query(),
					"Vocabulary": audit.Vocabulary})
			return
		}
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	next := ""
	if page.Next > 0 {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("before", strconv.FormatInt(page.Next, 10))
		next = at(r, "/settings/audit?") + nq.Encode()
	}
	export := func(format string) string {
		eq := url.Values{"format": {format}}
		for k, v := range q {
			if k != "before" && k != "limit" {
				eq[k] = v
			}
		}
		return at(r, "/settings/audit/export?") + eq.Encode()
	}
	s.render(w, r, "audit.html", map[string]any{"Title": "Audit log", "Section": "audit",
		"Me": me(p), "Entries": page.Entries, "Next": next, "Query": q,
		"ExportCSV": export(audit.CSV), "ExportJSONL": export(audit.JSONL), "Report": rep,
		"Vocabulary": audit.Vocabulary})
}

func (s *Server) securityPage(w http.ResponseWriter, r *http.Request, p *principal) {
	sum, err := s.Audit.Security(r.Context(), p.WorkspaceID, s.Now().Add(-securityWindow))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	mode, err := s.KB.ReviewMode(r.Context(), p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "security.html", map[string]any{"Title": "Security", "Section": "audit",
		"Me": me(p), "Summary": sum, "ReviewMode": mode})
}
