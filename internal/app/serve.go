package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"time"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/config"
	"github.com/thunaivi/thunaivi/internal/llm"
	"github.com/thunaivi/thunaivi/internal/mail"
	"github.com/thunaivi/thunaivi/internal/outbound"
	"github.com/thunaivi/thunaivi/internal/retention"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/web"
	"github.com/thunaivi/thunaivi/internal/webhook"
)

const (
	// shutdownGrace is how long open requests get to finish on shutdown.
	shutdownGrace = 10 * time.Second
	// checkpointEvery is how often the audit chain's head is signed while it
	// moves: entries newer than the last checkpoint could be cut by someone
	// who can write to the database, so the window is kept short.
	checkpointEvery = 15 * time.Second
	// webhookEvery is how often due webhook deliveries are sent.
	webhookEvery = 2 * time.Second
	// qualityEvery is how often the schedule of golden-set runs is checked.
	qualityEvery = time.Minute
	// pruneEvery is how often audit entries past retention are removed.
	pruneEvery = 24 * time.Hour
	// GCPercent is the garbage collector's target when GOGC is not set.
	GCPercent = 400
)

// Handler builds the HTTP handler for the app.
func (a *App) Handler(cfg *config.Config) (*web.Server, error) {
	sender, err := mail.New(cfg.MailURL, cfg.Sender(), cfg.DataDir)
	if err != nil {
		return nil, err
	}
	a.mail = sender
	a.Webhooks, err = webhook.New(a.DB, a.Now, a.Audit, a.Secrets,
		webhook.Options{Allow: cfg.WebhookAllow})
	if err != nil {
		return nil, err
	}
	a.LLM, err = llm.New(a.DB, a.Now, a.Audit, a.Secrets,
		llm.Options{Options: outbound.Options{Allow: cfg.LLMAllow}})
	if err != nil {
		return nil, err
	}
	a.LLM.Observe = a.llmObserved
	a.Support.LLM = a.LLM
	a.Support.MaxAttachmentBytes = int64(cfg.AttachmentMaxMB) << 20
	a.Incidents.Webhooks = a.Webhooks
	d := web.Deps{Mail: sender, Keys: a.Keys, Idempotency: a.Idempotency, LLM: a.LLM,
		Retention: a.Retention, AuditRetentionDays: auditRetentionDays(cfg),
		DataRequests: a.DataRequests, Meta: a.Meta, BadSignature: a.badSignature,
		Quality: a.Quality, Feedback: a.Feedback,
		Incidents: a.Incidents, Checklists: a.Checklists, AuditBroken: a.DetectAuditFailure,
		Webhooks: a.Webhooks, Identity: a.Identity, Workspaces: a.Workspaces, KB: a.KB,
		Support: a.Support, Hub: a.Hub, Log: a.Log, Now: a.Now, PublicURL: cfg.PublicURL,
		Ready:         a.DB.Ping,
		SecureCookies: overHTTPS(cfg.PublicURL),
		Metrics:       a.Metrics, Audit: a.Audit,
		IdleAdmin: cfg.IdleAdmin, IdleMember: cfg.IdleMember,
		Rules: web.Rules{NetworkAndBrowser: cfg.RevokeOnStolenSession,
			Probes: cfg.RevokeOnProbe, FailureBurst: cfg.RevokeOnFailureBurst,
			BlockProbers: cfg.BlockProbers}}
	a.Identity.RevokeAfterCodeFailures = cfg.RevokeAfterCodeFailures
	d.TrustedProxies = cfg.TrustedProxies
	if err := a.publishServiceTerms(context.Background(), cfg.ServiceTermsFile); err != nil {
		return nil, err
	}
	d.Trust, d.SecurityTxtWorkspace = a.Compliance, cfg.SecurityTxtWorkspace
	d.Transport, d.MailRelay = transportSummary(cfg), mailRelay(cfg.MailURL)
	if path := CheckpointFile(cfg); path != "" {
		d.Checkpoints = func() (audit.Checkpoints, error) { return audit.ReadCheckpointFile(path) }
	}
	if cfg.RateLimits {
		d.Limits = &web.Limits{PerIP: cfg.IPLimit, PerWidget: cfg.WidgetLimit}
	}
	return web.New(d), nil
}

