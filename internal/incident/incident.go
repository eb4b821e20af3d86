// Package incident runs a workspace's security incidents as a checked
// workflow: an incident is opened by a member or by a detector, and worked
// through the six steps of the playbook (detect, contain, isolate, validate,
// restore, document), each recorded in its timeline and in the audit log. It
// also keeps the workspace's security baselines and its isolation settings:
// AI auto-replies paused, exports frozen, address ranges refused.
package incident

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/apikey"
	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/identity"
	"github.com/thunaivi/thunaivi/internal/kb"
	"github.com/thunaivi/thunaivi/internal/origin"
	"github.com/thunaivi/thunaivi/internal/retention"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/webhook"
	"github.com/thunaivi/thunaivi/internal/workspace"
)

//go:embed queries.sql
var queryFiles embed.FS

type queries struct {
	InsertIncident  string
	IncidentByID    string
	OpenByDetector  string
	ListIncidents   string
	DrillsBetween   string
	UpdateIncident  string
	SetSteps        string
	SetDocument     string
	NextTimelineSeq string
	InsertTimeline  string
	Timeline        string
	InsertBaseline  string
	BaselineByID    string
	LatestBaseline  string
	ListBaselines   string
	Lockdown        string
	SetLockdown     string
}

// Severity ranks an incident: SEV1 is the most urgent.
type Severity int

// Response times by severity, from detection to a first response, of a
// service without Service.Due: the escalation contacts' defaults.
var responseTimes = map[Severity]struct {
	hours, businessDays int
}{1: {hours: 1}, 2: {hours: 4}, 3: {businessDays: 1}, 4: {businessDays: 3}}

// BreachNotice is how long the GDPR (article 33) gives a controller to notify
// its supervisory authority of a personal data breach, from detection.
const BreachNotice = 72 * time.Hour

// Steps of the playbook, in the order they are carried out.
const (
	StepDetect   = "detect"
	StepContain  = "contain"
	StepIsolate  = "isolate"
	StepValidate = "validate"
	StepRestore  = "restore"
	StepDocument = "document"
)

// Steps lists the playbook's steps in order.
var Steps = []string{StepDetect, StepContain, StepIsolate, StepValidate, StepRestore,
	StepDocument}

// Detectors name what opened an incident on its own.
const (
	DetectLeakedKey    = "leaked_api_key"
	DetectFailureBurst = "failed_sign_in_burst"
	DetectSuspicious   = "suspicious_session"
	DetectAuditBroken  = "audit_verification_failed"
	// DetectSignatureStorm is a burst of signed callbacks (Meta's
	// data-deletion requests) whose signature does not verify: someone is
	// guessing, or the app secret changed on one side only.
	DetectSignatureStorm = "signature_storm"
)

// Errors. ErrInvalid wraps input a person can correct; ErrOrder is a step
// asked for before the one it follows, or again.
var (
	ErrInvalid = errors.New("invalid")
	ErrOrder   = errors.New("incident: the playbook's steps go in order, each once")
	ErrClosed  = errors.New("incident: the incident is closed")
)

// Incident is one security incident.
type Incident struct {
	ID         string    `json:"id"`
	Title      string    `json:"title"`
	Severity   Severity  `json:"severity"`
	Detector   string    `json:"detector,omitempty"`
	OwnerID    string    `json:"owner_id"`
	OpenedBy   string    `json:"opened_by"`
	DetectedAt time.Time `json:"detected_at"`
	// WindowFrom starts the incident window the integrity checks look at.
	WindowFrom time.Time `json:"window_from"`
	// ResponseDue is when the response-time clock of the severity runs out.
	ResponseDue time.Time `json:"response_due"`
	// PersonalData marks a breach of personal data: NotifyBy is then the
	// end of the 72 hours article 33 of the GDPR gives to notify.
	PersonalData bool       `json:"personal_data"`
	NotifyBy     *time.Time `json:"notify_by,omitempty"`
	Drill        bool       `json:"drill"`
	StepsDone    []string   `json:"steps_done"`
	// NextStep is the step to carry out next; "" once all six are done.
	NextStep   string     `json:"next_step"`
	RootCause  string     `json:"root_cause"`
	Impact     string     `json:"impact"`
	Preventive string     `json:"preventive"`
	FollowUps  []string   `json:"follow_ups"`
	ClosedAt   *time.Time `json:"closed_at,omitempty"`
	Timeline   []Entry    `json:"timeline,omitempty"`
}

