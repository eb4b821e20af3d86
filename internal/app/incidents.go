package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/apikey"
	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/checklist"
	"github.com/thunaivi/thunaivi/internal/compliance"
	"github.com/thunaivi/thunaivi/internal/incident"
	"github.com/thunaivi/thunaivi/internal/store"
)

// Credential rotation periods the monthly checklist holds credentials to.
const (
	webhookSecretPeriod = 90 * 24 * time.Hour
	masterKeyPeriod     = 365 * 24 * time.Hour
)

// checklistEvery is how often the checklist worker looks for a new month and
// for overdue items: often enough that a month's checklist appears on its
// first day, whenever the server was started.
const checklistEvery = 10 * time.Minute

// RestoreRecords tells the checklist of the last backup whose restore was
// verified.
type RestoreRecords interface {
	LastVerifiedRestore(ctx context.Context) (at time.Time, detail string, ok bool, err error)
}

// verifications reads the results `thunaivi restore --verify` records.
type verifications struct{ db *store.DB }

// LastVerifiedRestore returns the newest verification that passed.
func (v verifications) LastVerifiedRestore(ctx context.Context) (time.Time, string, bool,
	error) {
	var at, backupAt, rows int64
	var sha string
	err := v.db.QueryRowContext(ctx, v.db.Rebind(`SELECT verified_at, backup_at, file_sha256,
		rows_restored FROM backup_verifications WHERE ok = ? ORDER BY verified_at DESC
		LIMIT 1`), true).Scan(&at, &backupAt, &sha, &rows)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, "", false, nil
	}
	if err != nil {
		return time.Time{}, "", false, err
	}
	detail := fmt.Sprintf("the backup of %s (SHA-256 %.12s…) restored with %d rows",
		time.UnixMilli(backupAt).UTC().Format("2006-01-02 15:04 MST"), sha, rows)
	return time.UnixMilli(at).UTC(), detail, true, nil
}

// wireIncidents builds the incident and checklist services and connects the
// detectors and the isolation switches to the services they watch and stop.
func (a *App) wireIncidents() error {
	var err error
	a.Incidents, err = incident.New(a.DB, a.Now, a.Audit, incident.Deps{Keys: a.Keys,
		Identity: a.Identity, Workspaces: a.Workspaces, KB: a.KB, Retention: a.Retention})
	if err != nil {
		return err
	}
	a.Incidents.Opened = a.incidentOpened
	a.Incidents.Due = a.responseDue
	a.Support.Paused = a.Incidents.AIPaused
	a.DataRequests.Frozen = a.Incidents.ExportsFrozen
	a.Checklists, err = checklist.New(a.DB, a.Now, a.Audit, a.gatherEvidence, a.Workspaces.IDs)
	if err != nil {
		return err
	}
	a.Checklists.Overdue = a.checklistOverdue
	a.Restores = verifications{a.DB}
	return nil
}

// responseDue is when a workspace's incident must be answered by: within the
// time its escalation contacts promise for the severity.
func (a *App) responseDue(ctx context.Context, wsID string, sev incident.Severity,
	detected time.Time) time.Time {
	c, _, err := a.Compliance.Contacts(ctx, wsID)
	d, ok := c.ResponseTimes[compliance.Severity(fmt.Sprintf("sev%d", sev))]
	if err != nil || !ok {
		return incident.ResponseDue(sev, detected)
	}
	return d.After(detected)
}

// detect opens an incident for what a detector saw, or adds it to the open
// one; a failure is logged, never returned to the request that tripped it.
func (a *App) detect(ctx context.Context, wsID string, d incident.Detection) {
	if _, err := a.Incidents.Detect(ctx, wsID, d); err != nil {
		a.Log.Error("Opening an incident failed", "workspace_id", wsID,
			"detector", d.Detector, "error", err)
	}
}

