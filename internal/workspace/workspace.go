// Package workspace keeps workspaces, their members and roles, teams and
// inboxes, and the first-run setup that creates the first of each.
package workspace

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
	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/identity"
	"github.com/thunaivi/thunaivi/internal/store"
)

//go:embed queries.sql
var queryFiles embed.FS

type queries struct {
	InsertWorkspace      string
	WorkspaceByID        string
	CountWorkspaces      string
	InsertMember         string
	MemberRole           string
	ActiveRole           string
	SetMemberDisabled    string
	FirstMembership      string
	ListMembers          string
	InsertInbox          string
	InboxByWidgetToken   string
	InboxByID            string
	ListInboxes          string
	InsertInboxMember    string
	MemberInboxes        string
	InboxMemberIDs       string
	InsertInvitation     string
	InvitationByHash     string
	PendingInvitations   string
	DeleteInvitation     string
	DeleteInvitationsBy  string
	UseInvitation        string
	SetRole              string
	DeleteInboxMember    string
	ListWorkspaceIDs     string
	LockWorkspace        string
	CountAdmins          string
	DeleteMember         string
	DeleteMemberInboxes  string
	DeleteMemberTeams    string
	InsertTeam           string
	ListTeams            string
	TeamByID             string
	InsertTeamMember     string
	InsertSetupToken     string
	UseSetupToken        string
	ValidSetupToken      string
	DisconnectInbox      string
	SecuritySettings     string
	SetSecuritySettings  string
	SetAdminPath         string
	WorkspaceByAdminPath string
	WithoutAdminPath     string
}

// Workspace is one business's account: everything else belongs to one.
type Workspace struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Inbox receives the conversations of one connected channel.
type Inbox struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id"`
	Name        string `json:"name"`
	Channel     string `json:"channel"`
	// WidgetToken identifies a website-chat inbox to the public widget
	// endpoints. It is published in the site's pages, so it grants only what
	// any visitor may do: open a conversation and write in it.
	WidgetToken string `json:"widget_token,omitempty"`
	// Connected is false once an admin disconnected the inbox.
	Connected bool `json:"connected"`
}

// Member is a user's membership of a workspace.
type Member struct {
	UserID string      `json:"user_id"`
	Email  string      `json:"email"`
	Name   string      `json:"name"`
	Role   access.Role `json:"role"`
	// Disabled is set while an admin has disabled the member: they cannot
	// sign in, and hold no role.
	Disabled bool `json:"disabled"`
}

// Team groups members for assignment.
type Team struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ErrInvalid is wrapped by errors about input a person can correct.
var ErrInvalid = errors.New("invalid")

// widgetCacheTTL is how long a node trusts its copy of a widget token's inbox.
// Every widget request looks its token up, so the cache spares the database
// the most frequent query of a busy chat.
const widgetCacheTTL = 5 * time.Second

// Service manages workspaces, members, teams and inboxes.
type Service struct {
	db    *store.DB
	q     queries
	now   func() time.Time
	audit *audit.Log

	widgetCache sync.Map // token -> cachedInbox
}

type cachedInbox struct {
	inbox   Inbox
	expires time.Time
}

// New prepares the service; changes to members, roles, teams and inboxes are
// recorded in log.
func New(db *store.DB, now func() time.Time, log *audit.Log) (*Service, error) {
	s := &Service{db: db, now: now, audit: log}
	if err := db.LoadQueries(queryFiles, &s.q); err != nil {
		return nil, err
	}
	return s, nil
}

// Create adds a workspace inside the caller's transaction.
func (s *Service) Create(ctx context.Context, tx store.Querier, name string) (Workspace, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 || !utf8.ValidString(name) {
		return Workspace{}, fmt.Errorf("workspace: %w: a name of 1 to 100 characters is required",
			ErrInvalid)
	}
	w := Workspace{ID: store.NewID("ws"), Name: name, CreatedAt: s.now().UTC()}
	_, err := tx.ExecContext(ctx, s.q.InsertWorkspace, w.ID, w.Name, w.CreatedAt.UnixMilli())
	if err != nil {
		return Workspace{}, fmt.Errorf("workspace: create: %w", err)
	}
	return w, nil
}

// Get loads a workspace.
func (s *Service) Get(ctx context.Context, id string) (Workspace, error) {
	var w Workspace
	var created int64
	err := s.db.QueryRowContext(ctx, s.q.WorkspaceByID, id).Scan(&w.ID, &w.Name, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Workspace{}, store.ErrNotFound
	}
	w.CreatedAt = time.UnixMilli(created).UTC()
	return w, err
}

// IDs lists every workspace's id, oldest first.
func (s *Service) IDs(ctx context.Context) ([]string, error) {
	return store.Strings(ctx, s.db, s.q.ListWorkspaceIDs)
}