// Entry is one line of an incident's timeline.
type Entry struct {
	Seq   int       `json:"seq"`
	At    time.Time `json:"at"`
	Kind  string    `json:"kind"`
	Step  string    `json:"step,omitempty"`
	Actor string    `json:"actor"`
	Text  string    `json:"text"`
	// Refs name what the entry stands on: "audit:SEQ" for audit entries,
	// "apikey:ID", "user:ID" and the like.
	Refs []string `json:"refs,omitempty"`
}

// Deps are the services the playbook acts through.
type Deps struct {
	Keys       *apikey.Service
	Identity   *identity.Service
	Workspaces *workspace.Service
	KB         *kb.Service
	Retention  *retention.Service
}

// Service keeps incidents, baselines and isolation settings.
type Service struct {
	Deps
	// Due, when set, is when the response-time clock of an incident of the
	// workspace runs out: the times its escalation contacts promise.
	Due func(ctx context.Context, wsID string, sev Severity,
		detected time.Time) time.Time
	db    *store.DB
	q     queries
	now   func() time.Time
	audit *audit.Log
	// Webhooks are the workspaces' endpoints; set once the server that
	// delivers to them is built, nil before.
	Webhooks *webhook.Service
	// Opened, when set, is told of each incident a detector or a member
	// opens, so that the workspace's admins are alerted.
	Opened func(ctx context.Context, wsID string, in Incident)

	lockCache sync.Map // workspace id -> cachedLockdown
}

// New prepares the service.
func New(db *store.DB, now func() time.Time, log *audit.Log, d Deps) (*Service, error) {
	s := &Service{Deps: d, db: db, now: now, audit: log}
	if err := db.LoadQueries(queryFiles, &s.q); err != nil {
		return nil, err
	}
	return s, nil
}

// ResponseDue is when the response-time clock of a severity runs out for an
// incident detected at t. Business days skip Saturdays and Sundays (UTC).
func ResponseDue(sev Severity, t time.Time) time.Time {
	rt := responseTimes[sev]
	due := t.Add(time.Duration(rt.hours) * time.Hour)
	for n := rt.businessDays; n > 0; {
		due = due.Add(24 * time.Hour)
		if wd := due.UTC().Weekday(); wd != time.Saturday && wd != time.Sunday {
			n--
		}
	}
	return due
}

// Opening is what an incident is opened with.
type Opening struct {
	Title        string   `json:"title"`
	Severity     Severity `json:"severity"`
	OwnerID      string   `json:"owner_id"`
	PersonalData bool     `json:"personal_data"`
	Drill        bool     `json:"drill"`
	// Summary is the first line of the timeline: what was noticed.
	Summary string `json:"summary"`
	// WindowHours is how far before detection the incident window starts;
	// 0 starts it at detection.
	WindowHours int `json:"window_hours"`
}

func (o *Opening) check() error {
	o.Title = strings.TrimSpace(o.Title)
	switch {
	case o.Title == "" || len(o.Title) > 200 || !utf8.ValidString(o.Title):
		return fmt.Errorf("incident: %w: a title of 1 to 200 characters", ErrInvalid)
	case o.Severity < 1 || o.Severity > 4:
		return fmt.Errorf("incident: %w: the severity is 1 (SEV1) to 4 (SEV4)", ErrInvalid)
	case len(o.Summary) > 2000 || !utf8.ValidString(o.Summary):
		return fmt.Errorf("incident: %w: a summary of at most 2000 characters", ErrInvalid)
	case o.WindowHours < 0 || o.WindowHours > 24*30:
		return fmt.Errorf("incident: %w: the window starts 0 to 720 hours before "+
			"detection", ErrInvalid)
	}
	return nil
}

// Open opens an incident by hand. The owner, when named, must be an admin of
// the workspace.
func (s *Service) Open(ctx context.Context, wsID string, o Opening) (Incident, error) {
	if err := o.check(); err != nil {
		return Incident{}, err
	}
	if err := s.checkOwner(ctx, wsID, o.OwnerID); err != nil {
		return Incident{}, err
	}
	in, err := s.open(ctx, wsID, o, "", nil)
	if err == nil && s.Opened != nil && !in.Drill {
		s.Opened(ctx, wsID, in)
	}
	return in, err
}

