// Package app wires Thunaivi together: configuration, store, domain services,
// the HTTP server, and an orderly shutdown.
package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/thunaivi/thunaivi/internal/apikey"
	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/checklist"
	"github.com/thunaivi/thunaivi/internal/compliance"
	"github.com/thunaivi/thunaivi/internal/config"
	"github.com/thunaivi/thunaivi/internal/datarequest"
	"github.com/thunaivi/thunaivi/internal/guard"
	"github.com/thunaivi/thunaivi/internal/idempotency"
	"github.com/thunaivi/thunaivi/internal/identity"
	"github.com/thunaivi/thunaivi/internal/incident"
	"github.com/thunaivi/thunaivi/internal/kb"
	"github.com/thunaivi/thunaivi/internal/llm"
	"github.com/thunaivi/thunaivi/internal/mail"
	"github.com/thunaivi/thunaivi/internal/meta"
	"github.com/thunaivi/thunaivi/internal/metrics"
	"github.com/thunaivi/thunaivi/internal/quality"
	"github.com/thunaivi/thunaivi/internal/retention"
	"github.com/thunaivi/thunaivi/internal/secrets"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/support"
	"github.com/thunaivi/thunaivi/internal/webhook"
	"github.com/thunaivi/thunaivi/internal/workspace"
)

// App holds the opened store and the services built on it.
type App struct {
	DB         *store.DB
	Audit      *audit.Log
	AuditKeys  audit.Keys
	Identity   *identity.Service
	Workspaces *workspace.Service
	KB         *kb.Service
	Retention  *retention.Service
	// Compliance keeps escalation contacts, compliance documents and the
	// acceptance of the hosted service's terms.
	Compliance *compliance.Service
	// DataRequests are customers' requests for their data or its deletion.
	DataRequests *datarequest.Service
	// Meta keeps the workspaces' Meta app secrets.
	Meta    *meta.Apps
	storm   signatureStorm
	Support *support.Service
	// Feedback keeps agents' flags on AI replies, customers' ratings and
	// the KPIs.
	Feedback *support.Feedback
	// Quality keeps golden sets and their runs; QualitySchedule runs them
	// weekly and after knowledge-base publishes, once Serve starts it.
	Quality         *quality.Service
	QualitySchedule *quality.Scheduler
	Keys            *apikey.Service
	// Secrets seals secrets kept in the database, under the master keyring.
	Secrets *secrets.Keyring
	// Webhooks sends workspaces' events to their endpoints; set by Handler,
	// which knows the allowed address ranges.
	Webhooks *webhook.Service
	// LLM rewrites answers with workspaces' own LLM providers; set by
	// Handler, which knows the allowed address ranges.
	LLM *llm.Service
	// Idempotency keeps the answers to API requests sent with an
	// Idempotency-Key.
	Idempotency *idempotency.Service
	Hub         *support.Hub
	Log         *slog.Logger
	Now         func() time.Time
	Metrics     *metrics.Registry

	// Incidents keeps security incidents, baselines and isolation settings;
	// Checklists the monthly security checklist.
	Incidents  *incident.Service
	Checklists *checklist.Service
	// Restores tells the checklist of the last verified restore, from what
	// `thunaivi restore --verify` records.
	Restores RestoreRecords

	// mail sends security alerts; set by Handler, which knows the settings.
	mail mail.Sender
	// sealTo, when set, is the checkpoint file Close signs the audit chain's
	// head into, so that a command that wrote entries leaves them sealed.
	sealTo string
}

// Open opens the store the configuration names, applies pending migrations
// and builds the services.
func Open(ctx context.Context, cfg *config.Config, log *slog.Logger) (*App, error) {
	db, err := store.Open(ctx, store.Options{DataDir: cfg.DataDir, DatabaseURL: cfg.DatabaseURL,
		SyncOnCrashOnly: cfg.SQLiteSync == "normal"})
	if err != nil {
		return nil, err
	}
	n, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	if n > 0 {
		log.Info("Applied migrations", "count", n, "engine", string(db.Engine()))
	}
	secret, err := auditSecret(ctx, cfg, db, true)
	if err != nil {
		db.Close()
		return nil, err
	}
	a, err := New(db, log, time.Now, secret)
	if err != nil {
		db.Close()
		return nil, err
	}
	a.sealTo = CheckpointFile(cfg)
	if err := a.loadKeyring(ctx, cfg); err != nil {
		a.Close()
		return nil, err
	}
	if cfg.BreachAPI != "" {
		a.Identity.Breaches = &identity.BreachCheck{Base: cfg.BreachAPI}
		a.Identity.BreachErrors = func(err error) {
			log.Warn("The breached-password service did not answer; the shipped list "+
				"decided alone", "error", err)
		}
	}
	return a, nil
}

