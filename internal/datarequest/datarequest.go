// Package datarequest carries out data-subject requests: a customer asks for
// a copy of their data (access, portability) or for its deletion. The
// requester proves control of the contact (the signed widget identity, or a
// link mailed to the contact's address), a manager or admin approves, and the
// product exports and deletes, and signs a receipt of what it removed. Each
// request is due 30 days after it was made.
package datarequest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/erase"
	"github.com/thunaivi/thunaivi/internal/store"
)

//go:embed queries.sql
var queryFiles embed.FS

type queries struct {
	Insert                 string
	ByID                   string
	List                   string
	SetVerified            string
	SetDecided             string
	Due                    string
	SetReminded            string
	SetOverdue             string
	Contact                string
	ContactConversations   string
	ConversationMessages   string
	ConversationFiles      string
	HeldFor                string
	DeleteContact          string
	InsertExport           string
	Export                 string
	PruneExports           string
	InboxDisconnected      string
	InboxConversations     string
	DeleteOrphanContact    string
	ContactsByExternal     string
	OpenFor                string
	RatingOf               string
	SameAddress            string
	ContactConversationIDs string
	AnyOpen                string
	ContactExists          string
	ContactsByEmail        string
	Subjects               string
	DeleteContactExports   string
	ExportKept             string
	FiledForAddress        string
	UnconfirmedForAddress  string
	Supersede              string
}

// Kinds of request.
const (
	Access      = "access"
	Portability = "portability"
	Deletion    = "deletion"
)

// Sources a request comes from.
const (
	FromWidget = "widget"
	FromEmail  = "email"
	FromAgent  = "agent"
	// FromMeta is Meta's data-deletion callback, which Meta signs for a
	// person who asked it.
	FromMeta = "meta"
)

// ByEmailLink is how a request is verified when its requester opened the
// link mailed to the contact's address: they hold that address.
const ByEmailLink = "email link"

// States of a request.
const (
	AwaitingVerification = "awaiting_verification"
	AwaitingApproval     = "awaiting_approval"
	Completed            = "completed"
	Rejected             = "rejected"
)

// DueAfter is how long the workspace has to complete a request.
const DueAfter = 30 * 24 * time.Hour

// ExportFor is how long an export waits for its requester.
const ExportFor = 7 * 24 * time.Hour

// Errors.
var (
	ErrInvalid = errors.New("invalid")
	// ErrState is returned for a step the request is not ready for.
	ErrState = errors.New("datarequest: the request is not at that step")
	// ErrFrozen is an export asked for while the workspace's exports are
	// frozen.
	ErrFrozen = errors.New("datarequest: exports are frozen during an incident; " +
		"an admin thaws them when it is over")
	// ErrHeld is returned when a legal hold keeps the contact's data.
	ErrHeld = errors.New("datarequest: a legal hold keeps this contact's data; " +
		"lift it first")
	// ErrOpen is returned for a second request about a contact while one
	// is open: the first stands, and its requester has its link.
	ErrOpen = errors.New("datarequest: a request about this contact is already open")
)

// Request is one data-subject request.
type Request struct {
	ID         string     `json:"id"`
	ContactID  string     `json:"contact_id"`
	Kinds      []string   `json:"kinds"`
	Source     string     `json:"source"`
	State      string     `json:"state"`
	VerifiedBy string     `json:"verified_by,omitempty"`
	FiledBy    string     `json:"filed_by"`
	CreatedAt  time.Time  `json:"created_at"`
	DueAt      time.Time  `json:"due_at"`
	VerifiedAt *time.Time `json:"verified_at,omitempty"`
	DecidedBy  string     `json:"decided_by,omitempty"`
	DecidedAt  *time.Time `json:"decided_at,omitempty"`
	Note       string     `json:"note,omitempty"`
	// Receipt is the signed deletion receipt, once the request is done.
	Receipt   *Receipt `json:"receipt,omitempty"`
	tokenHash string
	// address is the address the mailed link confirmed, in lower case.
	address string
}

// Overdue reports whether the request is still open past its due date.
func (r Request) Overdue(now time.Time) bool {
	return (r.State == AwaitingVerification || r.State == AwaitingApproval) &&
		now.After(r.DueAt)
}

// Service files and carries out requests.
type Service struct {
	db    *store.DB
	q     queries
	now   func() time.Time
	audit *audit.Log
	sign  ed25519.PrivateKey
	// eraser deletes conversations as the retention purge does.
	eraser *erase.Eraser
	// Seal and Open protect an export at rest.
	Seal func([]byte) (string, error)
	Open func(string) ([]byte, error)
	// Frozen, when set, reports whether a workspace's exports are frozen, as
	// in an incident: no export leaves the product until they thaw.
	Frozen func(ctx context.Context, wsID string) bool
}

