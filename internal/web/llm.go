package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/llm"
)

// llmRoutes serve the workspace's optional LLM provider: only admins choose
// where customers' messages go, and a change asks for their password and
// code again. The key is written, never read back.
func (s *Server) llmRoutes() {
	s.api("GET /api/v1/ai/llm", access.LLMManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			st, err := s.LLM.Settings(r.Context(), p.WorkspaceID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"llm": st})
		})
	s.api("PUT /api/v1/ai/llm", access.LLMManage, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			var c llm.Change
			if err := decode(w, r, &c, 8<<10); err != nil {
				s.fail(w, r, err)
				return
			}
			st, err := s.LLM.Set(r.Context(), p.WorkspaceID, c)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"llm": st})
		}))
	s.page("POST /settings/ai/llm", access.LLMManage, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
			budget, err := strconv.ParseInt(strings.TrimSpace(r.PostFormValue("budget")),
				10, 64)
			if err != nil {
				s.back(w, r, at(r, "/settings/ai"), formError("the monthly token budget "+
					"is a number of tokens"))
				return
			}
			_, err = s.LLM.Set(r.Context(), p.WorkspaceID, llm.Change{
				Enabled: r.PostFormValue("enabled") == "on", BaseURL: r.PostFormValue("base_url"),
				Model: r.PostFormValue("model"), APIKey: r.PostFormValue("api_key"),
				Tone: r.PostFormValue("tone"), MonthlyBudget: budget})
			s.back(w, r, at(r, "/settings/ai"), err)
		}))
}