func (s *Service) checkOwner(ctx context.Context, wsID, userID string) error {
	if userID == "" {
		return nil
	}
	members, err := s.Workspaces.Members(ctx, wsID)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(members, func(m workspace.Member) bool {
		return m.UserID == userID && m.Role == access.Admin && !m.Disabled
	}) {
		return fmt.Errorf("incident: %w: the owner is an admin of the workspace", ErrInvalid)
	}
	return nil
}

func (s *Service) open(ctx context.Context, wsID string, o Opening, detector string,
	refs []string) (Incident, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	id := store.NewID("in")
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q.InsertIncident, wsID, id, o.Title, int(o.Severity),
			detector, o.OwnerID, actorName(ctx), now.UnixMilli(),
			now.Add(-time.Duration(o.WindowHours)*time.Hour).UnixMilli(),
			boolInt(o.PersonalData), boolInt(o.Drill)); err != nil {
			return fmt.Errorf("incident: open: %w", err)
		}
		text := "Incident opened: " + o.Title
		if o.Summary != "" {
			text += ". " + o.Summary
		}
		if err := s.addEntry(ctx, tx, wsID, id, "opened", "", text, refs); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.IncidentOpened, TargetType: "incident", TargetID: id,
			Reason: clip(o.Title, 200), Diff: audit.Diff{"severity": {nil, o.Severity},
				"detector": {nil, detector}, "drill": {nil, o.Drill}}})
	})
	if err != nil {
		return Incident{}, err
	}
	return s.Get(ctx, wsID, id)
}

// Detection is what a detector saw.
type Detection struct {
	Detector string
	Severity Severity
	Title    string
	Summary  string
	// Refs name the triggering events, such as "audit:SEQ".
	Refs         []string
	PersonalData bool
}

// Detect opens an incident for what a detector saw, or, while an incident
// of the same detector is open in the workspace, attaches the events to it,
// so that a burst does not open a burst of incidents. It runs as the system.
func (s *Service) Detect(ctx context.Context, wsID string, d Detection) (Incident, error) {
	ctx = origin.WithActor(ctx, origin.Actor{Type: origin.System})
	var id string
	err := s.db.QueryRowContext(ctx, s.q.OpenByDetector, wsID, d.Detector).Scan(&id)
	if err == nil {
		err = s.db.InTx(ctx, func(tx *store.Tx) error {
			if err := s.addEntry(ctx, tx, wsID, id, "detected", "",
				"Detected again: "+d.Title, d.Refs); err != nil {
				return err
			}
			return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
				Action: audit.IncidentDetected, TargetType: "incident", TargetID: id,
				Reason: clip(d.Title, 200)})
		})
		if err != nil {
			return Incident{}, err
		}
		return s.Get(ctx, wsID, id)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return Incident{}, fmt.Errorf("incident: find open: %w", err)
	}
	in, err := s.open(ctx, wsID, Opening{Title: clip(d.Title, 200), Severity: d.Severity,
		Summary: clip(d.Summary, 2000), PersonalData: d.PersonalData, WindowHours: 24},
		d.Detector, d.Refs)
	if err == nil && s.Opened != nil {
		s.Opened(ctx, wsID, in)
	}
	return in, err
}

// Get returns an incident with its timeline.
func (s *Service) Get(ctx context.Context, wsID, id string) (Incident, error) {
	in, err := scanIncident(s.db.QueryRowContext(ctx, s.q.IncidentByID, wsID, id))
	if err != nil {
		return Incident{}, err
	}
	s.clock(ctx, wsID, &in)
	in.Timeline, err = store.Collect(ctx, s.db, s.q.Timeline, func(rows *sql.Rows) (Entry,
		error) {
		var e Entry
		var at int64
		var refs string
		err := rows.Scan(&e.Seq, &at, &e.Kind, &e.Step, &e.Actor, &e.Text, &refs)
		e.At = time.UnixMilli(at).UTC()
		if refs != "" {
			e.Refs = strings.Split(refs, ",")
		}
		return e, err
	}, wsID, id)
	return in, err
}

// List returns a workspace's incidents, newest first, without timelines.
func (s *Service) List(ctx context.Context, wsID string) ([]Incident, error) {
	out, err := store.Collect(ctx, s.db, s.q.ListIncidents, scanIncidentRows, wsID)
	if out == nil {
		out = []Incident{}
	}
	for i := range out {
		s.clock(ctx, wsID, &out[i])
	}
	return out, err
}

