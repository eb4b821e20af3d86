package web

import (
	"net/http"

	"github.com/thunaivi/thunaivi/internal/access"
)

// metricsRoutes serves the monitoring counters to admins. A Prometheus that
// scrapes without signing in uses the separate loopback listener instead.
func (s *Server) metricsRoutes() {
	s.api("GET /metrics", access.AuditRead,
		func(w http.ResponseWriter, r *http.Request, _ *principal) {
			s.Metrics.Handler().ServeHTTP(w, r)
		})
}
