package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/origin"
	"github.com/thunaivi/thunaivi/internal/store"
)

//go:embed queries.sql
var queryFiles embed.FS

type queries struct {
	InsertUser              string
	UserByEmail             string
	UserByID                string
	InsertSession           string
	SessionByHash           string
	DeleteSession           string
	DeleteSessionsIn        string
	HomeWorkspace           string
	TouchSession            string
	UserSessions            string
	DeleteSessionByID       string
	DeleteWorkspaceSessions string
	DeleteOtherSessions     string
	SteppedUp               string
	DeleteUserSessions      string
	SetPasswordHash         string
	CountFailedLogin        string
	LockUser                string
	ClearFailedLogins       string
	UnlockUser              string
	SessionUsersFrom        string
	UserWorkspaces          string
	TOTPOf                  string
	PutPendingTOTP          string
	EnableTOTP              string
	UseTOTPStep             string
	DeleteTOTP              string
	InsertRecoveryCode      string
	UseRecoveryCode         string
	DeleteRecoveryCodes     string
	InsertEmailToken        string
	UseEmailToken           string
	DeleteEmailTokens       string
	SetEmailVerified        string
	SetEmail                string
	EmailVerified           string
	RotateToken             string
}

// SessionTTL is how long a session lasts after sign-in, however busy.
const SessionTTL = 12 * time.Hour

// touchEvery is how stale a session's last use may get before a request
// records it again: the idle timeout needs minutes, not every request's
// write.
const touchEvery = time.Minute

// ErrBadCredentials is returned for an unknown email or a wrong password alike,
// so that a sign-in attempt does not reveal which accounts exist.
var ErrBadCredentials = errors.New("identity: wrong email or password")

// ErrInvalidName is wrapped by the error about a name that cannot be shown
// safely.
var ErrInvalidName = errors.New("invalid")

// validName reports whether a person's name is short, valid text with no
// control or text-direction characters that could disguise it.
func validName(name string) bool {
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > 100 {
		return false
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return false
		}
	}
	return true
}

// ErrEmailTaken is returned when a user with the email already exists.
var ErrEmailTaken = errors.New("identity: email already in use")

// User is a person who signs in to the console.
type User struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