// clock sets an incident's response deadline from the workspace's promised
// response times, when the service knows them.
func (s *Service) clock(ctx context.Context, wsID string, in *Incident) {
	if s.Due != nil {
		in.ResponseDue = s.Due(ctx, wsID, in.Severity, in.DetectedAt)
	}
}

// DrillsBetween returns the drills detected in [from, to).
func (s *Service) DrillsBetween(ctx context.Context, wsID string, from,
	to time.Time) ([]Incident, error) {
	return store.Collect(ctx, s.db, s.q.DrillsBetween, scanIncidentRows, wsID,
		from.UnixMilli(), to.UnixMilli())
}

// Change is what Update may change; a nil field stays as it is.
type Change struct {
	Severity     *Severity `json:"severity"`
	OwnerID      *string   `json:"owner_id"`
	PersonalData *bool     `json:"personal_data"`
	// Closed closes the incident; an incident closes once documented.
	Closed *bool `json:"closed"`
}

// Update changes an incident's severity, owner or personal-data flag, or
// closes it, and audits old and new.
func (s *Service) Update(ctx context.Context, wsID, id string, ch Change) (Incident, error) {
	old, err := s.Get(ctx, wsID, id)
	if err != nil {
		return Incident{}, err
	}
	next := old
	if ch.Severity != nil {
		if *ch.Severity < 1 || *ch.Severity > 4 {
			return Incident{}, fmt.Errorf("incident: %w: the severity is 1 to 4", ErrInvalid)
		}
		next.Severity = *ch.Severity
	}
	if ch.OwnerID != nil {
		if err := s.checkOwner(ctx, wsID, *ch.OwnerID); err != nil {
			return Incident{}, err
		}
		next.OwnerID = *ch.OwnerID
	}
	if ch.PersonalData != nil {
		next.PersonalData = *ch.PersonalData
	}
	closed := int64(0)
	if old.ClosedAt != nil {
		closed = old.ClosedAt.UnixMilli()
	}
	if ch.Closed != nil && *ch.Closed != (old.ClosedAt != nil) {
		closed = 0
		if *ch.Closed {
			if !slices.Contains(old.StepsDone, StepDocument) {
				return Incident{}, fmt.Errorf("incident: %w: document the incident before "+
					"closing it", ErrInvalid)
			}
			closed = s.now().UnixMilli()
		}
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q.UpdateIncident, int(next.Severity), next.OwnerID,
			boolInt(next.PersonalData), closed, wsID, id); err != nil {
			return fmt.Errorf("incident: update: %w", err)
		}
		text := fmt.Sprintf("Updated: SEV%d, owner %q, personal data %v, closed %v",
			next.Severity, next.OwnerID, next.PersonalData, closed != 0)
		if err := s.addEntry(ctx, tx, wsID, id, "updated", "", text, nil); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.IncidentUpdated, TargetType: "incident", TargetID: id,
			Diff: audit.Diff{"severity": {old.Severity, next.Severity},
				"owner_id":      {old.OwnerID, next.OwnerID},
				"personal_data": {old.PersonalData, next.PersonalData},
				"closed":        {old.ClosedAt != nil, closed != 0}}})
	})
	if err != nil {
		return Incident{}, err
	}
	return s.Get(ctx, wsID, id)
}

// stepLease is the longest one step of the playbook may keep others of the
// same incident waiting; a step takes seconds.
const stepLease = 5 * time.Minute