// auditRefs names the newest audit entries of an action on a target, for an
// incident's triggering events.
func (a *App) auditRefs(ctx context.Context, wsID string, action audit.Action,
	target string) []string {
	es, err := a.Audit.List(ctx, audit.Filter{Workspace: wsID, Action: string(action),
		Target: target, Limit: 5})
	if err != nil {
		return nil
	}
	refs := make([]string, len(es))
	for i, e := range es {
		refs[i] = fmt.Sprintf("audit:%d", e.Seq)
	}
	return refs
}

// detectLeak opens an incident for a key found leaked.
func (a *App) detectLeak(ctx context.Context, k apikey.Key, why string) {
	a.detect(ctx, k.WorkspaceID, incident.Detection{Detector: incident.DetectLeakedKey,
		Severity: 2, Title: fmt.Sprintf("API key %q (…%s) found leaked", k.Name, k.Last4),
		Summary: "The key was revoked at once: " + why + ".",
		Refs: append([]string{"apikey:" + k.ID},
			a.auditRefs(ctx, k.WorkspaceID, audit.APIKeyLeaked, k.ID)...)})
}

// detectRevocation opens an incident for sessions a suspicious-activity rule
// ended: a burst of failed sign-ins, or a session that looked stolen.
func (a *App) detectRevocation(ctx context.Context, userID string, workspaces []string,
	reason string) {
	d := incident.Detection{Detector: incident.DetectSuspicious, Severity: 2,
		Title: "A member's sessions were ended as suspicious: " + reason}
	if strings.Contains(reason, "failures from several addresses") {
		d.Detector, d.Title = incident.DetectFailureBurst,
			"A sign-in followed a burst of failed sign-ins from several addresses"
	}
	for _, ws := range workspaces {
		d.Refs = append([]string{"user:" + userID},
			a.auditRefs(ctx, ws, audit.SessionRevoked, userID)...)
		a.detect(ctx, ws, d)
	}
}

// DetectAuditFailure opens an incident in a workspace for an audit chain
// that did not verify.
func (a *App) DetectAuditFailure(ctx context.Context, wsID, problem string) {
	a.detect(ctx, wsID, incident.Detection{Detector: incident.DetectAuditBroken, Severity: 1,
		Title: "The audit log did not verify", Summary: problem})
}

// Signature storms: this many callbacks with a bad signature to one
// workspace within the window open an incident.
const (
	stormThreshold = 10
	stormWindow    = 10 * time.Minute
)

// signatureStorm counts a workspace's callbacks whose signature did not
// verify, and opens an incident when they come in a burst.
type signatureStorm struct {
	mu   sync.Mutex
	seen map[string][]time.Time
}

// badSignature records one refused callback.
func (a *App) badSignature(ctx context.Context, wsID string) {
	now := a.Now()
	st := &a.storm
	st.mu.Lock()
	if st.seen == nil {
		st.seen = map[string][]time.Time{}
	}
	recent := st.seen[wsID][:0]
	for _, t := range st.seen[wsID] {
		if now.Sub(t) < stormWindow {
			recent = append(recent, t)
		}
	}
	recent = append(recent, now)
	burst := len(recent) >= stormThreshold
	if burst {
		recent = nil // the incident has them; count afresh
	}
	st.seen[wsID] = recent
	st.mu.Unlock()
	if burst {
		a.detect(context.WithoutCancel(ctx), wsID, incident.Detection{
			Detector: incident.DetectSignatureStorm, Severity: 3,
			Title: "Signed callbacks that do not verify",
			Summary: fmt.Sprintf("%d data-deletion callbacks within %v were signed with "+
				"another secret than the workspace's Meta app secret: someone is guessing, "+
				"or the secret changed on one side only.", stormThreshold, stormWindow)})
	}
}

// incidentOpened alerts a workspace's admins of a new incident.
func (a *App) incidentOpened(ctx context.Context, wsID string, in incident.Incident) {
	a.Log.Warn("Incident opened", "workspace_id", wsID, "incident", in.ID,
		"severity", in.Severity, "detector", in.Detector)
	a.alertAdmins(ctx, wsID, fmt.Sprintf("Security incident (SEV%d): %s", in.Severity,
		in.Title), fmt.Sprintf("An incident was opened: %s.\n\nA first response is due by "+
		"%s. Work it through the playbook under Incidents in the admin console.\n", in.Title,
		in.ResponseDue.Format("2006-01-02 15:04 UTC")))
}