// New prepares the service; sign signs deletion receipts.
func New(db *store.DB, now func() time.Time, log *audit.Log,
	sign ed25519.PrivateKey) (*Service, error) {
	s := &Service{db: db, now: now, audit: log, sign: sign}
	if err := db.LoadQueries(queryFiles, &s.q); err != nil {
		return nil, err
	}
	var err error
	if s.eraser, err = erase.New(db); err != nil {
		return nil, err
	}
	return s, nil
}

// ReceiptKey is the public key deletion receipts are signed with.
func (s *Service) ReceiptKey() ed25519.PublicKey {
	return s.sign.Public().(ed25519.PublicKey)
}

// Filing is a new request.
type Filing struct {
	ContactID string
	Kinds     []string
	Source    string
	// FiledBy is the member who filed it, or "customer" for the widget.
	FiledBy string
}

// File records a request and returns it with the requester's token, which
// the requester follows it with. A request from the widget is verified by the
// widget identity that made it; any other waits for the requester to open the
// link mailed to the contact's address.
func (s *Service) File(ctx context.Context, wsID string, f Filing) (Request, string, error) {
	kinds, err := checkKinds(f.Kinds)
	if err != nil {
		return Request{}, "", err
	}
	switch f.Source {
	case FromWidget, FromEmail, FromAgent, FromMeta:
	default:
		return Request{}, "", fmt.Errorf("datarequest: %w: the source is widget, email or "+
			"agent", ErrInvalid)
	}
	var name, email string
	var created int64
	err = s.db.QueryRowContext(ctx, s.q.Contact, wsID, f.ContactID).Scan(&name, &email,
		&created)
	if errors.Is(err, sql.ErrNoRows) || !plain(f.ContactID) {
		return Request{}, "", store.ErrNotFound
	}
	if err != nil {
		return Request{}, "", err
	}
	if (f.Source == FromEmail || f.Source == FromAgent) && email == "" {
		return Request{}, "", fmt.Errorf("datarequest: %w: the contact has no address to "+
			"verify the request with; ask them to make it from the chat", ErrInvalid)
	}
	// One open request a contact, so that nobody floods the team with them;
	// except that a request Meta signed stands beside any other: Meta takes
	// any answer but a confirmation for a failure, and sends it again.
	// OpenRequest keeps Meta's own from being filed twice.
	var open int
	if err := s.db.QueryRowContext(ctx, s.q.AnyOpen, wsID, f.ContactID).Scan(&open); err != nil {
		return Request{}, "", err
	}
	if open > 0 && f.Source != FromMeta {
		return Request{}, "", ErrOpen
	}
	token := randomToken()
	now := s.now().UTC().Truncate(time.Millisecond)
	r := Request{ID: store.NewID("dr"), ContactID: f.ContactID, Kinds: kinds,
		Source: f.Source, State: AwaitingVerification, FiledBy: f.FiledBy, CreatedAt: now,
		DueAt: now.Add(DueAfter)}
	var verifiedAt int64
	switch f.Source {
	case FromWidget:
		r.State, r.VerifiedBy, r.VerifiedAt = AwaitingApproval, "widget identity", &now
	case FromMeta:
		r.State, r.VerifiedBy, r.VerifiedAt = AwaitingApproval, "Meta signed request", &now
	}
	if r.VerifiedAt != nil {
		verifiedAt = now.UnixMilli()
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q.Insert, wsID, r.ID, r.ContactID,
			strings.Join(kinds, ","), r.Source, r.State, hash(token), r.VerifiedBy, r.FiledBy,
			now.UnixMilli(), r.DueAt.UnixMilli(), verifiedAt); err != nil {
			return fmt.Errorf("datarequest: insert: %w", err)
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.DataRequestFiled, TargetType: "data_request", TargetID: r.ID,
			Diff: audit.Diff{"contact_id": {nil, r.ContactID}, "kinds": {nil, kinds},
				"source": {nil, r.Source}}})
	})
	if store.IsUniqueViolation(err) {
		return Request{}, "", ErrOpen // Meta's, filed by a callback at the same time
	}
	if err != nil {
		return Request{}, "", err
	}
	return r, token, nil
}

// OpenRequest returns the contact's request from source that is still open, if any:
// a channel that sends the same request twice gets the first.
func (s *Service) OpenRequest(ctx context.Context, wsID, contactID, source string) (Request, bool,
	error) {
	var id string
	err := s.db.QueryRowContext(ctx, s.q.OpenFor, wsID, contactID, source).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Request{}, false, nil
	}
	if err != nil {
		return Request{}, false, fmt.Errorf("datarequest: open request: %w", err)
	}
	r, err := s.Get(ctx, wsID, id)
	return r, err == nil, err
}

