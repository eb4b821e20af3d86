// Package web is Thunaivi's HTTP layer: the JSON API under /api/v1, the
// agents' console, and the public website-chat widget. Handlers decode, call a
// domain service, and encode; the rules live in the domain packages.
package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/apikey"
	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/checklist"
	"github.com/thunaivi/thunaivi/internal/compliance"
	"github.com/thunaivi/thunaivi/internal/datarequest"
	"github.com/thunaivi/thunaivi/internal/idempotency"
	"github.com/thunaivi/thunaivi/internal/identity"
	"github.com/thunaivi/thunaivi/internal/incident"
	"github.com/thunaivi/thunaivi/internal/kb"
	"github.com/thunaivi/thunaivi/internal/llm"
	"github.com/thunaivi/thunaivi/internal/mail"
	"github.com/thunaivi/thunaivi/internal/meta"
	"github.com/thunaivi/thunaivi/internal/metrics"
	"github.com/thunaivi/thunaivi/internal/origin"
	"github.com/thunaivi/thunaivi/internal/quality"
	"github.com/thunaivi/thunaivi/internal/retention"
	"github.com/thunaivi/thunaivi/internal/support"
	"github.com/thunaivi/thunaivi/internal/webhook"
	"github.com/thunaivi/thunaivi/internal/workspace"
)

// Deps are the services the HTTP layer calls.
type Deps struct {
	Identity   *identity.Service
	Workspaces *workspace.Service
	KB         *kb.Service
	Support    *support.Service
	Hub        *support.Hub
	Log        *slog.Logger
	Now        func() time.Time
	// PublicURL is where browsers reach the product, without a trailing slash.
	PublicURL string
	// Limits are the widget's rate limits; nil turns them off.
	Limits *Limits
	// Ready reports whether the server can serve: its database answers.
	Ready func(context.Context) error
	// SecureCookies marks session cookies Secure; on for anything but a
	// plain-HTTP loopback trial.
	SecureCookies bool
	// Metrics counts what operators monitor; nil counts nothing.
	Metrics *metrics.Registry
	// Audit is the audit log: the console and API review, export and verify
	// it, and the HTTP layer records refusals in it.
	Audit *audit.Log
	// Checkpoints reads the audit log's signed checkpoints, for verifying
	// from the console; nil when they go somewhere the server cannot read.
	Checkpoints func() (audit.Checkpoints, error)
	// IdleAdmin and IdleMember are how long an admin's and anyone else's
	// session may go unused before it ends; 0 is no limit.
	IdleAdmin, IdleMember time.Duration
	// Rules are the suspicious-activity rules that are on.
	Rules Rules
	// Mail sends the product's mail: links that verify addresses.
	Mail mail.Sender
	// Keys are the workspaces' API keys, which servers call the API with.
	Keys *apikey.Service
	// Idempotency keeps the answers to POSTs sent with an Idempotency-Key.
	Idempotency *idempotency.Service
	// Webhooks are the endpoints workspaces' events are posted to.
	Webhooks *webhook.Service
	// Retention keeps the workspaces' retention periods and legal holds.
	Retention *retention.Service
	// DataRequests are customers' requests for their data or its deletion.
	DataRequests *datarequest.Service
	// Meta keeps the workspaces' Meta app secrets, which sign Meta's
	// data-deletion callbacks.
	Meta *meta.Apps
	// BadSignature, when set, is told of each callback to a workspace with
	// a Meta app secret whose signature did not verify.
	BadSignature func(ctx context.Context, wsID string)
	// AuditRetentionDays is how long the server keeps audit entries, for
	// every workspace.
	AuditRetentionDays int
	// Quality keeps golden sets and their runs.
	Quality *quality.Service
	// Feedback keeps flags on AI replies, customers' ratings and the KPIs.
	Feedback *support.Feedback
	// TrustedProxies are the reverse proxies whose X-Forwarded-For, -Proto
	// and -Host headers are believed; from any other peer they are ignored.
	TrustedProxies []netip.Prefix
	// LLM keeps workspaces' optional LLM providers.
	LLM *llm.Service
	// Trust keeps escalation contacts, compliance documents and the
	// acceptance of the hosted service's terms.
	Trust *compliance.Service
	// SecurityTxtWorkspace names the workspace whose security contact the
	// host's /.well-known/security.txt publishes; empty for the server's
	// only workspace.
	SecurityTxtWorkspace string
	// Transport says how traffic reaches the product as configured, and
	// MailRelay names the SMTP relay mail goes through (empty for none), for
	// the trust page and documents.
	Transport, MailRelay string
	// Incidents keeps security incidents, baselines and the workspaces'
	// isolation settings; Checklists the monthly security checklists.
	Incidents  *incident.Service
	Checklists *checklist.Service
	// AuditBroken, when set, is told of an audit chain that did not verify,
	// to open an incident.
	AuditBroken func(ctx context.Context, wsID, problem string)
}