// Empty reports whether no workspace exists yet: the store awaits setup.
func (s *Service) Empty(ctx context.Context) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, s.q.CountWorkspaces).Scan(&n)
	return n == 0, err
}

// AddMember gives a user a role in a workspace.
func (s *Service) AddMember(
	ctx context.Context,
	tx store.Querier,
	wsID, userID string,
	role access.Role,
) error {
	if !role.Valid() {
		return fmt.Errorf("workspace: %w: unknown role %q", ErrInvalid, role)
	}
	_, err := tx.ExecContext(ctx, s.q.InsertMember, wsID, userID, string(role), s.now().UnixMilli())
	if err != nil {
		return fmt.Errorf("workspace: add member: %w", err)
	}
	return nil
}

// Role returns a user's role in a workspace, or store.ErrNotFound when the
// user is not a member. It is read on every request, so a role change takes
// effect at once.
func (s *Service) Role(ctx context.Context, wsID, userID string) (access.Role, error) {
	var role string
	err := s.db.QueryRowContext(ctx, s.q.ActiveRole, wsID, userID).Scan(&role)
	if errors.Is(err, sql.ErrNoRows) {
		return "", store.ErrNotFound
	}
	return access.Role(role), err
}

// FirstWorkspace returns the workspace a user joined first: where a sign-in
// lands.
func (s *Service) FirstWorkspace(ctx context.Context, userID string) (string, error) {
	var id string
	err := s.db.QueryRowContext(ctx, s.q.FirstMembership, userID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", store.ErrNotFound
	}
	return id, err
}

// Members lists a workspace's members.
func (s *Service) Members(ctx context.Context, wsID string) ([]Member, error) {
	rows, err := s.db.QueryContext(ctx, s.q.ListMembers, wsID)
	if err != nil {
		return nil, fmt.Errorf("workspace: list members: %w", err)
	}
	defer rows.Close()
	var out []Member
	for rows.Next() {
		var m Member
		if err := rows.Scan(&m.UserID, &m.Email, &m.Name, &m.Role, &m.Disabled); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// CreateInbox connects a website-chat inbox with a fresh widget token,
// inside the caller's transaction.
func (s *Service) CreateInbox(
	ctx context.Context,
	tx *store.Tx,
	wsID, name string,
) (Inbox, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return Inbox{}, fmt.Errorf(
			"workspace: %w: an inbox name of 1 to 100 characters is required",
			ErrInvalid,
		)
	}
	in := Inbox{ID: store.NewID("ib"), WorkspaceID: wsID, Name: name, Channel: "website",
		WidgetToken: newWidgetToken(), Connected: true}
	_, err := tx.ExecContext(ctx, s.q.InsertInbox, in.ID, wsID, in.Name, in.Channel,
		in.WidgetToken, s.now().UnixMilli())
	if err != nil {
		return Inbox{}, fmt.Errorf("workspace: create inbox: %w", err)
	}
	return in, s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
		Action: audit.ChannelConnected, TargetType: "inbox", TargetID: in.ID,
		Diff: audit.Diff{"name": {nil, in.Name}, "channel": {nil, in.Channel}}})
}

// AddInbox connects a website-chat inbox.
func (s *Service) AddInbox(ctx context.Context, wsID, name string) (Inbox, error) {
	var in Inbox
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		in, err = s.CreateInbox(ctx, tx, wsID, name)
		return err
	})
	return in, err
}

// DisconnectInbox stops an inbox taking conversations: its widget token is
// replaced by one nobody holds, so the old one stops working at once on this
// node and within widgetCacheTTL on others. Its conversations stay.
func (s *Service) DisconnectInbox(ctx context.Context, wsID, id string) error {
	var old Inbox
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if old, err = scanInbox(tx.QueryRowContext(ctx, s.q.InboxByID, wsID, id)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q.DisconnectInbox, s.now().UnixMilli(),
			newWidgetToken(), wsID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("workspace: %w: the inbox is disconnected already", ErrInvalid)
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.ChannelDisconnected, TargetType: "inbox", TargetID: id,
			Diff: audit.Diff{"connected": {true, false}, "widget_token": {nil, nil}}})
	})
	if err == nil {
		s.widgetCache.Delete(old.WidgetToken)
	}
	return err
}

func newWidgetToken() string { return "thv_wt_" + identity.RandomToken(24) }

// InboxByWidgetToken finds the inbox a widget token belongs to.
func (s *Service) InboxByWidgetToken(ctx context.Context, token string) (Inbox, error) {
	if !strings.HasPrefix(token, "thv_wt_") || len(token) > 64 {
		return Inbox{}, store.ErrNotFound
	}
	now := s.now()
	if c, ok := s.widgetCache.Load(token); ok && now.Before(c.(cachedInbox).expires) {
		return c.(cachedInbox).inbox, nil
	}
	in, err := scanInbox(s.db.QueryRowContext(ctx, s.q.InboxByWidgetToken, token))
	if err != nil {
		return Inbox{}, err
	}
	s.widgetCache.Store(token, cachedInbox{inbox: in, expires: now.Add(widgetCacheTTL)})
	return in, nil
}

