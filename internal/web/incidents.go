package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/checklist"
	"github.com/thunaivi/thunaivi/internal/incident"
	"github.com/thunaivi/thunaivi/internal/store"
)

// incidentRoutes let admins open and work incidents through the playbook,
// keep security baselines, isolate the workspace, and sign off the monthly
// security checklist.
func (s *Server) incidentRoutes() {
	perm := access.IncidentsManage
	s.api("GET /api/v1/incidents", perm, func(w http.ResponseWriter, r *http.Request,
		p *principal) {
		list, err := s.Incidents.List(r.Context(), p.WorkspaceID)
		s.answer(w, r, err, http.StatusOK, map[string]any{"incidents": list})
	})
	s.api("POST /api/v1/incidents", perm, func(w http.ResponseWriter, r *http.Request,
		p *principal) {
		var req incident.Opening
		if err := decode(w, r, &req, 8<<10); err != nil {
			s.fail(w, r, err)
			return
		}
		in, err := s.Incidents.Open(r.Context(), p.WorkspaceID, req)
		s.answer(w, r, err, http.StatusCreated, map[string]any{"incident": in})
	})
	s.api("GET /api/v1/incidents/{id}", perm, func(w http.ResponseWriter, r *http.Request,
		p *principal) {
		in, err := s.Incidents.Get(r.Context(), p.WorkspaceID, r.PathValue("id"))
		s.answer(w, r, err, http.StatusOK, map[string]any{"incident": in})
	})
	s.api("PATCH /api/v1/incidents/{id}", perm, func(w http.ResponseWriter, r *http.Request,
		p *principal) {
		var req incident.Change
		if err := decode(w, r, &req, 4<<10); err != nil {
			s.fail(w, r, err)
			return
		}
		in, err := s.Incidents.Update(r.Context(), p.WorkspaceID, r.PathValue("id"), req)
		s.answer(w, r, err, http.StatusOK, map[string]any{"incident": in})
	})
	s.api("POST /api/v1/incidents/{id}/detect", perm, func(w http.ResponseWriter,
		r *http.Request, p *principal) {
		var req struct {
			AuditSeqs []int64 `json:"audit_seqs"`
			Note      string  `json:"note"`
		}
		if err := decode(w, r, &req, 8<<10); err != nil {
			s.fail(w, r, err)
			return
		}
		in, err := s.Incidents.AttachDetect(r.Context(), p.WorkspaceID, r.PathValue("id"),
			req.AuditSeqs, req.Note)
		s.answer(w, r, err, http.StatusOK, map[string]any{"incident": in})
	})
	s.api("POST /api/v1/incidents/{id}/contain", perm, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			var req incident.Containment
			if err := decode(w, r, &req, 32<<10); err != nil {
				s.fail(w, r, err)
				return
			}
			// The answer shows the new admin path, keys and webhook
			// secrets this once: it is never kept for a replay.
			showsSecret(w)
			out, err := s.contain(r, p, req)
			s.answer(w, r, err, http.StatusOK, out)
		}))
	s.api("POST /api/v1/incidents/{id}/isolate", perm, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			var req incident.Isolation
			if err := decode(w, r, &req, 32<<10); err != nil {
				s.fail(w, r, err)
				return
			}
			in, err := s.Incidents.Isolate(r.Context(), p.WorkspaceID, r.PathValue("id"),
				p.UserID, clientIP(r), req)
			s.answer(w, r, err, http.StatusOK, map[string]any{"incident": in})
		}))
	s.api("POST /api/v1/incidents/{id}/validate", perm, func(w http.ResponseWriter,
		r *http.Request, p *principal) {
		out, err := s.validate(r, p)
		s.answer(w, r, err, http.StatusOK, out)
	})
	s.api("POST /api/v1/incidents/{id}/restore", perm, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			var req struct {
				BaselineID string `json:"baseline_id"`
				Confirm    string `json:"confirm"`
			}
			if err := decode(w, r, &req, 4<<10); err != nil {
				s.fail(w, r, err)
				return
			}
			out, in, err := s.Incidents.Restore(r.Context(), p.WorkspaceID, r.PathValue("id"),
				baselineOrLatest(req.BaselineID), p.UserID, p.Email, req.Confirm)
			s.answer(w, r, err, http.StatusOK, map[string]any{"restored": out, "incident": in})
		}))
	s.api("POST /api/v1/incidents/{id}/document", perm, func(w http.ResponseWriter,
		r *http.Request, p *principal) {
		var req incident.Postmortem
		if err := decode(w, r, &req, 64<<10); err != nil {
			s.fail(w, r, err)
			return
		}
		in, err := s.Incidents.Document(r.Context(), p.WorkspaceID, r.PathValue("id"), req)
		s.answer(w, r, err, http.StatusOK, map[string]any{"incident": in})
	})
	s.api("GET /api/v1/incidents/{id}/postmortem", perm, s.postmortem)

	s.api("GET /api/v1/security/baselines", perm, func(w http.ResponseWriter, r *http.Request,
		p *principal) {
		list, err := s.Incidents.Baselines(r.Context(), p.WorkspaceID)
		s.answer(w, r, err, http.StatusOK, map[string]any{"baselines": list})
	})
	s.api("POST /api/v1/security/baselines", perm, func(w http.ResponseWriter,
		r *http.Request, p *principal) {
		var req struct {
			Name string `json:"name"`
		}
		if err := decode(w, r, &req, 4<<10); err != nil {
			s.fail(w, r, err)
			return
		}
		b, err := s.Incidents.SaveBaseline(r.Context(), p.WorkspaceID, req.Name, p.Email)
		s.answer(w, r, err, http.StatusCreated, map[string]any{"baseline": b})
	})
	s.api("GET /api/v1/security/baselines/{id}/diff", perm, func(w http.ResponseWriter,
		r *http.Request, p *principal) {
		b, diffs, err := s.Incidents.Compare(r.Context(), p.WorkspaceID, r.PathValue("id"))
		b.State = nil
		s.answer(w, r, err, http.StatusOK, map[string]any{"baseline": b,
			"confirm":     incident.Confirm(diffs),
			"differences": diffs})
	})
	s.api("POST /api/v1/security/baselines/{id}/restore", perm, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			var req struct {
				Confirm string `json:"confirm"`
			}
			if err := decode(w, r, &req, 4<<10); err != nil {
				s.fail(w, r, err)
				return
			}
			out, err := s.Incidents.RestoreBaseline(r.Context(), p.WorkspaceID,
				r.PathValue("id"), p.UserID, p.Email, req.Confirm)
			s.answer(w, r, err, http.StatusOK, map[string]any{"restored": out})
		}))
	s.api("GET /api/v1/security/lockdown", perm, func(w http.ResponseWriter, r *http.Request,
		p *principal) {
		l, err := s.Incidents.Lockdown(r.Context(), p.WorkspaceID)
		s.answer(w, r, err, http.StatusOK, map[string]any{"lockdown": l})
	})
	// Lifting isolation, or recording the release hash validation trusts,
	// asks for the password and code again, as isolating does.
	s.api("PUT /api/v1/security/lockdown", perm, s.fresh(func(w http.ResponseWriter,
		r *http.Request, p *principal) {
		var req incident.LockdownChange
		if err := decode(w, r, &req, 16<<10); err != nil {
			s.fail(w, r, err)
			return
		}
		l, err := s.Incidents.SetLockdown(r.Context(), p.WorkspaceID, clientIP(r), req)
		s.answer(w, r, err, http.StatusOK, map[string]any{"lockdown": l})
	}))

	s.api("GET /api/v1/checklists", perm, func(w http.ResponseWriter, r *http.Request,
		p *principal) {
		list, err := s.Checklists.List(r.Context(), p.WorkspaceID)
		s.answer(w, r, err, http.StatusOK, map[string]any{"checklists": list})
	})
	s.api("GET /api/v1/checklists/export", perm, s.exportChecklists)
	s.api("GET /api/v1/checklists/{month}", perm, func(w http.ResponseWriter,
		r *http.Request, p *principal) {
		c, err := s.Checklists.Get(r.Context(), p.WorkspaceID, r.PathValue("month"))
		s.answer(w, r, err, http.StatusOK, map[string]any{"checklist": c})
	})
	s.api("POST /api/v1/checklists/{month}/items/{item}/sign", perm,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			var req struct {
				Note string `json:"note"`
			}
			if err := decode(w, r, &req, 8<<10); err != nil {
				s.fail(w, r, err)
				return
			}
			c, err := s.Checklists.Sign(r.Context(), p.WorkspaceID, r.PathValue("month"),
				r.PathValue("item"), p.Email, req.Note)
			s.answer(w, r, err, http.StatusOK, map[string]any{"checklist": c})
		})
	s.incidentPages()
}