// Limits are requests per minute on the public widget endpoints.
type Limits struct {
	PerIP     int
	PerWidget int
}

// Server routes requests.
type Server struct {
	Deps
	log *slog.Logger
	mux *http.ServeMux
	// admin serves what lives under a workspace's secret admin path.
	admin    *http.ServeMux
	ipLimit  *limiter
	tokLimit *limiter
	login    *limiter
	keyLimit *limiter
	// uploads limits the files each address sends through the widget.
	uploads  *limiter
	leaks    *limiter
	accounts *backoff
	streams  streamCounter
	probes   *quietLog
	probers  *proberLog
	refusals *quietLog
	table    []Route
	closing  chan struct{}
	once     sync.Once
	// after counts the work answers left (later), for Drain; queue holds
	// it, and workers a place for each goroutine running it.
	after   sync.WaitGroup
	queue   chan func()
	workers chan struct{}
}

// New builds the server and registers every route. It panics when a route
// has no access policy: that is a programming error caught at start.
func New(d Deps) *Server {
	s := &Server{Deps: d, log: logger(d.Log), mux: http.NewServeMux(),
		admin:  http.NewServeMux(),
		probes: newQuietLog(d.Now, probeQuiet), refusals: newQuietLog(d.Now, deniedQuiet),
		probers: newProberLog(d.Now),
		closing: make(chan struct{}), queue: make(chan func(), laterQueue),
		workers: make(chan struct{}, laterWorkers)}
	if d.Limits != nil {
		s.ipLimit = newLimiter(d.Limits.PerIP, d.Now)
		s.tokLimit = newLimiter(d.Limits.PerWidget, d.Now)
		s.uploads = newLimiter(widgetUploadsPerMinute, d.Now)
	}
	s.login = newLimiter(loginAttemptsPerMinute, d.Now)
	s.keyLimit = newLimiter(0, d.Now)
	s.leaks = newLimiter(leakReportLimit, d.Now)
	s.accounts = newBackoff(d.Now)
	s.routes()
	return s
}

// CloseStreams ends every live event stream, for shutdown.
func (s *Server) CloseStreams() { s.once.Do(func() { close(s.closing) }) }

// laterFor bounds one piece of work done after an answer, such as sending a
// mail. At most laterWorkers run at once and laterQueue wait: a flood of
// forms then waits on a slow mail relay in a queue of bounded size, not in
// goroutines without end; past the queue, work is dropped and logged, and
// the answer still comes at once, so that its time never tells the cases
// apart.
const (
	laterFor     = time.Minute
	laterWorkers = 8
	laterQueue   = 1024
)

// later runs fn once r is answered, for work whose time must not show in the
// answer: a public form that answers alike whether or not the address is a
// customer's would otherwise answer later when it is, by the time a mail
// takes. fn's context keeps the request's id and actor, not its deadline.
func (s *Server) later(r *http.Request, fn func(ctx context.Context)) {
	ctx := context.WithoutCancel(r.Context())
	job := func() {
		ctx, cancel := context.WithTimeout(ctx, laterFor)
		defer cancel()
		fn(ctx)
	}
	s.after.Add(1)
	select {
	case s.queue <- job:
	default:
		s.after.Done()
		s.log.Warn("Work after an answer was dropped: too much is waiting, such as "+
			"mail for a slow relay", "request_id", requestID(ctx))
		return
	}
	select {
	case s.workers <- struct{}{}:
		go s.work()
	default: // every worker is busy, and one takes it next
	}
}

// work runs queued work until none is left, then gives up its place. A job
// queued just as it gave up its place, when no other worker may have seen
// it, is taken again.
func (s *Server) work() {
	for {
		for done := false; !done; {
			select {
			case job := <-s.queue:
				job()
				s.after.Done()
			default:
				done = true
			}
		}
		<-s.workers
		if len(s.queue) == 0 {
			return
		}
		select {
		case s.workers <- struct{}{}:
		default:
			return // another worker has it
		}
	}
}

// Drain waits for the work answers left, for shutdown: after the listeners
// have stopped, before the store closes.
func (s *Server) Drain() { s.after.Wait() }