// overHTTPS reports whether browsers reach the product over HTTPS.
func overHTTPS(publicURL string) bool {
	u, err := url.Parse(publicURL)
	return err == nil && u.Scheme == "https"
}

// Serve runs the HTTP server until ctx ends, then shuts down in order: stop
// accepting, let requests finish, close the store. On an empty store it first
// prints a one-time setup link to out.
func Serve(ctx context.Context, cfg *config.Config, out io.Writer) error {
	if err := cfg.CheckTransport(); err != nil {
		return err
	}
	log := NewLogger(cfg)
	a, err := Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	// A support server's live heap is small; collecting it less often costs
	// little memory and trims the latency tail under load. GOGC still rules
	// when the operator sets it.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(GCPercent)
	}
	if missing, err := missingGuards(ctx, a.DB); err != nil || len(missing) > 0 {
		log.Error("The audit log's append-only guards are not all in place: someone with "+
			"the database's ownership removed them", "missing", missing, "error", err)
	}
	if ids, err := a.Workspaces.WithoutAdminPath(ctx); err == nil && len(ids) > 0 {
		log.Warn("Some workspaces have no admin path yet, so their admins reach no admin "+
			"console: run thunaivi admin-path --workspace ID for each", "workspaces", ids)
	}
	if !cfg.RateLimits {
		log.Warn("Rate limits are off (THUNAIVI_RATE_LIMITS=off): use this only for a load test")
	}
	empty, err := a.Workspaces.Empty(ctx)
	if err != nil {
		return err
	}
	if empty {
		token, err := a.Workspaces.IssueSetupToken(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "No workspace yet. Finish setup within an hour at:\n  %s/setup?token=%s\n"+
			"or run: thunaivi setup --workspace NAME --admin-email EMAIL "+
			"--admin-password-file FILE\n",
			cfg.PublicURL, token)
	}

	handler, err := a.Handler(cfg)
	if err != nil {
		return err
	}
	// ReadTimeout bounds slow request bodies; event streams lift it for
	// themselves.
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second,
		IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	// Live event streams hold their requests open; end them on shutdown so
	// that they do not hold it up.
	srv.RegisterOnShutdown(handler.CloseStreams)
	listeners, err := a.listen(cfg, srv, log, out)
	if err != nil {
		return err
	}
	defer listeners.close()
	// Work answers left (filing, mail) ends before the store closes, also
	// when a listener fails; on shutdown it ends before the last audit seal
	// too (below).
	defer handler.Drain()
	log.Info("Serving", "addr", listeners.addr, "store", Describe(cfg),
		"url", cfg.PublicURL, "settings", cfg.Redacted())
	fmt.Fprintf(out, "Thunaivi is listening on %s%s (console: %s/login)\n", listeners.addr,
		listeners.over, cfg.PublicURL)

	sink, err := audit.OpenSink(cfg.AuditCheckpoints, CheckpointFile(cfg), out)
	if err != nil {
		return err
	}
	defer sink.Close()
	a.sealTo = "" // the checkpoint loop below seals the chain on shutdown
	// Checkpoints outlive the server: the last is written after the last
	// request has finished.
	var cps audit.Checkpoints
	if path := CheckpointFile(cfg); path != "" {
		if cps, err = audit.ReadCheckpointFile(path); err != nil {
			return err
		}
	}
	cpCtx, stopCheckpoints := context.WithCancel(context.WithoutCancel(ctx))
	cpDone := make(chan struct{})
	sealer := a.Audit.NewSealer(sink, cps)
	go func() {
		defer close(cpDone)
		sealer.Run(cpCtx, checkpointEvery, func(err error) {
			log.Error("The audit chain is not sealed", "error", err)
		})
	}()
	defer func() { stopCheckpoints(); <-cpDone }()
	go a.pruneAudit(ctx, cfg, sink)
	go a.purgeNightly(ctx)
	go a.Webhooks.Run(ctx, webhookEvery, func(err error) {
		a.Log.Error("Sending webhooks failed", "error", err)
	})
	// A checklist tick ends before the store closes.
	checklistDone := make(chan struct{})
	go func() {
		defer close(checklistDone)
		a.Checklists.Run(ctx, checklistEvery, func(err error) {
			a.Log.Error("Generating the monthly security checklists failed", "error", err)
		})
	}()
	defer func() { <-checklistDone }()
	// Any listener failing stops the server: an operator who asked for
	// metrics is not left without them unawares.
	errc := make(chan error, 3)
	if cfg.MetricsAddr != "" {
		go func() {
			if err := ServeMetrics(ctx, cfg.MetricsAddr, a.Metrics.Handler(), log); err != nil {
				errc <- err
			}
		}()
	}
	listeners.serve(ctx, errc)
	go a.warm(ctx)
	// A golden-set run ends before the store closes.
	qualityDone := make(chan struct{})
	go func() {
		defer close(qualityDone)
		a.QualitySchedule.Run(ctx, qualityEvery, func(err error) {
			log.Error("Running golden sets failed", "error", err)
		})
	}()
	defer func() { <-qualityDone }()
	go func() {
		if err := a.Support.Relay(ctx); err != nil {
			log.Error("Live events from other nodes stopped", "error", err)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("Shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err = listeners.shutdown(sctx)
	// No request is left to add work: what answers left is done, and
	// audited, before the checkpoint loop seals the chain for the last time.
	handler.Drain()
	return err
}

// auditRetentionDays is how long the server keeps audit entries.
func auditRetentionDays(cfg *config.Config) int {
	if cfg.AuditRetentionDays == 0 {
		return config.DefaultAuditRetentionDays
	}
	return cfg.AuditRetentionDays
}

// pruneAudit removes audit entries past retention at start and then daily.
func (a *App) pruneAudit(ctx context.Context, cfg *config.Config, sink audit.Sink) {
	days := auditRetentionDays(cfg)
	t := time.NewTicker(pruneEvery)
	defer t.Stop()
	for {
		var cps audit.Checkpoints
		var err error
		if path := CheckpointFile(cfg); path != "" {
			cps, err = audit.ReadCheckpointFile(path)
		}
		if err == nil {
			var n int64
			n, err = a.Audit.Prune(ctx, sink, cps, time.Duration(days)*24*time.Hour)
			if n > 0 {
				a.Log.Info("Pruned audit entries past retention", "count", n, "days", days)
			}
		}
		if err != nil && ctx.Err() == nil {
			a.Log.Error("Pruning the audit log failed", "error", err)
		}
		if _, err := a.Idempotency.Prune(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("Pruning kept idempotent answers failed", "error", err)
		}
		if _, err := a.Webhooks.Prune(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("Pruning the webhook delivery log failed", "error", err)
		}
		if _, err := a.DataRequests.PruneExports(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("Pruning expired data exports failed", "error", err)
		}
		if err := a.DataRequests.Remind(ctx, a.remindDataRequest); err != nil &&
			ctx.Err() == nil {
			a.Log.Error("Reminding of data requests failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// purgeHour is when, UTC, the nightly purge of data past retention runs.
const purgeHour = 3

// purgeNightly purges every workspace's data past its retention periods each
// night. Nodes take turns through a lease, so one purges at a time.
func (a *App) purgeNightly(ctx context.Context) {
	host, _ := os.Hostname()
	holder := fmt.Sprintf("%s:%d:%s", host, os.Getpid(), store.NewID("nd"))
	for {
		wait := retention.NextRun(a.Now(), purgeHour).Sub(a.Now())
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		ids, err := a.Workspaces.IDs(ctx)
		if err == nil {
			var counts map[string]retention.Counts
			counts, err = a.Retention.PurgeAll(ctx, holder, ids)
			for id, c := range counts {
				if c != (retention.Counts{}) {
					a.Log.Info("Purged data past retention", "workspace_id", id,
						"conversations", c.Conversations, "messages", c.Messages,
						"contacts", c.Contacts)
				}
			}
		}
		switch {
		case errors.Is(err, retention.ErrLeased), ctx.Err() != nil:
		case err != nil:
			a.Log.Error("Purging data past retention failed", "error", err)
		}
	}
}

// warm builds every workspace's router in the background at start, so that
// the first customers after a restart do not wait for it.
func (a *App) warm(ctx context.Context) {
	ids, err := a.Workspaces.IDs(ctx)
	if err != nil {
		a.Log.Warn("Could not list workspaces to prepare their routers", "error", err)
		return
	}
	for _, id := range ids {
		if _, err := a.KB.Router(ctx, id); err != nil {
			a.Log.Warn("Could not prepare a router", "workspace_id", id, "error", err)
		}
	}
}