// answer writes v with status, or the error.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, err error, status int, v any) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, status, v)
}

func baselineOrLatest(id string) string {
	if id == "" {
		return "latest"
	}
	return id
}

// contain runs step 2 for the signed-in admin, whose own session stays.
func (s *Server) contain(r *http.Request, p *principal,
	req incident.Containment) (incident.Contained, error) {
	keep := ""
	if c, err := r.Cookie(s.cookieName()); err == nil {
		keep = c.Value
	}
	out, err := s.Incidents.Contain(r.Context(), p.WorkspaceID, r.PathValue("id"), p.UserID,
		keep, req)
	if err == nil && out.AdminPathRotated {
		s.log.Info("Admin path replaced in an incident", "workspace_id", p.WorkspaceID,
			"request_id", requestID(r.Context()))
	}
	return out, err
}

// validate runs step 4 against the checkpoints the server can read.
func (s *Server) validate(r *http.Request, p *principal) (incident.Integrity, error) {
	var cps audit.Checkpoints
	if s.Checkpoints != nil {
		var err error
		if cps, err = s.Checkpoints(); err != nil {
			return incident.Integrity{}, err
		}
	}
	return s.Incidents.Validate(r.Context(), p.WorkspaceID, r.PathValue("id"), cps)
}

// postmortem sends an incident's postmortem as a Markdown file.
func (s *Server) postmortem(w http.ResponseWriter, r *http.Request, p *principal) {
	md, err := s.Incidents.Postmortem(r.Context(), p.WorkspaceID, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="incident-`+
		safeName(r.PathValue("id"))+`.md"`)
	w.Write([]byte(md))
}