// ServeHTTP runs the middleware every request passes through.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := newRequestID()
	r = s.forwarded(r)
	r = r.WithContext(origin.WithRequest(r.Context(), origin.Request{ID: id,
		IP: remoteIP(r), UserAgent: r.UserAgent()}))
	h := w.Header()
	h.Set("X-Request-Id", id)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	// Nothing may sit in a cache but the product's own scripts and styles,
	// which set their own: every other answer is one member's or one
	// visitor's, a sign-in or a redirect.
	h.Set("Cache-Control", "no-store")
	if overHTTPS(r) {
		h.Set("Strict-Transport-Security", hstsHeader)
	}
	start := s.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("Handler panicked", "request_id", id, "path", loggedPath(r.URL.Path),
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if !rec.wrote {
				writeError(rec, r, http.StatusInternalServerError, "internal",
					"Something went wrong on our side.")
			}
		}
		s.Metrics.HTTP(rec.status)
		if s.log.Enabled(r.Context(), slog.LevelDebug) { // spare every request the path's scrub
			s.log.Debug("Request", "request_id", id, "method", r.Method,
				"path", loggedPath(r.URL.Path),
				"status", rec.status, "duration_ms", s.Now().Sub(start).Milliseconds())
		}
	}()
	// No id, name or page of ours holds a NUL or a byte that is not UTF-8;
	// a path with one names nothing, and reaches no handler or database.
	if !utf8.ValidString(r.URL.Path) || strings.ContainsRune(r.URL.Path, 0) {
		writeError(rec, r, http.StatusNotFound, "not_found", "Not found.")
		return
	}
	// A blocked prober learns nothing more: every path is unknown to it.
	if s.Rules.BlockProbers && s.probers.isBlocked(clientIP(r)) {
		writeError(rec, r, http.StatusNotFound, "not_found", "Not found.")
		return
	}
	if probing(r.URL.Path) {
		s.probe(r, "a scanner's path")
		writeError(rec, r, http.StatusNotFound, "not_found", "Not found.")
		return
	}
	if s.Keys != nil && s.keyInURL(r) {
		writeError(rec, r, http.StatusBadRequest, "api_key_in_url",
			"API keys are never accepted in a URL, where logs and browser histories keep "+
				"them. Any key it held is now revoked: make a new one, and send it as "+
				"Authorization: Bearer.")
		return
	}
	if s.serveAdmin(rec, r) {
		return
	}
	s.mux.ServeHTTP(rec, r)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection, for streaming.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func requestID(ctx context.Context) string { return origin.RequestFrom(ctx).ID }

// memberHandler serves a signed-in member.
type memberHandler func(w http.ResponseWriter, r *http.Request, p *principal)

// page registers a console page: a visitor who is not signed in is sent to
// the sign-in page. api registers a JSON route: they get a 401. Both check
// the permission before the handler runs, and both protect against cross-site
// request forgery. public registers a route anyone may call.
func (s *Server) page(pattern string, perm access.Permission, h memberHandler) {
	s.register(pattern, perm, h, true)
}

func (s *Server) api(pattern string, perm access.Permission, h memberHandler) {
	s.register(pattern, perm, h, false)
}

// Route is a registered route and the permission it needs; Public for
// routes anyone may call.
type Route struct {
	Pattern string
	Perm    access.Permission
	// Page is set for console pages, which send a visitor who is not signed
	// in to the sign-in page rather than answer 401.
	Page bool
	// Admin is set for the admin console and the admin sign-in, served only
	// under the workspace's secret admin path; their patterns start with
	// /{admin}. Every other console page is served there too, and is listed
	// once, without it.
	Admin bool
}

// Routes lists every route the server answers, for the authorization tests.
func (s *Server) Routes() []Route { return slices.Clone(s.table) }