// loadKeyring reads the master keyring: THUNAIVI_MASTER_KEY_FILE, or the
// file in the data folder, made on first start. A store that holds sealed
// values and no keyring is refused: a new key would not open them.
func (a *App) loadKeyring(ctx context.Context, cfg *config.Config) error {
	path := MasterKeyFile(cfg)
	var sealed int
	err := a.DB.QueryRowContext(ctx, a.DB.Rebind(
		"SELECT COUNT(*) FROM user_totp WHERE secret_enc LIKE 's1:%'")).Scan(&sealed)
	if err != nil {
		return fmt.Errorf("count sealed secrets: %w", err)
	}
	kr, err := secrets.Load(path, a.AuditKeys.AtRest, sealed == 0)
	if errors.Is(err, secrets.ErrMissing) {
		return fmt.Errorf("the master keyring %s is missing, and the store holds secrets "+
			"sealed with it: restore it from your backup", path)
	}
	if err != nil {
		return err
	}
	a.Secrets = kr
	a.Identity.Secrets = kr
	return nil
}

// MasterKeyFile is where the master keyring is.
func MasterKeyFile(cfg *config.Config) string {
	if cfg.MasterKeyFile != "" {
		return cfg.MasterKeyFile
	}
	return filepath.Join(cfg.DataDir, secrets.FileName)
}

// auditSecret is the secret the audit log is keyed with: THUNAIVI_AUDIT_KEY
// when set, otherwise the key file in the data folder. The file is made only
// when create is set and the store's log belongs to no key yet: a log whose
// key went missing is refused, never given a new key that would read as
// tampering. Every node of a cluster needs the same secret.
func auditSecret(ctx context.Context, cfg *config.Config, db *store.DB,
	create bool) ([]byte, error) {
	if cfg.AuditKey != "" {
		return []byte(cfg.AuditKey), nil
	}
	path := filepath.Join(cfg.DataDir, audit.KeyFileName)
	secret, err := audit.LoadSecret(path)
	if !errors.Is(err, os.ErrNotExist) {
		return secret, err
	}
	claimed, err := audit.Claimed(ctx, db)
	if err != nil {
		return nil, err
	}
	if claimed || !create {
		return nil, fmt.Errorf("the audit log's key is missing: %s does not exist and "+
			"THUNAIVI_AUDIT_KEY is not set; restore the key from your backup", path)
	}
	return audit.LoadOrCreateSecret(path)
}

// throwawaySecret keys the audit logs of stores nobody verifies after the
// process ends: tests, and scratch stores such as eval's.
var throwawaySecret = func() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}()