// SameAddress counts the workspace's other contacts with the contact's
// address. The widget makes a contact for each chat, and an address a
// customer typed proves nothing: a request verified by the chat's identity
// covers only its own contact, and the approver sees the others and may ask
// the requester about them. A request verified by the link mailed to the
// address covers them all (Approve).
func (s *Service) SameAddress(ctx context.Context, wsID, contactID string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, s.q.SameAddress, wsID, contactID).Scan(&n)
	return n, err
}

// Conversations returns the ids of a contact's conversations.
func (s *Service) Conversations(ctx context.Context, wsID, contactID string) ([]string,
	error) {
	return store.Strings(ctx, s.db, s.q.ContactConversationIDs, wsID, contactID)
}

// ContactsByExternalID returns the workspace's contacts a channel knows by
// externalID ("meta:1234").
func (s *Service) ContactsByExternalID(ctx context.Context, wsID,
	externalID string) ([]string, error) {
	ids, err := store.Strings(ctx, s.db, s.q.ContactsByExternal, wsID, externalID)
	if err != nil {
		return nil, fmt.Errorf("datarequest: contacts by external id: %w", err)
	}
	return ids, nil
}

// Email returns the address a request's verification link goes to.
func (s *Service) Email(ctx context.Context, wsID, contactID string) (string, error) {
	var name, email string
	var created int64
	err := s.db.QueryRowContext(ctx, s.q.Contact, wsID, contactID).Scan(&name, &email,
		&created)
	if errors.Is(err, sql.ErrNoRows) {
		return "", store.ErrNotFound
	}
	return email, err
}

// MailsPerAddress bounds the requests, and so the confirmation mails, that
// FileForAddress makes for one address in a day: anyone may type any address
// into a form, and its owner must not be flooded in the business's name.
const MailsPerAddress = 3

// ErrTooMany is returned when an address has had MailsPerAddress requests
// filed for it in the last day.
var ErrTooMany = errors.New("datarequest: this address has had its requests for today")

// FileForAddress files a request made by giving an address, as on the trust
// page, where whoever fills in the form proves nothing until the owner opens
// the mailed link. The request replaces the address's requests filedBy still
// waiting for that link, so that a stranger's cannot keep the owner's out, and
// is filed for the address's oldest contact with no other request open; once
// confirmed it covers them all. An address gets at most MailsPerAddress such
// requests a day (ErrTooMany); one no contact gave is ErrNotFound.
func (s *Service) FileForAddress(ctx context.Context, wsID, email string, kinds []string,
	filedBy string) (Request, string, error) {
	contacts, err := store.Strings(ctx, s.db, s.q.ContactsByEmail, wsID, email)
	if err != nil {
		return Request{}, "", fmt.Errorf("datarequest: contacts by address: %w", err)
	}
	if len(contacts) == 0 {
		return Request{}, "", store.ErrNotFound
	}
	var recent int
	since := s.now().Add(-24 * time.Hour).UnixMilli()
	if err := s.db.QueryRowContext(ctx, s.q.FiledForAddress, wsID, filedBy, since, wsID,
		email).Scan(&recent); err != nil {
		return Request{}, "", err
	}
	if recent >= MailsPerAddress {
		return Request{}, "", ErrTooMany
	}
	waiting, err := store.Strings(ctx, s.db, s.q.UnconfirmedForAddress, wsID, filedBy, wsID,
		email)
	if err != nil {
		return Request{}, "", err
	}
	for _, id := range waiting {
		if err := s.supersede(ctx, wsID, id); err != nil {
			return Request{}, "", err
		}
	}
	err = ErrOpen
	for _, contact := range contacts {
		var r Request
		var token string
		r, token, err = s.File(ctx, wsID, Filing{ContactID: contact, Kinds: kinds,
			Source: FromEmail, FiledBy: filedBy})
		if !errors.Is(err, ErrOpen) {
			return r, token, err
		}
	}
	return Request{}, "", err
}

// supersede closes a request still waiting for its mailed link, replaced by
// a newer one for the same address.
func (s *Service) supersede(ctx context.Context, wsID, id string) error {
	const why = "replaced by a newer request for the same address"
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, s.q.Supersede, why, s.now().UnixMilli(), wsID, id)
		if err != nil {
			return fmt.Errorf("datarequest: supersede: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil // confirmed meanwhile: it stands
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.DataRequestRejected, TargetType: "data_request", TargetID: id,
			Reason: why})
	})
}