// checklistOverdue alerts a workspace's admins of a checklist item left
// unsigned.
func (a *App) checklistOverdue(ctx context.Context, wsID, month, title string) {
	a.alertAdmins(ctx, wsID, "The security checklist has an overdue item",
		fmt.Sprintf("%q on the security checklist of %s is not signed off yet. Check it and "+
			"sign it under Checklist in the admin console.\n", title, month))
}

// gatherEvidence collects the evidence of a workspace's monthly checklist.
func (a *App) gatherEvidence(ctx context.Context, wsID string,
	now time.Time) ([]checklist.Evidence, error) {
	creds, err := a.credentialEvidence(ctx, wsID, now)
	if err != nil {
		return nil, err
	}
	admins, err := a.adminEvidence(ctx, wsID)
	if err != nil {
		return nil, err
	}
	sum, err := a.Audit.Security(ctx, wsID, now.AddDate(0, -1, 0))
	if err != nil {
		return nil, err
	}
	failed := 0
	for _, c := range sum.FailedByAccount {
		failed += c.Count
	}
	drill, err := a.drillEvidence(ctx, wsID, now)
	if err != nil {
		return nil, err
	}
	updates, err := a.updateEvidence(ctx, wsID)
	if err != nil {
		return nil, err
	}
	return []checklist.Evidence{creds, admins,
		{Key: "sign_ins", Title: "Review failed sign-ins and anomalies",
			Summary: fmt.Sprintf("%d failed sign-ins on %d accounts from %d addresses, and "+
				"%d kinds of anomaly, over the last month", failed, len(sum.FailedByAccount),
				len(sum.FailedByIP), len(sum.Anomalies)), Data: sum},
		a.restoreEvidence(ctx), drill, updates}, nil
}

func (a *App) credentialEvidence(ctx context.Context, wsID string,
	now time.Time) (checklist.Evidence, error) {
	type due struct {
		Kind  string    `json:"kind"`
		Name  string    `json:"name"`
		Since time.Time `json:"since"`
	}
	items := []due{}
	keys, err := a.Keys.List(ctx, wsID)
	if err != nil {
		return checklist.Evidence{}, err
	}
	for _, k := range keys {
		if k.RotationDue {
			items = append(items, due{"api_key", k.Name + " (…" + k.Last4 + ")", k.CreatedAt})
		}
	}
	if a.Webhooks != nil {
		eps, err := a.Webhooks.List(ctx, wsID)
		if err != nil {
			return checklist.Evidence{}, err
		}
		for _, ep := range eps {
			since := ep.CreatedAt
			rot, err := a.Audit.List(ctx, audit.Filter{Workspace: wsID,
				Action: string(audit.WebhookSecretRotated), Target: ep.ID, Limit: 1})
			if err != nil {
				return checklist.Evidence{}, err
			}
			if len(rot) > 0 {
				since = rot[0].At
			}
			if now.Sub(since) > webhookSecretPeriod {
				items = append(items, due{"webhook_secret", ep.URL, since})
			}
		}
	}
	if w := a.Secrets.Written(); !w.IsZero() && now.Sub(w) > masterKeyPeriod {
		items = append(items, due{"master_key", "the master keyring", w})
	}
	return checklist.Evidence{Key: "credentials", Title: "Rotate credentials past their period",
		Summary: fmt.Sprintf("%d credentials are due: API keys after 60 days, webhook "+
			"secrets after 90, the master key after 365", len(items)), Data: items}, nil
}