func (s *Server) register(pattern string, perm access.Permission, h memberHandler, page bool) {
	if perm == "" || perm == access.Public {
		panic("web: route " + pattern + " has no access policy")
	}
	console := page && adminOnly(perm)
	if !page && strings.HasPrefix(pattern, "POST ") {
		h = s.idempotent(h)
	}
	listed := pattern
	if console {
		listed = underAdminPath(pattern)
	}
	s.table = append(s.table, Route{Pattern: listed, Perm: perm, Page: page, Admin: console})
	csrf := s.crossOriginProtection()
	session := csrf.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.principal(r)
		var revoked errSessionRevoked
		if errors.As(err, &revoked) {
			writeError(w, r, http.StatusUnauthorized, "session_revoked", revoked.Error())
			return
		}
		if err != nil {
			s.Metrics.Denied("unauthenticated")
			if page {
				http.Redirect(w, r, at(r, "/login"), http.StatusSeeOther)
				return
			}
			writeError(w, r, http.StatusUnauthorized, "unauthenticated", "Sign in first.")
			return
		}
		r = r.WithContext(origin.WithActor(r.Context(), origin.Actor{Type: origin.User,
			ID: p.UserID, Email: p.Email}))
		if s.ipRefused(w, r, p.WorkspaceID) {
			return
		}
		if !access.Allowed(p.Role, perm) {
			s.denied(r, p, perm)
			s.refuse(w, r, p, page, "forbidden", "Your role does not allow this.")
			return
		}
		// An admin off the office domains reaches nothing an admin may.
		if p.Role == access.Admin && !p.Security.OnOfficeDomain(p.Email) &&
			perm != access.OwnAccount {
			s.denied(r, p, perm)
			s.refuse(w, r, p, page, "office_domain_required",
				"Admins need an address on the workspace's office domains.")
			return
		}
		// An admin, or anyone where the workspace says so, without a
		// second factor may only set one up.
		if (p.Role == access.Admin || p.Security.Require2FA) && !p.TwoFactor &&
			perm != access.OwnAccount {
			if page {
				http.Redirect(w, r, at(r, "/settings/account"), http.StatusSeeOther)
				return
			}
			writeError(w, r, http.StatusForbidden, "second_factor_setup_required",
				"Admins must turn on two-factor authentication first: "+
					"POST /api/v1/account/2fa/setup.")
			return
		}
		if adminOnly(perm) && !s.adminGate(w, r, p, page) {
			return
		}
		h(w, r, p)
	}))
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if key, ok := bearerKey(r); ok && !page && s.Keys != nil {
			s.serveKey(w, r, key, perm, h)
			return
		}
		session.ServeHTTP(w, r)
	})
	// The admin console's pages live only under the admin path; every other
	// page is there too, so that an admin stays in it.
	if page {
		s.admin.Handle(pattern, handler)
	}
	if !console {
		s.mux.Handle(pattern, handler)
	}
}

// refuse answers a signed-in member's request their access does not allow:
// a JSON error, or in the console a page that says so.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, p *principal, page bool,
	code, msg string) {
	if !page {
		writeError(w, r, http.StatusForbidden, code, msg)
		return
	}
	s.renderStatus(w, r, http.StatusForbidden, "refused.html", map[string]any{
		"Title": "Not allowed", "Me": me(p), "Error": msg})
}

// crossOriginProtection refuses cross-site requests that change state, such
// as a form another site posts with the member's session cookie, with the
// usual JSON error, and records the attempt as a probe.
func (s *Server) crossOriginProtection() *http.CrossOriginProtection {
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Metrics.Denied("cross_origin")
		s.probe(r, "a cross-site request")
		writeError(w, r, http.StatusForbidden, "cross_origin",
			"Requests from other sites are refused.")
	}))
	return csrf
}

func (s *Server) public(pattern string, h http.HandlerFunc) {
	s.table = append(s.table, Route{Pattern: pattern, Perm: access.Public})
	s.mux.Handle(pattern, h)
}

func (s *Server) routes() {
	s.public("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if s.Ready != nil {
			if err := s.Ready(r.Context()); err != nil {
				s.log.Error("Health check failed", "error", err)
				writeError(w, r, http.StatusServiceUnavailable, "unavailable",
					"The database does not answer.")
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.public("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			http.Redirect(w, r, "/inbox", http.StatusSeeOther)
			return
		}
		writeError(w, r, http.StatusNotFound, "not_found", "Not found.")
	})
	s.authRoutes()
	s.apiRoutes()
	s.widgetRoutes()
	s.attachmentRoutes()
	s.consoleRoutes()
	s.settingsRoutes()
	s.memberRoutes()
	s.metricsRoutes()
	s.auditRoutes()
	s.inboxRoutes()
	s.sessionRoutes()
	s.accountRoutes()
	s.accountPages()
	s.stepUpRoutes()
	s.securityRoutes()
	s.adminPathRoutes()
	s.adminRoutes()
	s.credentialRoutes()
	s.inboundRoutes()
	if s.Webhooks != nil {
		s.webhookRoutes()
		s.webhookPages()
	}
	s.kbReviewRoutes()
	if s.Retention != nil {
		s.retentionRoutes()
	}
	if s.DataRequests != nil {
		s.dataRequestRoutes()
	}
	if s.DataRequests != nil && s.Meta != nil {
		s.metaRoutes()
	}
	if s.Quality != nil {
		s.qualityRoutes()
		s.widgetRatingRoutes()
	}
	if s.LLM != nil {
		s.llmRoutes()
	}
	if s.Trust != nil {
		s.trustRoutes()
		s.trustPages()
	}
	if s.Incidents != nil && s.Checklists != nil {
		s.incidentRoutes()
	}
	s.openAPIRoute()
	if s.Keys != nil {
		s.apiKeyRoutes()
		s.apiKeyPages()
	}
}