// New builds the services on an opened, migrated store. auditSecret keys the
// audit log; nil uses a throwaway key made for this process.
func New(db *store.DB, log *slog.Logger, now func() time.Time, auditSecret []byte) (*App,
	error) {
	if auditSecret == nil {
		auditSecret = throwawaySecret
	}
	a := &App{DB: db, Hub: support.NewHub(), Log: log, Now: now,
		AuditKeys: audit.DeriveKeys(auditSecret), Metrics: metrics.New(now())}
	var err error
	if a.Audit, err = audit.New(db, a.AuditKeys, now); err != nil {
		return nil, err
	}
	a.Audit.OnAppend = func(err error) {
		if err != nil {
			a.Metrics.AuditWriteFailure()
			return
		}
		a.Metrics.AuditEntry()
	}
	if a.Identity, err = identity.New(db, now, a.Audit); err != nil {
		return nil, err
	}
	// Values sealed before the keyring open with the key derived from the
	// audit secret; Open puts the keyring file in place of this one.
	a.Secrets = secrets.NewEphemeral(a.AuditKeys.AtRest)
	a.Identity.Secrets = a.Secrets
	if a.Workspaces, err = workspace.New(db, now, a.Audit); err != nil {
		return nil, err
	}
	if a.KB, err = kb.New(db, now, a.Audit); err != nil {
		return nil, err
	}
	a.Support, err = support.New(db, now, a.KB, a.Workspaces, a.Hub)
	if err != nil {
		return nil, err
	}
	a.Support.Observe = a.observe
	a.Support.Changed = a.notify
	a.Support.Policy = a.policy
	if a.Feedback, err = support.NewFeedback(db, now, a.Audit, a.Support); err != nil {
		return nil, err
	}
	a.Quality, err = quality.New(db, now, a.Audit, a.Support, a.Feedback, a.KB)
	if err != nil {
		return nil, err
	}
	a.Quality.Alert = a.qualityAlert
	a.QualitySchedule = quality.NewScheduler(a.Quality, now, a.Workspaces.IDs)
	a.KB.Published = a.QualitySchedule.Published
	a.Identity.RuleRevoked = a.ruleRevoked
	if a.Keys, err = apikey.New(db, now, a.Audit, a.AuditKeys.Pepper); err != nil {
		return nil, err
	}
	a.Keys.Leaked = a.keyLeaked
	if a.Idempotency, err = idempotency.New(db, now); err != nil {
		return nil, err
	}
	if a.Retention, err = retention.New(db, now, a.Audit); err != nil {
		return nil, err
	}
	if a.Compliance, err = compliance.New(db, now, a.Audit); err != nil {
		return nil, err
	}
	if a.DataRequests, err = datarequest.New(db, now, a.Audit,
		a.AuditKeys.Receipts); err != nil {
		return nil, err
	}
	// The keyring Open loads replaces a.Secrets: look it up at each use.
	a.DataRequests.Seal = func(b []byte) (string, error) { return a.Secrets.Seal(b) }
	a.DataRequests.Open = func(s string) ([]byte, error) { return a.Secrets.Open(s) }
	a.Meta = meta.NewApps(db, now, a.Audit)
	a.Meta.Seal, a.Meta.Open = a.DataRequests.Seal, a.DataRequests.Open
	if err := a.wireIncidents(); err != nil {
		return nil, err
	}
	return a, nil
}

// observe counts a routing decision for monitoring.
func (a *App) observe(d brain.Decision) {
	outcome := string(d.Action)
	if d.Reply != "" {
		outcome = "courtesy"
	}
	a.Metrics.Decision(outcome)
	if d.Action == brain.ActionHandoff {
		category := d.Category
		if category == brain.CategoryUnknown {
			category = "low_confidence"
		}
		a.Metrics.Handoff(category)
	}
}

// llmObserved counts how a rewrite went, and warns an operator of a provider
// that fails: the customer got the knowledge base's own answer instead.
func (a *App) llmObserved(wsID string, r llm.Result) {
	if r.Kind == "" {
		a.Metrics.LLMCall("ok")
		return
	}
	if r.Kind == llm.FailBudget {
		a.Metrics.LLMFallback("budget")
		return
	}
	a.Metrics.LLMCall(llmOutcomes[r.Kind])
	a.Metrics.LLMFallback("error")
	a.Log.Warn("The LLM provider gave no answer; the embedded answer was sent",
		"workspace_id", wsID, "error", r.Fallback)
}

// llmOutcomes name the failures of LLM calls as the metrics do.
var llmOutcomes = map[string]string{llm.FailTimeout: "timeout",
	llm.FailUnreachable: "unreachable", llm.FailRefused: "refused",
	llm.FailStatus: "error_status", llm.FailMalformed: "malformed", llm.FailKey: "key"}

// Close seals the audit chain with a checkpoint, when the app was opened with
// a checkpoint file, and releases the store.
func (a *App) Close() error {
	var err error
	if a.sealTo != "" {
		var sink *audit.FileSink
		if sink, err = audit.OpenFileSink(a.sealTo); err == nil {
			var cps audit.Checkpoints
			if cps, err = audit.ReadCheckpointFile(a.sealTo); err == nil {
				_, err = a.Audit.NewSealer(sink, cps).Seal(context.Background())
			}
			err = errors.Join(err, sink.Close())
		}
	}
	return errors.Join(err, a.DB.Close())
}

// Describe names the store for people: the SQLite file or the PostgreSQL host.
func Describe(cfg *config.Config) string {
	if cfg.DatabaseURL != "" {
		return "PostgreSQL " + config.RedactURL(cfg.DatabaseURL)
	}
	return fmt.Sprintf("SQLite in %s", cfg.DataDir)
}

// policy is a workspace's guardrail settings; the defaults, which stop no
// less, when they cannot be read.
func (a *App) policy(ctx context.Context, wsID string) guard.Policy {
	p, err := a.KB.Policy(ctx, wsID)
	if err != nil {
		a.Log.Error("Loading the AI policy failed; the defaults apply", "workspace_id", wsID,
			"error", err)
	}
	return p
}