// exportChecklists sends every checklist of the workspace, with its
// evidence and sign-offs, as JSON or Markdown.
func (s *Server) exportChecklists(w http.ResponseWriter, r *http.Request, p *principal) {
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "md" {
		writeError(w, r, http.StatusBadRequest, "bad_request", "The format is json or md.")
		return
	}
	list, err := s.Checklists.History(r.Context(), p.WorkspaceID)
	if err == nil {
		err = s.Audit.Write(r.Context(), audit.Event{Workspace: p.WorkspaceID,
			Action: audit.ExportCreated, TargetType: "checklists",
			Reason: "checklist history as " + strings.ToUpper(firstNonEmpty(format, "json"))})
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if format == "md" {
		w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="checklists.md"`)
		w.Write([]byte(checklist.Markdown(list)))
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="checklists.json"`)
	writeJSON(w, http.StatusOK, map[string]any{"checklists": list})
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// safeName keeps the letters, digits, '-' and '_' of an id for a file name.
func safeName(id string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r == '-' || r == '_' {
			return r
		}
		return -1
	}, id)
}

// ipRefused answers a request from a range the workspace refuses in an
// incident, and reports whether it did.
func (s *Server) ipRefused(w http.ResponseWriter, r *http.Request, wsID string) bool {
	if s.Incidents == nil || !s.Incidents.IPDenied(r.Context(), wsID, clientIP(r)) {
		return false
	}
	s.Metrics.Denied("address_refused")
	writeError(w, r, http.StatusForbidden, "address_refused",
		"Requests from this address are refused while the workspace handles an incident.")
	return true
}

// detectAuditBroken opens an incident for an audit chain that did not
// verify.
func (s *Server) detectAuditBroken(ctx context.Context, wsID, problem string) {
	if s.AuditBroken != nil {
		s.AuditBroken(ctx, wsID, problem)
	}
}