// Session is a signed-in user's server-side session in one workspace. ID
// names it to its owner; the token that opens it is never stored.
type Session struct {
	ID          string    `json:"id"`
	UserID      string    `json:"-"`
	WorkspaceID string    `json:"-"`
	Email       string    `json:"-"`
	Name        string    `json:"-"`
	CreatedAt   time.Time `json:"created_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	LastSeenAt  time.Time `json:"last_seen_at"`
	IP          string    `json:"ip"`
	UserAgent   string    `json:"user_agent"`
	// Current marks the session a listing was asked from.
	Current bool `json:"current"`
	// TwoFactor is set when the session's user has turned on TOTP.
	TwoFactor bool `json:"-"`
	// AuthAt is when its holder last gave their password and code: at sign-in,
	// or at a step-up.
	AuthAt time.Time `json:"-"`
	// AdminRoute is set on a session started at the workspace's admin
	// sign-in, under its secret path: only such a session may do what only
	// admins may.
	AdminRoute bool `json:"admin_route"`
	// EmailVerified is set when the user proved their address is theirs.
	EmailVerified bool `json:"-"`
}

func scanSession(row interface{ Scan(...any) error }) (Session, error) {
	var ss Session
	var created, exp, seen, auth int64
	err := row.Scan(&ss.ID, &ss.UserID, &ss.WorkspaceID, &created, &exp, &seen, &ss.IP,
		&ss.UserAgent, &ss.Email, &ss.Name, &ss.TwoFactor, &auth, &ss.AdminRoute,
		&ss.EmailVerified)
	ss.AuthAt = time.UnixMilli(auth).UTC()
	ss.CreatedAt, ss.ExpiresAt = time.UnixMilli(created).UTC(), time.UnixMilli(exp).UTC()
	ss.LastSeenAt = time.UnixMilli(seen).UTC()
	return ss, err
}

// Service manages users and sessions.
type Service struct {
	db        *store.DB
	q         queries
	now       func() time.Time
	audit     *audit.Log
	dummyHash string
	// Secrets seals second-factor secrets at rest, under a key kept outside
	// the database.
	Secrets Sealer
	// Breaches, when set, checks new passwords against a breach corpus
	// online. When it cannot answer, the password is judged by the shipped
	// list alone, and the lookup's failure is returned through BreachErrors.
	Breaches *BreachCheck
	// BreachErrors, when set, is told of a lookup that failed.
	BreachErrors func(error)
	// RuleRevoked, when set, is told when a rule ended all of a user's
	// sessions, with the user's workspaces and the rule's reason, so that the
	// user and the workspaces' admins are alerted.
	RuleRevoked func(ctx context.Context, userID string, workspaces []string, reason string)
	// RevokeAfterCodeFailures, when not 0, ends all of a user's sessions
	// once that many second-factor codes fail within codeFailureWindow:
	// someone holds the password and is guessing the code.
	RevokeAfterCodeFailures int

	failuresMu   sync.Mutex
	codeFailures map[string][]time.Time
}

// New prepares the service; now is the clock every expiry is measured
// against, and sign-ins, sign-outs and revoked sessions are recorded in log.
func New(db *store.DB, now func() time.Time, log *audit.Log) (*Service, error) {
	s := &Service{db: db, now: now, audit: log, dummyHash: HashPassword("not a real password")}
	if err := db.LoadQueries(queryFiles, &s.q); err != nil {
		return nil, err
	}
	return s, nil
}

// NormalizeEmail validates an address and returns it lower-cased.
func NormalizeEmail(s string) (string, error) {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil || a.Name != "" || len(a.Address) > 254 {
		return "", errors.New("identity: not a valid email address")
	}
	return strings.ToLower(a.Address), nil
}

// CleanEmail is NormalizeEmail for an address about to be stored: it must
// be one plain address of printable ASCII, without quotes, as given. The
// parser would turn "a>,<b"@x.example into text that is no one address, and
// a right-to-left mark makes an address read as another's. Lookups, such as
// a sign-in's, take NormalizeEmail's wider forms, so that "<ann@x.example>"
// still counts against ann@x.example's account.
func CleanEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	norm, err := NormalizeEmail(s)
	if err != nil || !strings.EqualFold(norm, s) ||
		strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r > '~' || r == '"' }) {
		return "", errors.New("identity: not a valid email address")
	}
	return norm, nil
}

// CreateUser adds a user with a password that passes CheckPassword, inside the
// caller's transaction; avoid are further words the password may not be
// built from, such as the workspace's name.
func (s *Service) CreateUser(
	ctx context.Context,
	tx store.Querier,
	email, name, password string,
	avoid ...string,
) (User, error) {
	email, err := CleanEmail(email)
	if err != nil {
		return User{}, err
	}
	if err := CheckPassword(password, append(avoid, email, name)...); err != nil {
		return User{}, err
	}
	if err := s.checkBreached(ctx, password); err != nil {
		return User{}, err
	}
	u := User{ID: store.NewID("us"), Email: email, Name: strings.TrimSpace(name)}
	if !validName(u.Name) {
		return User{}, fmt.Errorf("identity: %w: a name has at most 100 characters and no "+
			"control characters", ErrInvalidName)
	}
	_, err = tx.ExecContext(ctx, s.q.InsertUser, u.ID, u.Email, u.Name,
		HashPassword(password), s.now().UnixMilli())
	if store.IsUniqueViolation(err) {
		return User{}, ErrEmailTaken
	}
	if err != nil {
		return User{}, fmt.Errorf("identity: create user: %w", err)
	}
	return u, nil
}

// checkBreached refuses a password the online corpus knows, when one is
// configured and answers.
func (s *Service) checkBreached(ctx context.Context, password string) error {
	if s.Breaches == nil {
		return nil
	}
	breached, err := s.Breaches.Breached(ctx, password)
	if err != nil {
		if s.BreachErrors != nil {
			s.BreachErrors(err)
		}
		return nil
	}
	if breached {
		return fmt.Errorf("%w: it appears in known data breaches, so attackers try it",
			ErrWeakPassword)
	}
	return nil
}

// UserIDByEmail returns the id of the user with an address, inside the
// caller's transaction; store.ErrNotFound when none has it.
func (s *Service) UserIDByEmail(ctx context.Context, q store.Querier, email string) (string,
	error) {
	norm, err := NormalizeEmail(email)
	if err != nil {
		return "", store.ErrNotFound
	}
	var u User
	var hash string
	var locked bool
	err = q.QueryRowContext(ctx, s.q.UserByEmail, norm).Scan(&u.ID, &u.Email, &u.Name, &hash,
		&locked)
	if errors.Is(err, sql.ErrNoRows) {
		return "", store.ErrNotFound
	}
	return u.ID, err
}

// User loads a user by id.
func (s *Service) User(ctx context.Context, id string) (User, error) {
	var u User
	var hash string
	err := s.db.QueryRowContext(ctx, s.q.UserByID, id).Scan(&u.ID, &u.Email, &u.Name, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, store.ErrNotFound
	}
	return u, err
}

// Authenticate checks an email and password. An unknown email costs the same
// hashing work as a wrong password. A refused attempt is audited: against the
// account when one has the email, in its first workspace, and otherwise with
// the email masked, since people type passwords into the email field.
func (s *Service) Authenticate(ctx context.Context, email, password string) (User, error) {
	u, err := s.CheckPassword(ctx, s.db, email, password)
	switch {
	case errors.Is(err, store.ErrNotFound):
		norm, _ := NormalizeEmail(email)
		return User{}, s.refused(ctx, User{Email: MaskEmail(norm)}, "unknown account")
	case errors.Is(err, errLocked):
		return User{}, s.refused(ctx, u, "account locked")
	case errors.Is(err, ErrBadCredentials):
		if err := s.countFailure(ctx, u); err != nil {
			return User{}, err
		}
		return User{}, s.refused(ctx, u, "wrong password")
	case err == nil:
		if _, err := s.db.ExecContext(ctx, s.q.ClearFailedLogins, u.ID); err != nil {
			return User{}, fmt.Errorf("identity: clear failures: %w", err)
		}
	}
	return u, err
}

// MaxFailedLogins is how many failed sign-ins in a row lock an account, the
// most NIST SP 800-63B allows; the per-account backoff makes reaching it take
// about a day.
const MaxFailedLogins = 100

// ErrNotLocked is returned when unlocking an account that is not locked.
var ErrNotLocked = errors.New("identity: the account is not locked")

// errLocked refuses a locked account exactly as a wrong password would.
var errLocked = fmt.Errorf("%w (locked)", ErrBadCredentials)

// countFailure counts a wrong password and locks the account at the cap.
func (s *Service) countFailure(ctx context.Context, u User) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.q.CountFailedLogin, u.ID).Scan(&n); err != nil {
			return err
		}
		if n < MaxFailedLogins {
			return nil
		}
		if _, err := tx.ExecContext(ctx, s.q.LockUser, s.now().UnixMilli(), u.ID); err != nil {
			return err
		}
		var ws string
		err := tx.QueryRowContext(ctx, s.q.HomeWorkspace, u.ID).Scan(&ws)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		actor := origin.Actor{Type: origin.System}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: ws, Action: audit.UserLocked,
			Actor:      &actor,
			TargetType: "user", TargetID: u.ID,
			Reason: fmt.Sprintf("%d failed sign-ins in a row", n)})
	})
}

// Unlock lets a locked account sign in again, as an admin of wsID decides.
func (s *Service) Unlock(ctx context.Context, userID, wsID string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, s.q.UnlockUser, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrNotLocked
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.UserUnlocked, TargetType: "user", TargetID: userID})
	})
}

// CheckPassword checks an email and password inside the caller's
// transaction, without auditing: store.ErrNotFound when no account has the
// email, ErrBadCredentials (with the account) for a wrong password. An
// unknown email costs the same hashing work as a wrong password. The caller
// records a refusal with Refused once its transaction has ended.
func (s *Service) CheckPassword(ctx context.Context, q store.Querier, email,
	password string) (User, error) {
	var u User
	var hash string
	norm, err := NormalizeEmail(email)
	if err != nil {
		return User{}, store.ErrNotFound
	}
	var locked bool
	err = q.QueryRowContext(ctx, s.q.UserByEmail, norm).Scan(&u.ID, &u.Email, &u.Name, &hash,
		&locked)
	if errors.Is(err, sql.ErrNoRows) {
		VerifyPassword(s.dummyHash, password)
		return User{}, store.ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("identity: load user: %w", err)
	}
	right := VerifyPassword(hash, password) // the same work whether locked or not
	if locked {
		return u, errLocked
	}
	if !right {
		return u, ErrBadCredentials
	}
	if outdated(hash) {
		// The settings rose since this hash was made: the password is at
		// hand, so store it as today's settings would.
		if _, err := q.ExecContext(ctx, s.q.SetPasswordHash, HashPassword(password),
			u.ID); err != nil {
			return User{}, fmt.Errorf("identity: rehash password: %w", err)
		}
	}
	return u, nil
}

// Refused audits a refused password for email, outside any transaction, and
// returns ErrBadCredentials.
func (s *Service) Refused(ctx context.Context, email, reason string) error {
	var u User
	var hash string
	norm, _ := NormalizeEmail(email)
	var locked bool
	err := s.db.QueryRowContext(ctx, s.q.UserByEmail, norm).Scan(&u.ID, &u.Email, &u.Name, &hash,
		&locked)
	if err != nil {
		u = User{Email: MaskEmail(norm)}
	}
	return s.refused(ctx, u, reason)
}

// refused audits a refused sign-in and returns ErrBadCredentials, or the
// audit error: a sign-in attempt the log cannot hold is not answered as if
// it could.
func (s *Service) refused(ctx context.Context, u User, reason string) error {
	actor := origin.Actor{Type: origin.Anonymous, Email: u.Email}
	var ws string
	if u.ID != "" {
		actor = origin.Actor{Type: origin.User, ID: u.ID, Email: u.Email}
		err := s.db.QueryRowContext(ctx, s.q.HomeWorkspace, u.ID).Scan(&ws)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("identity: load workspace: %w", err)
		}
	}
	err := s.audit.Write(ctx, audit.Event{Workspace: ws, Action: audit.LoginFailed,
		TargetType: "user", TargetID: u.ID, Outcome: audit.Failure, Reason: reason,
		Actor: &actor})
	if err != nil {
		return err
	}
	return ErrBadCredentials
}

// MaskEmail keeps an address's first character and its domain, for records
// of addresses that belong to no account. People type passwords into the
// email field, so text whose domain is not a plain host name is dropped
// whole: "MyP@ssw0rd!" must not survive as "M***@ssw0rd!".
func MaskEmail(email string) string {
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || !HostName(domain) {
		return ""
	}
	r, _ := utf8.DecodeRuneInString(local)
	return string(r) + "***@" + domain
}

// HostName reports whether s looks like a DNS name with a dot: lower-case
// letters, digits and hyphens between dots.
func HostName(s string) bool {
	if !strings.Contains(s, ".") || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// StartSession creates a session and returns its token, which only the
// client keeps; the database holds its SHA-256 hash. The sign-in is audited
// in the same transaction.
func (s *Service) StartSession(ctx context.Context, userID, workspaceID string) (string, error) {
	return s.startSession(ctx, userID, workspaceID, false)
}

// StartAdminSession is StartSession for the admin sign-in: the session may
// do what only admins may, as long as its user is an admin.
func (s *Service) StartAdminSession(ctx context.Context, userID, workspaceID string) (string,
	error) {
	return s.startSession(ctx, userID, workspaceID, true)
}

func (s *Service) startSession(ctx context.Context, userID, workspaceID string,
	admin bool) (string, error) {
	token := RandomToken(32)
	now := s.now()
	route := 0
	if admin {
		route = 1
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var u User
		var hash string
		if err := tx.QueryRowContext(ctx, s.q.UserByID, userID).
			Scan(&u.ID, &u.Email, &u.Name, &hash); err != nil {
			return err
		}
		req := origin.RequestFrom(ctx)
		if _, err := tx.ExecContext(ctx, s.q.InsertSession, HashToken(token),
			store.NewID("se"), userID, workspaceID, now.UnixMilli(),
			now.Add(SessionTTL).UnixMilli(), now.UnixMilli(), req.IP,
			clipText(req.UserAgent, 256), now.UnixMilli(), route); err != nil {
			return err
		}
		actor := origin.Actor{Type: origin.User, ID: u.ID, Email: u.Email}
		ev := audit.Event{Workspace: workspaceID, Action: audit.LoginSucceeded,
			TargetType: "user", TargetID: userID, Actor: &actor}
		if admin {
			ev.Reason = "at the admin sign-in"
		}
		return s.audit.Record(ctx, tx, ev)
	})
	if err != nil {
		return "", fmt.Errorf("identity: start session: %w", err)
	}
	return token, nil
}

// SessionByToken returns the live session a token names: one neither past
// its absolute end nor idle for longer than idle says for it (nil or 0: no
// idle limit). An idle session is ended and audited; a live one records its
// use.
func (s *Service) SessionByToken(ctx context.Context, token string,
	idleFor func(Session) (time.Duration, error)) (Session, error) {
	if token == "" || len(token) > 128 {
		return Session{}, store.ErrNotFound
	}
	ss, err := scanSession(s.db.QueryRowContext(ctx, s.q.SessionByHash, HashToken(token)))
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, store.ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("identity: load session: %w", err)
	}
	now := s.now()
	if !now.Before(ss.ExpiresAt) {
		return Session{}, store.ErrNotFound
	}
	var idle time.Duration
	if idleFor != nil {
		if idle, err = idleFor(ss); err != nil {
			return Session{}, err
		}
	}
	if idle > 0 && now.Sub(ss.LastSeenAt) > idle {
		err := s.db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, s.q.DeleteSession, HashToken(token)); err != nil {
				return err
			}
			actor := origin.Actor{Type: origin.System}
			return s.audit.Record(ctx, tx, audit.Event{Workspace: ss.WorkspaceID,
				Action: audit.SessionRevoked, TargetType: "user", TargetID: ss.UserID,
				Reason: "idle for " + idle.String(), Actor: &actor,
				Diff: audit.Diff{"session_id": {ss.ID, nil}}})
		})
		if err != nil {
			return Session{}, err
		}
		return Session{}, store.ErrNotFound
	}
	if now.Sub(ss.LastSeenAt) > touchEvery {
		if _, err := s.db.ExecContext(ctx, s.q.TouchSession, now.UnixMilli(),
			HashToken(token)); err != nil {
			return Session{}, fmt.Errorf("identity: touch session: %w", err)
		}
	}
	return ss, nil
}

// Sessions lists a user's live sessions in a workspace, most recently used
// first, marking the one token opens.
func (s *Service) Sessions(ctx context.Context, userID, wsID, token string) ([]Session,
	error) {
	current := ""
	if ss, err := scanSession(s.db.QueryRowContext(ctx, s.q.SessionByHash,
		HashToken(token))); err == nil {
		current = ss.ID
	}
	list, err := store.Collect(ctx, s.db, s.q.UserSessions,
		func(rows *sql.Rows) (Session, error) { return scanSession(rows) },
		userID, wsID, s.now().UnixMilli())
	for i := range list {
		list[i].Current = list[i].ID == current
	}
	return list, err
}

// reauthenticate checks the password and, with TOTP on, a code again, for
// actions that ask for both however recent the sign-in.
func (s *Service) reauthenticate(ctx context.Context, userID, wsID, email, password,
	code string) error {
	if _, err := s.Authenticate(ctx, email, password); err != nil {
		return err
	}
	return s.CheckSecondFactor(ctx, userID, wsID, code)
}

// StepUp records that a session's holder gave their password and, with
// TOTP on, a code again, as sensitive actions ask.
func (s *Service) StepUp(ctx context.Context, token, userID, wsID, email, password,
	code string) error {
	if err := s.reauthenticate(ctx, userID, wsID, email, password, code); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q.SteppedUp, s.now().UnixMilli(),
			HashToken(token)); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID, Action: audit.SteppedUp,
			TargetType: "user", TargetID: userID})
	})
}

// RotateToken gives the session token opens a new token, as after its
// holder authenticated again, and returns it: the old token stops working,
// so one seen before the re-authentication is worth nothing after it.
func (s *Service) RotateToken(ctx context.Context, token string) (string, error) {
	next := RandomToken(32)
	res, err := s.db.ExecContext(ctx, s.q.RotateToken, HashToken(next), HashToken(token))
	if err != nil {
		return "", fmt.Errorf("identity: rotate session token: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return "", store.ErrNotFound
	}
	return next, nil
}

// EndSessionByID ends one of a user's sessions in a workspace, by its public
// id, and audits it.
func (s *Service) EndSessionByID(ctx context.Context, userID, wsID, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, s.q.DeleteSessionByID, id, userID, wsID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return store.ErrNotFound
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.SessionRevoked, TargetType: "user", TargetID: userID,
			Reason: "ended by hand", Diff: audit.Diff{"session_id": {id, nil}}})
	})
}

// EndMemberSessions ends all of a user's sessions in a workspace, outside
// any caller's transaction, and audits it with the reason.
func (s *Service) EndMemberSessions(ctx context.Context, userID, wsID, reason string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		return s.EndSessionsIn(ctx, tx, userID, wsID, reason)
	})
}

// EndUserSessions ends all of a user's sessions, in every workspace, as a
// rule does when one looks stolen, and audits it in each of their workspaces.
func (s *Service) EndUserSessions(ctx context.Context, userID, reason string) error {
	var wss []string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		wss, err = store.Strings(ctx, tx, s.q.UserWorkspaces, userID)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q.DeleteUserSessions, userID)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		actor := origin.Actor{Type: origin.System}
		for _, ws := range wss {
			if err := s.audit.Record(ctx, tx, audit.Event{Workspace: ws, Actor: &actor,
				Action: audit.SessionRevoked, TargetType: "user", TargetID: userID,
				Reason: reason, Diff: audit.Diff{"sessions": {n, 0}}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && s.RuleRevoked != nil {
		s.RuleRevoked(ctx, userID, wss, reason)
	}
	return err
}

// UsersWithSessionsFrom lists the users with a session started from ip.
func (s *Service) UsersWithSessionsFrom(ctx context.Context, ip string) ([]string, error) {
	return store.Strings(ctx, s.db, s.q.SessionUsersFrom, ip)
}

// EndWorkspaceSessions ends every session in a workspace but the one
// keepToken opens, as an admin does under attack, and audits it.
func (s *Service) EndWorkspaceSessions(ctx context.Context, wsID, keepToken string) (int64,
	error) {
	var n int64
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, s.q.DeleteWorkspaceSessions, wsID, HashToken(keepToken))
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.SessionRevoked, TargetType: "workspace", TargetID: wsID,
			Reason: "every session ended by an admin", Diff: audit.Diff{"sessions": {n, 0}}})
	})
	return n, err
}

// clipText keeps at most n bytes of valid UTF-8.
func clipText(v string, n int) string {
	v = strings.ToValidUTF8(v, "")
	if len(v) <= n {
		return v
	}
	for n > 0 && !utf8.RuneStart(v[n]) {
		n--
	}
	return v[:n]
}

// EndSession deletes a session, as its owner signs out, and audits it.
func (s *Service) EndSession(ctx context.Context, token string) error {
	ss, err := s.SessionByToken(ctx, token, nil)
	if err != nil {
		return err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q.DeleteSession, HashToken(token)); err != nil {
			return err
		}
		actor := origin.Actor{Type: origin.User, ID: ss.UserID, Email: ss.Email}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: ss.WorkspaceID,
			Action: audit.LoggedOut, TargetType: "user", TargetID: ss.UserID, Actor: &actor})
	})
	if err != nil {
		// Signing out must not depend on the log: a session left alive is
		// the greater risk. The caller reports the audit failure.
		if _, derr := s.db.ExecContext(ctx, s.q.DeleteSession, HashToken(token)); derr != nil {
			return errors.Join(err, derr)
		}
	}
	return err
}

// EndSessionsIn ends a user's sessions in one workspace, inside the caller's
// transaction, and audits it with the reason.
func (s *Service) EndSessionsIn(ctx context.Context, tx *store.Tx, userID, wsID,
	reason string) error {
	res, err := tx.ExecContext(ctx, s.q.DeleteSessionsIn, userID, wsID)
	if err != nil {
		return err
	}
	n, _ := res.RowsAffected()
	return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID, Action: audit.SessionRevoked,
		TargetType: "user", TargetID: userID, Reason: reason,
		Diff: audit.Diff{"sessions": {n, 0}}})
}

// RandomToken returns n random bytes, URL-safe base64 encoded.
func RandomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken returns the hex SHA-256 of a high-entropy token. Tokens carry 256
// random bits, so a fast hash is enough to keep a stolen database from
// yielding usable tokens.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// TokenMatches reports, in constant time, whether token hashes to hash.
func TokenMatches(hash, token string) bool {
	return subtle.ConstantTimeCompare([]byte(hash), []byte(HashToken(token))) == 1
}
