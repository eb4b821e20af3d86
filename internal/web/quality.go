package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/quality"
	"github.com/thunaivi/thunaivi/internal/support"
)

// defaultKPIWeeks is how many weeks the KPIs show unless asked otherwise.
const defaultKPIWeeks = 12

// outcomeRequest is a customer's message, or an AI reply, with its right
// outcome and a note, as the API and the console's forms send it.
type outcomeRequest struct {
	MessageID string `json:"message_id"`
	Note      string `json:"note"`
	support.Outcome
}

func outcomeForm(r *http.Request) outcomeRequest {
	return outcomeRequest{MessageID: r.PostFormValue("message_id"),
		Note: r.PostFormValue("note"), Outcome: support.Outcome{
			Expect: r.PostFormValue("expect"), EntryID: r.PostFormValue("kb"),
			Category: r.PostFormValue("category")}}
}

// qualityRoutes serve golden sets, their runs, flags on AI replies and the
// KPIs, as JSON and as console pages.
func (s *Server) qualityRoutes() {
	s.api("GET /api/v1/ai/golden", access.QualityManage, s.apiGoldenCases)
	s.api("POST /api/v1/ai/golden/import", access.QualityManage, s.apiGoldenImport)
	s.api("DELETE /api/v1/ai/golden/{id}", access.QualityManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			if err := s.Quality.Delete(r.Context(), p.WorkspaceID, r.PathValue("id")); err != nil {
				s.fail(w, r, err)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		})
	s.api("POST /api/v1/conversations/{id}/golden", access.QualityContribute,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			var req outcomeRequest
			if err := decode(w, r, &req, maxJSONBody); err != nil {
				s.fail(w, r, err)
				return
			}
			c, err := s.Quality.FromConversation(r.Context(), p.Viewer, r.PathValue("id"),
				req.MessageID, req.Outcome, req.Note)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusCreated, c)
		})
	s.api("POST /api/v1/conversations/{id}/messages/{message}/flag", access.QualityContribute,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			var req outcomeRequest
			if err := decode(w, r, &req, maxJSONBody); err != nil {
				s.fail(w, r, err)
				return
			}
			fl, err := s.Feedback.FlagReply(r.Context(), p.Viewer, r.PathValue("id"),
				r.PathValue("message"), req.Note, req.Outcome)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusCreated, fl)
		})
	s.api("GET /api/v1/ai/flags", access.QualityManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			flags, err := s.Feedback.Flags(r.Context(), p.WorkspaceID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"flags": flags})
		})
	s.api("POST /api/v1/ai/flags/{id}/golden", access.QualityManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			c, err := s.Quality.FromFlag(r.Context(), p.WorkspaceID, p.UserID, r.PathValue("id"))
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusCreated, c)
		})
	s.api("GET /api/v1/ai/runs", access.QualityManage, s.apiRuns)
	s.api("POST /api/v1/ai/runs", access.QualityManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			run, err := s.Quality.Run(r.Context(), p.WorkspaceID, quality.TriggerManual)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusCreated, run)
		})
	s.api("GET /api/v1/ai/quality/thresholds", access.QualityManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			th, err := s.Quality.Thresholds(r.Context(), p.WorkspaceID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, th)
		})
	s.api("PUT /api/v1/ai/quality/thresholds", access.QualityManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			var th quality.Thresholds
			if err := decode(w, r, &th, 4<<10); err != nil {
				s.fail(w, r, err)
				return
			}
			if err := s.Quality.SetThresholds(r.Context(), p.WorkspaceID, th); err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, th)
		})
	s.api("GET /api/v1/ai/kpis", access.QualityManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			weeks, err := s.kpis(r, p)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"weeks": weeks})
		})

	s.page("GET /quality", access.QualityManage, s.qualityPage)
	s.page("POST /quality/import", access.QualityManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			r.Body = http.MaxBytesReader(w, r.Body, maxGoldenImport)
			_, err := s.Quality.Import(r.Context(), p.WorkspaceID, p.UserID,
				r.PostFormValue("jsonl"))
			s.back(w, r, "/quality", err)
		})
	s.page("POST /quality/run", access.QualityManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			_, err := s.Quality.Run(r.Context(), p.WorkspaceID, quality.TriggerManual)
			s.back(w, r, "/quality", err)
		})
	s.page("POST /quality/thresholds", access.QualityManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
			rr, err1 := strconv.ParseFloat(r.PostFormValue("restricted_recall"), 64)
			ap, err2 := strconv.ParseFloat(r.PostFormValue("answer_precision"), 64)
			if err1 != nil || err2 != nil {
				s.back(w, r, "/quality", formError("thresholds are numbers from 0 to 1"))
				return
			}
			s.back(w, r, "/quality", s.Quality.SetThresholds(r.Context(), p.WorkspaceID,
				quality.Thresholds{RestrictedRecall: rr, AnswerPrecision: ap}))
		})
	s.page("POST /quality/golden/{id}/delete", access.QualityManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			s.back(w, r, "/quality", s.Quality.Delete(r.Context(), p.WorkspaceID,
				r.PathValue("id")))
		})
	s.page("POST /quality/flags/{id}/golden", access.QualityManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			_, err := s.Quality.FromFlag(r.Context(), p.WorkspaceID, p.UserID, r.PathValue("id"))
			s.back(w, r, "/quality", err)
		})
	s.page("POST /conversations/{id}/golden", access.QualityContribute,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
			req, id := outcomeForm(r), r.PathValue("id")
			_, err := s.Quality.FromConversation(r.Context(), p.Viewer, id, req.MessageID,
				req.Outcome, req.Note)
			s.backToConversation(w, r, id, err)
		})
	s.page("POST /conversations/{id}/messages/{message}/flag", access.QualityContribute,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
			req, id := outcomeForm(r), r.PathValue("id")
			_, err := s.Feedback.FlagReply(r.Context(), p.Viewer, id, r.PathValue("message"),
				req.Note, req.Outcome)
			s.backToConversation(w, r, id, err)
		})
	s.page("GET /kpis", access.QualityManage, s.kpiPage)
}