func checkKinds(in []string) ([]string, error) {
	var out []string
	for _, k := range in {
		switch k {
		case Access, Portability, Deletion:
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		default:
			return nil, fmt.Errorf("datarequest: %w: a request is for access, portability "+
				"or deletion", ErrInvalid)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("datarequest: %w: say what is asked: access, portability "+
			"or deletion", ErrInvalid)
	}
	slices.Sort(out)
	return out, nil
}

// Get loads a request.
func (s *Service) Get(ctx context.Context, wsID, id string) (Request, error) {
	if !plain(id) {
		return Request{}, store.ErrNotFound
	}
	return scan(s.db.QueryRowContext(ctx, s.q.ByID, wsID, id))
}

// ByToken loads a request for its requester, who holds its token; any other
// token finds nothing.
func (s *Service) ByToken(ctx context.Context, wsID, id, token string) (Request, error) {
	r, err := s.Get(ctx, wsID, id)
	if err != nil {
		return Request{}, err
	}
	if token == "" || !equalHash(r.tokenHash, hash(token)) {
		return Request{}, store.ErrNotFound
	}
	return r, nil
}

// List returns the workspace's requests, newest first.
func (s *Service) List(ctx context.Context, wsID string) ([]Request, error) {
	list, err := store.Collect(ctx, s.db, s.q.List,
		func(rows *sql.Rows) (Request, error) { return scan(rows) }, wsID)
	if err != nil {
		return nil, fmt.Errorf("datarequest: list: %w", err)
	}
	return list, nil
}

// Verify records that the requester opened the link mailed to the contact's
// address: the token proves they read that mail.
func (s *Service) Verify(ctx context.Context, wsID, id, token string) (Request, error) {
	r, err := s.ByToken(ctx, wsID, id, token)
	if err != nil {
		return Request{}, err
	}
	if r.State != AwaitingVerification {
		return r, nil // opened twice: nothing more to prove
	}
	// The request covers the address the link went to, kept with it: the
	// contact it was filed for may be deleted before it is carried out.
	address, err := s.Email(ctx, wsID, r.ContactID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Request{}, err
	}
	now := s.now().UTC()
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, s.q.SetVerified, ByEmailLink, now.UnixMilli(),
			strings.ToLower(address), wsID, id)
		if err != nil {
			return fmt.Errorf("datarequest: verify: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrState
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.DataRequestVerified, TargetType: "data_request", TargetID: id,
			Diff: audit.Diff{"verified_by": {nil, ByEmailLink}}})
	})
	if err != nil {
		return Request{}, err
	}
	return s.Get(ctx, wsID, id)
}

// Reject closes a request without acting on it; note says why, to the
// requester too.
func (s *Service) Reject(ctx context.Context, wsID, id, by, note string) error {
	note = strings.TrimSpace(note)
	if note == "" || utf8.RuneCountInString(note) > 500 || !plain(note) {
		return fmt.Errorf("datarequest: %w: say why, in at most 500 characters", ErrInvalid)
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.decide(ctx, tx, wsID, id, Rejected, by, note, ""); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.DataRequestRejected, TargetType: "data_request", TargetID: id,
			Reason: note})
	})
}

func (s *Service) decide(ctx context.Context, tx *store.Tx, wsID, id, state, by, note,
	receipt string) error {
	now := s.now().UTC().UnixMilli()
	completed := int64(0)
	if state == Completed {
		completed = now
	}
	res, err := tx.ExecContext(ctx, s.q.SetDecided, state, by, now, note, completed, receipt,
		wsID, id)
	if err != nil {
		return fmt.Errorf("datarequest: decide: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrState
	}
	return nil
}

type scanner interface{ Scan(dest ...any) error }

func scan(row scanner) (Request, error) {
	var r Request
	var kinds, receipt string
	var created, due, verified, decided, completed int64
	err := row.Scan(&r.ID, &r.ContactID, &kinds, &r.Source, &r.State, &r.tokenHash,
		&r.VerifiedBy, &r.FiledBy, &created, &due, &verified, &r.DecidedBy, &decided, &r.Note,
		&completed, &receipt, &r.address)
	if errors.Is(err, sql.ErrNoRows) {
		return Request{}, store.ErrNotFound
	}
	if err != nil {
		return Request{}, err
	}
	r.Kinds = strings.Split(kinds, ",")
	r.CreatedAt, r.DueAt = time.UnixMilli(created).UTC(), time.UnixMilli(due).UTC()
	r.VerifiedAt, r.DecidedAt = timeOrNil(verified), timeOrNil(decided)
	if receipt != "" {
		var rc Receipt
		if err := json.Unmarshal([]byte(receipt), &rc); err == nil {
			r.Receipt = &rc
		}
	}
	return r, nil
}

func timeOrNil(ms int64) *time.Time {
	if ms == 0 {
		return nil
	}
	t := time.UnixMilli(ms).UTC()
	return &t
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func equalHash(a, b string) bool {
	return len(a) == len(b) && subtleEqual([]byte(a), []byte(b))
}

func plain(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0) && len(s) <= 200
}