// incidentPages are the admin console's Incidents and Checklist pages.
func (s *Server) incidentPages() {
	perm := access.IncidentsManage
	s.page("GET /settings/incidents", perm, s.incidentsPage)
	s.page("POST /settings/incidents", perm, func(w http.ResponseWriter, r *http.Request,
		p *principal) {
		r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
		sev, _ := strconv.Atoi(r.PostFormValue("severity"))
		in, err := s.Incidents.Open(r.Context(), p.WorkspaceID, incident.Opening{
			Title: r.PostFormValue("title"), Severity: incident.Severity(sev),
			Summary: r.PostFormValue("summary"), OwnerID: p.UserID,
			PersonalData: r.PostFormValue("personal_data") == "on",
			Drill:        r.PostFormValue("drill") == "on"})
		if err != nil {
			s.back(w, r, at(r, "/settings/incidents"), err)
			return
		}
		http.Redirect(w, r, at(r, "/settings/incidents/"+in.ID), http.StatusSeeOther)
	})
	s.page("GET /settings/incidents/{id}", perm, func(w http.ResponseWriter, r *http.Request,
		p *principal) {
		s.incidentPage(w, r, p, nil)
	})
	s.page("POST /settings/incidents/{id}/{step}", perm, s.fresh(s.incidentStepForm))
	s.page("GET /settings/incidents/{id}/postmortem", perm, s.postmortem)
	s.page("POST /settings/baselines", perm, func(w http.ResponseWriter, r *http.Request,
		p *principal) {
		r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
		_, err := s.Incidents.SaveBaseline(r.Context(), p.WorkspaceID, r.PostFormValue("name"),
			p.Email)
		s.back(w, r, at(r, "/settings/incidents"), err)
	})
	s.page("GET /settings/baselines/{id}", perm, func(w http.ResponseWriter, r *http.Request,
		p *principal) {
		b, diffs, err := s.Incidents.Compare(r.Context(), p.WorkspaceID, r.PathValue("id"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.render(w, r, "baseline.html", map[string]any{"Title": "Baseline " + b.Name,
			"Section": "incidents", "Me": me(p), "Baseline": b, "Differences": diffs,
			"Confirm": incident.Confirm(diffs)})
	})
	s.page("POST /settings/baselines/{id}/restore", perm, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
			_, err := s.Incidents.RestoreBaseline(r.Context(), p.WorkspaceID,
				r.PathValue("id"), p.UserID, p.Email, r.PostFormValue("confirm"))
			s.back(w, r, at(r, "/settings/baselines/"+r.PathValue("id")), err)
		}))
	s.page("POST /settings/lockdown", perm, s.fresh(func(w http.ResponseWriter,
		r *http.Request, p *principal) {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		paused, frozen := r.PostFormValue("ai_paused") == "on",
			r.PostFormValue("exports_frozen") == "on"
		ranges := strings.Fields(strings.ReplaceAll(r.PostFormValue("ip_deny"), ",", " "))
		sha, latest := r.PostFormValue("release_sha256"), r.PostFormValue("latest_release")
		_, err := s.Incidents.SetLockdown(r.Context(), p.WorkspaceID, clientIP(r),
			incident.LockdownChange{AIPaused: &paused, ExportsFrozen: &frozen,
				IPDeny: &ranges, ReleaseSHA256: &sha, LatestRelease: &latest})
		s.back(w, r, at(r, "/settings/incidents"), err)
	}))
	s.page("GET /settings/checklist", perm, s.checklistPage)
	s.page("POST /settings/checklist/{month}/{item}", perm, func(w http.ResponseWriter,
		r *http.Request, p *principal) {
		r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
		_, err := s.Checklists.Sign(r.Context(), p.WorkspaceID, r.PathValue("month"),
			r.PathValue("item"), p.Email, r.PostFormValue("note"))
		s.back(w, r, at(r, "/settings/checklist?month="+r.PathValue("month")), err)
	})
	s.page("GET /settings/checklist/export", perm, s.exportChecklists)
}