// maxGoldenImport bounds an imported golden set's file.
const maxGoldenImport = 4 << 20

// backToConversation returns to a conversation's page after a form, or
// answers 404 for one the member may not see.
func (s *Server) backToConversation(w http.ResponseWriter, r *http.Request, id string,
	err error) {
	if status, _ := classify(err); err != nil && status == http.StatusNotFound {
		s.fail(w, r, err)
		return
	}
	s.back(w, r, "/conversations/"+url.PathEscape(id), err)
}

func (s *Server) apiGoldenCases(w http.ResponseWriter, r *http.Request, p *principal) {
	cases, err := s.Quality.Cases(r.Context(), p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"cases": cases})
}

func (s *Server) apiGoldenImport(w http.ResponseWriter, r *http.Request, p *principal) {
	var req struct {
		JSONL string `json:"jsonl"`
	}
	if err := decode(w, r, &req, maxGoldenImport); err != nil {
		s.fail(w, r, err)
		return
	}
	n, err := s.Quality.Import(r.Context(), p.WorkspaceID, p.UserID, req.JSONL)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]int{"imported": n})
}

func (s *Server) apiRuns(w http.ResponseWriter, r *http.Request, p *principal) {
	runs, err := s.Quality.Runs(r.Context(), p.WorkspaceID, quality.MaxRuns)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	th, err := s.Quality.Thresholds(r.Context(), p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"runs": runs, "thresholds": th})
}

// kpis reads the weeks asked for, defaultKPIWeeks unless ?weeks= says.
func (s *Server) kpis(r *http.Request, p *principal) ([]support.KPIWeek, error) {
	weeks := defaultKPIWeeks
	if v := r.URL.Query().Get("weeks"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, formError("weeks is a whole number")
		}
		weeks = n
	}
	return s.Feedback.KPIs(r.Context(), p.WorkspaceID, weeks)
}

// qualityRunsShown is how many runs the quality page draws.
const qualityRunsShown = 52