// step runs one step of the playbook on an open incident, in order: fn acts
// and returns the timeline's lines and the counts for the audit entry; the
// step is marked done, recorded in the timeline and audited in one
// transaction with whatever fn writes through tx.
func (s *Service) step(ctx context.Context, wsID, id, name string,
	fn func(in Incident) (lines []line, counts audit.Diff, err error)) (Incident, error) {
	// A step rotates credentials before it is marked done: a second
	// request for it (a double click, or the same click reaching another
	// node) must not run it again meanwhile, or the admin path and secrets
	// shown would be replaced unseen. The claim is a lease in the database,
	// so that it holds across nodes; a node that dies mid-step holds it
	// for stepLease at most.
	lease, holder := "incident.step:"+id, store.NewID("st")
	now := s.now()
	ok, err := s.db.TakeLease(ctx, lease, holder, now, now.Add(stepLease))
	if err != nil {
		return Incident{}, fmt.Errorf("incident: %w", err)
	}
	if !ok {
		return Incident{}, fmt.Errorf("%w: another step of this incident is running", ErrOrder)
	}
	defer s.db.ReleaseLease(ctx, lease, holder)
	in, err := s.Get(ctx, wsID, id)
	if err != nil {
		return Incident{}, err
	}
	if in.ClosedAt != nil {
		return Incident{}, ErrClosed
	}
	if in.NextStep != name {
		return Incident{}, fmt.Errorf("%w: the next step is %q", ErrOrder, in.NextStep)
	}
	lines, counts, err := fn(in)
	if err != nil {
		return Incident{}, err
	}
	done := strings.Join(in.StepsDone, ",")
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, s.q.SetSteps, strings.Join(append(in.StepsDone, name),
			","), wsID, id, done)
		if err != nil {
			return fmt.Errorf("incident: mark step: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("%w: another step ran at the same time", ErrOrder)
		}
		for _, l := range lines {
			if err := s.addEntry(ctx, tx, wsID, id, "action", name, l.text, l.refs); err != nil {
				return err
			}
		}
		if err := s.addEntry(ctx, tx, wsID, id, "step", name,
			fmt.Sprintf("Step %d, %s, done", slices.Index(Steps, name)+1, name),
			nil); err != nil {
			return err
		}
		if counts == nil {
			counts = audit.Diff{}
		}
		counts["step"] = [2]any{nil, name}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.IncidentStepDone, TargetType: "incident", TargetID: id,
			Diff: counts})
	})
	if err != nil {
		return Incident{}, err
	}
	return s.Get(ctx, wsID, id)
}

// line is one timeline line a step adds.
type line struct {
	text string
	refs []string
}

func (s *Service) addEntry(ctx context.Context, tx *store.Tx, wsID, id, kind, step,
	text string, refs []string) error {
	var seq int
	if err := tx.QueryRowContext(ctx, s.q.NextTimelineSeq, wsID, id).Scan(&seq); err != nil {
		return fmt.Errorf("incident: timeline: %w", err)
	}
	_, err := tx.ExecContext(ctx, s.q.InsertTimeline, wsID, id, seq, s.now().UnixMilli(), kind,
		step, actorName(ctx), clip(text, 4000), clip(strings.Join(refs, ","), 4000))
	if err != nil {
		return fmt.Errorf("incident: timeline: %w", err)
	}
	return nil
}

// actorName names who acts in ctx for the timeline.
func actorName(ctx context.Context) string {
	a := origin.ActorFrom(ctx)
	switch {
	case a.Email != "":
		return a.Email
	case a.ID != "":
		return string(a.Type) + ":" + a.ID
	case a.Type != "":
		return string(a.Type)
	}
	return "system"
}

func scanIncidentRows(rows *sql.Rows) (Incident, error) { return scanIncident(rows) }

func scanIncident(row interface{ Scan(...any) error }) (Incident, error) {
	var in Incident
	var detected, from, closed int64
	var personal, drill int
	var steps, follow string
	err := row.Scan(&in.ID, &in.Title, &in.Severity, &in.Detector, &in.OwnerID, &in.OpenedBy,
		&detected, &from, &personal, &drill, &steps, &in.RootCause, &in.Impact,
		&in.Preventive, &follow, &closed)
	if errors.Is(err, sql.ErrNoRows) {
		return Incident{}, store.ErrNotFound
	}
	if err != nil {
		return Incident{}, fmt.Errorf("incident: load: %w", err)
	}
	in.DetectedAt, in.WindowFrom = time.UnixMilli(detected).UTC(), time.UnixMilli(from).UTC()
	in.ResponseDue = ResponseDue(in.Severity, in.DetectedAt)
	in.PersonalData, in.Drill = personal == 1, drill == 1
	if in.PersonalData {
		t := in.DetectedAt.Add(BreachNotice)
		in.NotifyBy = &t
	}
	in.StepsDone = []string{}
	if steps != "" {
		in.StepsDone = strings.Split(steps, ",")
	}
	if len(in.StepsDone) < len(Steps) {
		in.NextStep = Steps[len(in.StepsDone)]
	}
	in.FollowUps = []string{}
	if follow != "" {
		in.FollowUps = strings.Split(follow, "\n")
	}
	if closed != 0 {
		t := time.UnixMilli(closed).UTC()
		in.ClosedAt = &t
	}
	return in, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
