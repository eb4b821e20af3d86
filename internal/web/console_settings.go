package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/guard"
	"github.com/thunaivi/thunaivi/internal/support"
)

// settingsRoutes serve the AI settings page: thresholds, the restricted
// categories' phrases and examples, and a box to try a message.
func (s *Server) settingsRoutes() {
	s.page("GET /settings/ai", access.KBRead, s.aiSettingsPage)
	s.page("POST /settings/ai/try", access.KBRead, s.aiTry)
	s.page("POST /settings/ai/thresholds", access.BrainSettings, s.formThresholds)
	s.page("POST /settings/ai/categories/{name}", access.BrainSettings, s.formCategory)
	s.page("POST /settings/ai/categories", access.BrainSettings, s.formCategory)
	s.page("POST /settings/ai/policy", access.BrainSettings, s.formPolicy)
}

func (s *Server) aiSettingsPage(w http.ResponseWriter, r *http.Request, p *principal) {
	s.renderSettings(w, r, p, nil, "")
}

func (s *Server) renderSettings(w http.ResponseWriter, r *http.Request, p *principal,
	tried *brain.Decision, text string) {
	policy, err := s.KB.Policy(r.Context(), p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var verdict *guard.Verdict
	if tried != nil && tried.Action == brain.ActionAnswer && tried.EntryID != "" {
		router, err := s.KB.Router(r.Context(), p.WorkspaceID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		entry, _ := router.Entry(tried.EntryID)
		v := guard.Check(entry.Answer, append([]string{entry.Title, entry.Answer},
			entry.Questions...), text, policy)
		verdict = &v
	}
	cats, err := s.KB.Categories(r.Context(), p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	th, err := s.KB.Thresholds(r.Context(), p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := map[string]any{"Title": "AI settings", "Section": "settings", "Me": me(p),
		"Categories": cats, "Thresholds": th, "Tried": tried, "TriedText": text,
		"Verdict": verdict, "Policy": policy, "DefaultClaims": guard.DefaultClaims,
		"DefaultMaxChars": guard.DefaultMaxChars,
		"CanEdit":         access.Allowed(p.Role, access.BrainSettings)}
	if s.LLM != nil {
		st, err := s.LLM.Settings(r.Context(), p.WorkspaceID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		// Only admins see where the provider is and its key's last
		// characters; they change it from the admin console, where the
		// form is served.
		_, inAdmin := rootOf(r)
		admin := access.Allowed(p.Role, access.LLMManage)
		data["LLMOn"], data["LLMAdmin"], data["LLMForm"] = st.Enabled, admin, admin && inAdmin
		if admin {
			data["LLM"] = st
		}
	}
	s.render(w, r, "settings.html", data)
}

func (s *Server) aiTry(w http.ResponseWriter, r *http.Request, p *principal) {
	r.Body = http.MaxBytesReader(w, r.Body, maxJSONBody)
	text, err := support.CheckText(r.PostFormValue("text"))
	if err != nil {
		s.back(w, r, "/settings/ai", err)
		return
	}
	router, err := s.KB.Router(r.Context(), p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := support.Screen(router.Route(text, brain.Signals{}), text)
	s.renderSettings(w, r, p, &d, text)
}

func (s *Server) formThresholds(w http.ResponseWriter, r *http.Request, p *principal) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	answer, err1 := strconv.ParseFloat(r.PostFormValue("answer"), 64)
	draft, err2 := strconv.ParseFloat(r.PostFormValue("draft"), 64)
	if err1 != nil || err2 != nil {
		s.back(w, r, "/settings/ai", formError("thresholds are numbers from 0 to 1"))
		return
	}
	err := s.KB.SetThresholds(r.Context(), p.WorkspaceID, brain.Thresholds{Answer: answer,
		Draft: draft})
	s.back(w, r, "/settings/ai", err)
}

func (s *Server) formCategory(w http.ResponseWriter, r *http.Request, p *principal) {
	r.Body = http.MaxBytesReader(w, r.Body, 256<<10)
	name := r.PathValue("name")
	if name == "" {
		name = strings.TrimSpace(r.PostFormValue("name")) // a new category
	}
	c := brain.Category{Name: name,
		Description: r.PostFormValue("description"),
		Phrases:     lines(r.PostFormValue("phrases")),
		Examples:    lines(r.PostFormValue("examples")),
		Reply:       r.PostFormValue("reply"),
		Languages:   splitList(r.PostFormValue("languages"))}
	s.back(w, r, "/settings/ai", s.KB.SaveCategory(r.Context(), p.WorkspaceID, c))
}

func (s *Server) formPolicy(w http.ResponseWriter, r *http.Request, p *principal) {
	r.Body = http.MaxBytesReader(w, r.Body, 32<<10)
	max, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("max_chars")))
	if err != nil {
		s.back(w, r, "/settings/ai", formError("the longest reply is a number of characters"))
		return
	}
	s.back(w, r, "/settings/ai", s.KB.SetPolicy(r.Context(), p.WorkspaceID, guard.Policy{
		Claims: lines(r.PostFormValue("claims")), MaxChars: max}))
}

// lines splits a textarea into its non-blank lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