func (s *Server) qualityPage(w http.ResponseWriter, r *http.Request, p *principal) {
	ctx := r.Context()
	cases, err := s.Quality.Cases(ctx, p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	runs, err := s.Quality.Runs(ctx, p.WorkspaceID, qualityRunsShown)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	th, err := s.Quality.Thresholds(ctx, p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	flags, err := s.Feedback.Flags(ctx, p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	trend := chart{Title: "Golden-set runs over time", Max: 1, Format: percent,
		Series: []chartSeries{{Name: "restricted recall"}, {Name: "answer precision"},
			{Name: "deflection"}}}
	for i := len(runs) - 1; i >= 0; i-- { // oldest first
		run := runs[i]
		trend.Labels = append(trend.Labels, run.StartedAt.Format("Jan 2"))
		for n, v := range []float64{run.RestrictedRecall, run.AnswerPrecision, run.Deflection} {
			trend.Series[n].Values = append(trend.Series[n].Values, v)
			trend.Series[n].Has = append(trend.Series[n].Has, true)
		}
	}
	var svg template.HTML
	if len(runs) > 0 {
		svg = trend.SVG()
	}
	s.render(w, r, "quality.html", map[string]any{"Title": "AI quality", "Section": "quality",
		"Me": me(p), "Cases": cases, "Runs": runs, "Thresholds": th, "Flags": flags,
		"Trend": svg})
}

func (s *Server) kpiPage(w http.ResponseWriter, r *http.Request, p *principal) {
	weeks, err := s.kpis(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	labels := make([]string, len(weeks))
	for i, wk := range weeks {
		labels[i] = wk.Start.Format("Jan 2")
	}
	series := func(name string, value func(support.KPIWeek) (float64, bool)) chartSeries {
		cs := chartSeries{Name: name}
		for _, wk := range weeks {
			v, ok := value(wk)
			cs.Values, cs.Has = append(cs.Values, v), append(cs.Has, ok)
		}
		return cs
	}
	charts := []chart{
		{Title: "AI deflection and escalation rate", Labels: labels, Max: 1, Format: percent,
			Series: []chartSeries{
				series("deflection", func(k support.KPIWeek) (float64, bool) {
					return k.DeflectionRate, k.Conversations > 0
				}),
				series("escalation", func(k support.KPIWeek) (float64, bool) {
					return k.EscalationRate, k.Conversations > 0
				})}},
		{Title: "Wrong-answer rate (flagged AI replies)", Labels: labels, Format: percent,
			Series: []chartSeries{series("wrong answers", func(k support.KPIWeek) (float64,
				bool) {
				return k.WrongAnswerRate, k.AIReplies > 0
			})}},
		{Title: "First response time", Labels: labels, Format: seconds,
			Series: []chartSeries{
				series("median", func(k support.KPIWeek) (float64, bool) {
					return k.FirstResponseMedianSecs, k.Responded > 0
				}),
				series("90th percentile", func(k support.KPIWeek) (float64, bool) {
					return k.FirstResponseP90Secs, k.Responded > 0
				})}},
		{Title: "CSAT, 1 to 5", Labels: labels, Max: 5, Format: score,
			Series: []chartSeries{
				series("AI only", func(k support.KPIWeek) (float64, bool) {
					return k.CSATAIOnly, k.RatedAIOnly > 0
				}),
				series("escalated", func(k support.KPIWeek) (float64, bool) {
					return k.CSATEscalated, k.RatedEscalated > 0
				})}},
	}
	svgs := make([]template.HTML, len(charts))
	for i, c := range charts {
		svgs[i] = c.SVG()
	}
	rows := make([]support.KPIWeek, len(weeks)) // newest first in the table
	for i, wk := range weeks {
		rows[len(weeks)-1-i] = wk
	}
	s.render(w, r, "kpis.html", map[string]any{"Title": "KPIs", "Section": "kpis",
		"Me": me(p), "Charts": svgs, "Weeks": rows, "Count": len(weeks)})
}

// flaggedReplies tells the conversation page which AI replies are flagged.
func (s *Server) flaggedReplies(r *http.Request, p *principal, id string) map[string]bool {
	if s.Feedback == nil || !access.Allowed(p.Role, access.QualityContribute) {
		return nil
	}
	flagged, err := s.Feedback.FlaggedReplies(r.Context(), p.Viewer, id)
	if err != nil {
		s.log.Error("Loading flagged replies failed", "error", err,
			"request_id", requestID(r.Context()))
	}
	return flagged
}

// widgetRatingRoutes let the customer rate their resolved conversation.
func (s *Server) widgetRatingRoutes() {
	s.public("GET /widget/v1/conversations/{id}/rating", s.visitor(
		func(w http.ResponseWriter, r *http.Request, c support.Conversation) {
			st, err := s.Feedback.RatingOf(r.Context(), c)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, st)
		}))
	s.public("POST /widget/v1/conversations/{id}/rating", s.visitor(
		func(w http.ResponseWriter, r *http.Request, c support.Conversation) {
			var req struct {
				Score   int    `json:"score"`
				Comment string `json:"comment"`
			}
			if err := decode(w, r, &req, 8<<10); err != nil {
				s.fail(w, r, err)
				return
			}
			req.Comment = strings.TrimSpace(s.withoutKeys(r, req.Comment,
				"pasted in a rating by a customer"))
			rating, err := s.Feedback.Rate(r.Context(), c, req.Score, req.Comment)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusCreated, rating)
		}))
}