func (a *App) adminEvidence(ctx context.Context, wsID string) (checklist.Evidence, error) {
	members, err := a.Workspaces.Members(ctx, wsID)
	if err != nil {
		return checklist.Evidence{}, err
	}
	type row struct {
		Email    string      `json:"email"`
		Role     access.Role `json:"role"`
		Disabled bool        `json:"disabled"`
		TwoFA    bool        `json:"two_factor"`
	}
	rows := []row{}
	admins := 0
	for _, m := range members {
		on, err := a.Identity.HasSecondFactor(ctx, m.UserID)
		if err != nil {
			return checklist.Evidence{}, err
		}
		rows = append(rows, row{m.Email, m.Role, m.Disabled, on})
		if m.Role == access.Admin && !m.Disabled {
			admins++
		}
	}
	return checklist.Evidence{Key: "admins", Title: "Review admins and roles",
		Summary: fmt.Sprintf("%d members, %d of them admins: confirm each still needs "+
			"their role", len(rows), admins), Data: rows}, nil
}

func (a *App) restoreEvidence(ctx context.Context) checklist.Evidence {
	e := checklist.Evidence{Key: "backup", Title: "Verify backup and restore",
		Summary: "no verified restore recorded: run thunaivi restore --verify on the " +
			"latest backup", Data: map[string]any{"verified": false}}
	if a.Restores == nil {
		return e
	}
	at, detail, ok, err := a.Restores.LastVerifiedRestore(ctx)
	if err != nil || !ok {
		return e
	}
	e.Summary = "last verified restore on " + at.Format("2006-01-02") + ": " + detail
	e.Data = map[string]any{"verified": true, "at": at, "detail": detail}
	return e
}

func (a *App) drillEvidence(ctx context.Context, wsID string,
	now time.Time) (checklist.Evidence, error) {
	from := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	drills, err := a.Incidents.DrillsBetween(ctx, wsID, from, now)
	if err != nil {
		return checklist.Evidence{}, err
	}
	type row struct {
		ID    string   `json:"id"`
		Title string   `json:"title"`
		Steps []string `json:"steps_done"`
	}
	rows := []row{}
	complete := 0
	for _, d := range drills {
		rows = append(rows, row{d.ID, d.Title, d.StepsDone})
		if d.NextStep == "" {
			complete++
		}
	}
	summary := "no drill walked through all six steps since " + from.Format("2006-01-02") +
		": open an incident marked as a drill and work it through"
	if complete > 0 {
		summary = fmt.Sprintf("%d drills walked through all six steps since %s", complete,
			from.Format("2006-01-02"))
	}
	return checklist.Evidence{Key: "drill", Title: "Rehearse the incident playbook",
		Summary: summary, Data: rows}, nil
}

func (a *App) updateEvidence(ctx context.Context, wsID string) (checklist.Evidence, error) {
	l, err := a.Incidents.Lockdown(ctx, wsID)
	if err != nil {
		return checklist.Evidence{}, err
	}
	running := incident.Version()
	type integration struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	ins := []integration{{"website chat widget", "v1"}}
	if a.LLM != nil {
		st, err := a.LLM.Settings(ctx, wsID)
		if err != nil {
			return checklist.Evidence{}, err
		}
		if st.Enabled {
			host := st.BaseURL
			if u, err := url.Parse(st.BaseURL); err == nil {
				host = u.Host
			}
			ins = append(ins, integration{"LLM provider " + host, st.Model})
		}
	}
	if a.Webhooks != nil {
		eps, err := a.Webhooks.List(ctx, wsID)
		if err != nil {
			return checklist.Evidence{}, err
		}
		if len(eps) > 0 {
			ins = append(ins, integration{fmt.Sprintf("outbound webhooks (%d)", len(eps)),
				"signature v1"})
		}
	}
	summary := "running " + running + "; no newest release recorded: record it with " +
		"PUT /api/v1/security/lockdown {\"latest_release\"}"
	if l.LatestRelease != "" {
		summary = "running " + running + ", newest release " + l.LatestRelease
	}
	return checklist.Evidence{Key: "updates", Title: "Confirm updates of the product and " +
		"integrations", Summary: summary, Data: map[string]any{"running": running,
		"latest_release": l.LatestRelease, "integrations": ins}}, nil
}