func (s *Server) incidentsPage(w http.ResponseWriter, r *http.Request, p *principal) {
	ctx := r.Context()
	list, err := s.Incidents.List(ctx, p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	baselines, err := s.Incidents.Baselines(ctx, p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	l, err := s.Incidents.Lockdown(ctx, p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ranges := make([]string, len(l.IPDeny))
	for i, p := range l.IPDeny {
		ranges[i] = p.String()
	}
	s.render(w, r, "incidents.html", map[string]any{"Title": "Incidents",
		"Section": "incidents", "Me": me(p), "Incidents": list, "Baselines": baselines,
		"Lockdown": l, "Ranges": strings.Join(ranges, " ")})
}

// incidentPage shows an incident, its clocks, the playbook and the timeline;
// result is what the step just run found or made, shown this once.
func (s *Server) incidentPage(w http.ResponseWriter, r *http.Request, p *principal,
	result any) {
	in, err := s.Incidents.Get(r.Context(), p.WorkspaceID, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := map[string]any{"Title": "Incident: " + in.Title, "Section": "incidents",
		"Me": me(p), "Incident": in, "Steps": incident.Steps, "Now": s.Now().UTC()}
	switch v := result.(type) {
	case incident.Contained:
		data["Contained"] = v
	case incident.Integrity:
		data["Integrity"] = v
	case incident.Restored:
		data["Restored"] = v
	}
	if in.NextStep == incident.StepRestore {
		if b, diffs, err := s.Incidents.Compare(r.Context(), p.WorkspaceID,
			"latest"); err == nil {
			data["Baseline"], data["Differences"] = b, diffs
			data["Confirm"] = incident.Confirm(diffs)
		}
	}
	s.render(w, r, "incident.html", data)
}

// incidentStepForm runs a step of the playbook from the console and shows
// the incident again with what it did.
func (s *Server) incidentStepForm(w http.ResponseWriter, r *http.Request, p *principal) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	ctx, wsID, id := r.Context(), p.WorkspaceID, r.PathValue("id")
	back := at(r, "/settings/incidents/"+id)
	var result any
	var err error
	switch r.PathValue("step") {
	case incident.StepDetect:
		var seqs []int64
		for _, f := range strings.Fields(strings.ReplaceAll(r.PostFormValue("audit_seqs"),
			",", " ")) {
			n, perr := strconv.ParseInt(f, 10, 64)
			if perr != nil {
				s.back(w, r, back, formError("audit entries are numbers"))
				return
			}
			seqs = append(seqs, n)
		}
		_, err = s.Incidents.AttachDetect(ctx, wsID, id, seqs, r.PostFormValue("note"))
	case incident.StepContain:
		req := incident.Containment{UserIDs: strings.Fields(r.PostFormValue("user_ids")),
			KeepAPIKeys:        r.PostFormValue("keep_api_keys") == "on",
			KeepWebhookSecrets: r.PostFormValue("keep_webhook_secrets") == "on",
			KeepAdminPath:      r.PostFormValue("keep_admin_path") == "on"}
		result, err = s.contain(r, p, req)
	case incident.StepIsolate:
		_, err = s.Incidents.Isolate(ctx, wsID, id, p.UserID, clientIP(r), incident.Isolation{
			UserIDs:  strings.Fields(r.PostFormValue("user_ids")),
			KeyIDs:   strings.Fields(r.PostFormValue("key_ids")),
			InboxIDs: strings.Fields(r.PostFormValue("inbox_ids")),
			IPRanges: strings.Fields(strings.ReplaceAll(r.PostFormValue("ip_ranges"), ",",
				" ")),
			PauseAI:       r.PostFormValue("pause_ai") == "on",
			FreezeExports: r.PostFormValue("freeze_exports") == "on"})
	case incident.StepValidate:
		result, err = s.validate(r, p)
	case incident.StepRestore:
		var out incident.Restored
		out, _, err = s.Incidents.Restore(ctx, wsID, id,
			baselineOrLatest(r.PostFormValue("baseline_id")), p.UserID, p.Email,
			r.PostFormValue("confirm"))
		result = out
	case incident.StepDocument:
		_, err = s.Incidents.Document(ctx, wsID, id, incident.Postmortem{
			RootCause: r.PostFormValue("root_cause"), Impact: r.PostFormValue("impact"),
			Preventive: r.PostFormValue("preventive"),
			FollowUps:  strings.Split(r.PostFormValue("follow_ups"), "\n")})
	default:
		writeError(w, r, http.StatusNotFound, "not_found", "Not found.")
		return
	}
	if err != nil {
		s.back(w, r, back, err)
		return
	}
	if result == nil {
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	if c, ok := result.(incident.Contained); ok && c.AdminPathRotated {
		// The page it is on moved with the admin path: the new one is shown.
		root, _ := rootOf(r)
		root.Path = "/" + c.AdminPath
		r = r.WithContext(context.WithValue(ctx, adminRootKey{}, root))
	}
	s.incidentPage(w, r, p, result)
}

func (s *Server) checklistPage(w http.ResponseWriter, r *http.Request, p *principal) {
	list, err := s.Checklists.List(r.Context(), p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := map[string]any{"Title": "Security checklist", "Section": "checklist",
		"Me": me(p), "Checklists": list, "Now": s.Now().UTC()}
	month := r.URL.Query().Get("month")
	if month == "" && len(list) > 0 {
		month = list[0].Month
	}
	if month != "" {
		c, err := s.Checklists.Get(r.Context(), p.WorkspaceID, month)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.fail(w, r, err)
			return
		}
		if err == nil {
			data["Checklist"] = c
			evidence := map[string]string{}
			for _, it := range c.Items {
				var pretty any
				if json.Unmarshal(it.Evidence, &pretty) == nil {
					b, _ := json.MarshalIndent(pretty, "", "  ")
					evidence[it.Key] = string(b)
				}
			}
			data["Evidence"] = evidence
		}
	}
	s.render(w, r, "checklist.html", data)
}