// Inbox loads one inbox of a workspace.
func (s *Service) Inbox(ctx context.Context, wsID, id string) (Inbox, error) {
	return scanInbox(s.db.QueryRowContext(ctx, s.q.InboxByID, wsID, id))
}

func scanInbox(row interface{ Scan(...any) error }) (Inbox, error) {
	var in Inbox
	err := row.Scan(&in.ID, &in.WorkspaceID, &in.Name, &in.Channel, &in.WidgetToken,
		&in.Connected)
	if errors.Is(err, sql.ErrNoRows) {
		return Inbox{}, store.ErrNotFound
	}
	return in, err
}

// Inboxes lists a workspace's inboxes.
func (s *Service) Inboxes(ctx context.Context, wsID string) ([]Inbox, error) {
	rows, err := s.db.QueryContext(ctx, s.q.ListInboxes, wsID)
	if err != nil {
		return nil, fmt.Errorf("workspace: list inboxes: %w", err)
	}
	defer rows.Close()
	var out []Inbox
	for rows.Next() {
		in, err := scanInbox(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// AddInboxMember lets a member work the conversations of an inbox.
func (s *Service) AddInboxMember(
	ctx context.Context,
	tx store.Querier,
	wsID, inboxID, userID string,
) error {
	_, err := tx.ExecContext(ctx, s.q.InsertInboxMember, wsID, inboxID, userID)
	if err != nil {
		return fmt.Errorf("workspace: add inbox member: %w", err)
	}
	return nil
}

// MemberInboxes lists the ids of the inboxes a member belongs to.
func (s *Service) MemberInboxes(ctx context.Context, wsID, userID string) ([]string, error) {
	ids, err := store.Strings(ctx, s.db, s.q.MemberInboxes, wsID, userID)
	if err != nil {
		return nil, fmt.Errorf("workspace: member inboxes: %w", err)
	}
	return ids, nil
}

// Assignable lists the members who may work an inbox's conversations: its
// own members, and managers and admins, who see every inbox.
func (s *Service) Assignable(ctx context.Context, wsID, inboxID string) ([]Member, error) {
	all, err := s.Members(ctx, wsID)
	if err != nil {
		return nil, err
	}
	ids, err := store.Strings(ctx, s.db, s.q.InboxMemberIDs, wsID, inboxID)
	if err != nil {
		return nil, fmt.Errorf("workspace: inbox members: %w", err)
	}
	out := all[:0]
	for _, m := range all {
		if slices.Contains(ids, m.UserID) || access.Allowed(m.Role, access.ConversationsAll) {
			out = append(out, m)
		}
	}
	return out, nil
}

// CreateTeam adds a team.
func (s *Service) CreateTeam(ctx context.Context, wsID, name string) (Team, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return Team{}, fmt.Errorf("workspace: %w: a team name of 1 to 100 characters is required",
			ErrInvalid)
	}
	t := Team{ID: store.NewID("tm"), Name: name}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, s.q.InsertTeam, t.ID, wsID, t.Name, s.now().UnixMilli())
		if err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.TeamCreated, TargetType: "team", TargetID: t.ID,
			Diff: audit.Diff{"name": {nil, t.Name}}})
	})
	if store.IsUniqueViolation(err) {
		return Team{}, fmt.Errorf("workspace: %w: a team with that name exists", ErrInvalid)
	}
	return t, err
}

// Teams lists a workspace's teams.
func (s *Service) Teams(ctx context.Context, wsID string) ([]Team, error) {
	rows, err := s.db.QueryContext(ctx, s.q.ListTeams, wsID)
	if err != nil {
		return nil, fmt.Errorf("workspace: list teams: %w", err)
	}
	defer rows.Close()
	var out []Team
	for rows.Next() {
		var t Team
		if err := rows.Scan(&t.ID, &t.Name); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Team loads one team of a workspace.
func (s *Service) Team(ctx context.Context, wsID, id string) (Team, error) {
	var t Team
	err := s.db.QueryRowContext(ctx, s.q.TeamByID, wsID, id).Scan(&t.ID, &t.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return Team{}, store.ErrNotFound
	}
	return t, err
}

// AddTeamMember puts a member in a team; both must belong to the workspace.
func (s *Service) AddTeamMember(ctx context.Context, wsID, teamID, userID string) error {
	if _, err := s.Team(ctx, wsID, teamID); err != nil {
		return err
	}
	if _, err := s.Role(ctx, wsID, userID); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q.InsertTeamMember, wsID, teamID,
			userID); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.TeamMemberAdded, TargetType: "user", TargetID: userID,
			Diff: audit.Diff{"team_id": {nil, teamID}}})
	})
}
