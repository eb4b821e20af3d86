// Package audit keeps Thunaivi's tamper-evident audit log: who did what, to
// what, from where, and with which outcome, for every security-relevant action.
//
// Entries form one hash chain. Each entry's hash is an HMAC-SHA256, keyed by a
// secret kept outside the database, over the previous entry's hash and the
// entry's canonical encoding; so whoever can write to the database but does
// not hold the key cannot change, remove, insert or reorder an entry without
// Verify naming it. Signed checkpoints of the chain's head, written outside
// the database, catch a cut tail. Entries are written inside the transaction
// of the action they record, so an action whose entry cannot be written is
// rolled back: the log fails closed.
package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/thunaivi/thunaivi/internal/origin"
	"github.com/thunaivi/thunaivi/internal/store"
)

//go:embed queries.sql
var queryFiles embed.FS

type queries struct {
	LockHead       string
	NextSeq        string
	SetHead        string
	InsertEntry    string
	Head           string
	KeyID          string
	SealedSeq      string
	PastHead       string
	MarkSealed     string
	ClaimKey       string
	ChainFrom      string
	ListEntries    string
	LastBefore     string
	HashOf         string
	HashAndTimeOf  string
	SetBase        string
	PruneBatch     string
	KeyUseSeen     string
	SecurityEvents string
}

// Outcome says how an action ended.
type Outcome string

const (
	Success Outcome = "success"
	Failure Outcome = "failure"
	Refused Outcome = "denied"
)

// Event is what a caller records. The actor, address, user agent and request
// id come from the context (see package origin) unless Actor is set.
type Event struct {
	Workspace  string
	Action     Action
	TargetType string
	TargetID   string
	Outcome    Outcome
	Reason     string
	Diff       Diff
	Actor      *origin.Actor
}

// Entry is one stored audit entry.
type Entry struct {
	Seq        int64     `json:"seq"`
	At         time.Time `json:"at"`
	Workspace  string    `json:"workspace_id"`
	ActorType  string    `json:"actor_type"`
	ActorID    string    `json:"actor_id"`
	ActorEmail string    `json:"actor_email"`
	IP         string    `json:"ip"`
	UserAgent  string    `json:"user_agent"`
	Action     Action    `json:"action"`
	TargetType string    `json:"target_type"`
	TargetID   string    `json:"target_id"`
	Outcome    Outcome   `json:"outcome"`
	Reason     string    `json:"reason"`
	RequestID  string    `json:"request_id"`
	Diff       string    `json:"diff"`
	Hash       string    `json:"hash"`
}

// ErrUnknownAction is returned for an action outside the vocabulary.
var ErrUnknownAction = errors.New("audit: action is not in the vocabulary")

// Log writes, reads and verifies the audit log.
type Log struct {
	db   *store.DB
	q    queries
	keys Keys
	now  func() time.Time
	// OnAppend, when set, is told of every entry written and every write
	// that failed, for monitoring.
	OnAppend func(err error)

	// chainers are reused hash states, one per concurrent append.
	chainers sync.Pool
}

// ErrWrongKey is returned by New when the audit log was written with another
// key: continuing would break the chain for good.
var ErrWrongKey = errors.New("audit: the audit key is not the one this audit log was " +
	"written with; restore that key (THUNAIVI_AUDIT_KEY, or audit.key in the data folder)")

// New opens the audit log on a migrated store, keyed by keys. The first key
// to open a store's log becomes its key; any other is refused with
// ErrWrongKey.
func New(db *store.DB, keys Keys, now func() time.Time) (*Log, error) {
	l := &Log{db: db, keys: keys, now: now}
	if err := db.LoadQueries(queryFiles, &l.q); err != nil {
		return nil, err
	}
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, l.q.ClaimKey, keys.ID()); err != nil {
		return nil, fmt.Errorf("audit: claim the log for this key: %w", err)
	}
	var id string
	if err := db.QueryRowContext(ctx, l.q.KeyID).Scan(&id); err != nil {
		return nil, fmt.Errorf("audit: read the log's key id: %w", err)
	}
	if id != keys.ID() {
		return nil, fmt.Errorf("%w (the log's key id is %s, this key's is %s)", ErrWrongKey,
			id, keys.ID())
	}
	return l, nil
}

// Claimed reports whether a store's audit log already belongs to a key, so
// that a missing key is noticed rather than replaced.
func Claimed(ctx context.Context, db *store.DB) (bool, error) {
	var id string
	err := db.QueryRowContext(ctx, "SELECT key_id FROM audit_head WHERE id = 1").Scan(&id)
	return id != "", err
}

// Record appends an entry for ev inside tx, the transaction of the action it
// records. Call it last in the transaction: it locks the chain's head until
// the transaction ends. An error must abort the transaction.
func (l *Log) Record(ctx context.Context, tx *store.Tx, ev Event) error {
	e, err := l.entry(ctx, ev)
	if err == nil {
		err = l.append(ctx, tx, &e)
	}
	if l.OnAppend != nil {
		l.OnAppend(err)
	}
	if err != nil {
		return fmt.Errorf("audit: record %s: %w", ev.Action, err)
	}
	return nil
}

// Write appends an entry for ev in a transaction of its own, for events that
// change nothing else, such as a refused sign-in.
func (l *Log) Write(ctx context.Context, ev Event) error {
	return l.db.InTx(ctx, func(tx *store.Tx) error { return l.Record(ctx, tx, ev) })
}

func (l *Log) entry(ctx context.Context, ev Event) (Entry, error) {
	if !Known(ev.Action) {
		return Entry{}, fmt.Errorf("%w: %q", ErrUnknownAction, ev.Action)
	}
	actor := origin.ActorFrom(ctx)
	if ev.Actor != nil {
		actor = *ev.Actor
	}
	req := origin.RequestFrom(ctx)
	outcome := ev.Outcome
	if outcome == "" {
		outcome = Success
	}
	diff, err := ev.Diff.encode()
	if err != nil {
		return Entry{}, err
	}
	return Entry{
		At:         l.now().UTC().Truncate(time.Millisecond),
		Workspace:  text(ev.Workspace, 64),
		ActorType:  string(actor.Type),
		ActorID:    text(actor.ID, 128),
		ActorEmail: text(actor.Email, 254),
		IP:         text(req.IP, 64),
		UserAgent:  text(req.UserAgent, 256),
		Action:     ev.Action,
		TargetType: text(ev.TargetType, 64),
		TargetID:   text(ev.TargetID, 256),
		Outcome:    outcome,
		Reason:     text(ev.Reason, 512),
		RequestID:  text(req.ID, 64),
		Diff:       diff,
	}, nil
}

// text makes s storable on every engine whatever a client sent: valid
// UTF-8, no NUL, at most n bytes. An entry must never fail to be written
// because of, say, a user agent's bytes, or the action it records would be
// refused.
func text(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// append chains e to the head and inserts it. Locking the head row first
// orders concurrent appends on PostgreSQL; SQLite has one writer anyway.
func (l *Log) append(ctx context.Context, tx *store.Tx, e *Entry) error {
	var prev string
	next := l.q.NextSeq
	if l.db.Engine() == store.Postgres {
		next = l.q.LockHead
	}
	if err := tx.QueryRowContext(ctx, next).Scan(&e.Seq, &prev); err != nil {
		return err
	}
	h, err := l.chain(prev, e)
	if err != nil {
		return err
	}
	e.Hash = h
	if _, err := tx.ExecContext(ctx, l.q.InsertEntry, e.Seq, e.At.UnixMilli(), e.Workspace,
		e.ActorType, e.ActorID, e.ActorEmail, e.IP, e.UserAgent, string(e.Action),
		e.TargetType, e.TargetID, string(e.Outcome), e.Reason, e.RequestID, e.Diff,
		e.Hash); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, l.q.SetHead, e.Seq, e.Hash)
	return err
}

// canonical appends e's canonical encoding to b: a version tag, the time in
// milliseconds, then every field length-prefixed in a fixed order. The
// sequence number is not part of it: the chain fixes each entry's place.
func canonical(b []byte, e *Entry) []byte {
	b = append(b, "thunaivi-audit-v1"...)
	b = binary.BigEndian.AppendUint64(b, uint64(e.At.UnixMilli()))
	for _, f := range [...]string{e.Workspace, e.ActorType, e.ActorID, e.ActorEmail, e.IP,
		e.UserAgent, string(e.Action), e.TargetType, e.TargetID, string(e.Outcome),
		e.Reason, e.RequestID, e.Diff} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

// chainer computes entry hashes with one reusable HMAC state and buffer, for
// verifying long chains without allocating per entry.
type chainer struct {
	mac hash.Hash
	buf []byte
	sum []byte
}

func (k Keys) newChainer() *chainer { return &chainer{mac: hmac.New(sha256.New, k.Chain)} }

// hash returns the hex hash of e chained after prev (hex), or "" when prev
// is not hex.
func (c *chainer) hash(prev string, e *Entry) string {
	c.buf = c.buf[:0]
	if prev != "" {
		n := hex.DecodedLen(len(prev))
		c.buf = append(c.buf, make([]byte, n)...)
		if _, err := hex.Decode(c.buf, []byte(prev)); err != nil {
			return ""
		}
	}
	c.buf = canonical(c.buf, e)
	c.mac.Reset()
	c.mac.Write(c.buf)
	c.sum = c.mac.Sum(c.sum[:0])
	return hex.EncodeToString(c.sum)
}

func (l *Log) chain(prev string, e *Entry) (string, error) {
	c, _ := l.chainers.Get().(*chainer)
	if c == nil {
		c = l.keys.newChainer()
	}
	h := c.hash(prev, e)
	l.chainers.Put(c)
	if h == "" {
		return "", errors.New("the chain's head hash is not hex")
	}
	return h, nil
}

// Diff lists changed fields with their old and new values.
type Diff map[string][2]any

// secretFields are field-name fragments whose values are never stored: the
// diff records that they changed, not what to. A field whose name ends in
// "_count" and whose values are whole numbers, such as how many keys an
// incident rolled, is a tally and is kept.
var secretFields = []string{"password", "secret", "token", "key", "code", "totp"}

// tally reports whether a field is a count of things rather than a value.
func tally(field string, v [2]any) bool {
	if !strings.HasSuffix(field, "_count") {
		return false
	}
	for _, x := range v {
		switch x.(type) {
		case nil, int, int64:
		default:
			return false
		}
	}
	return true
}

func (d Diff) encode() (string, error) {
	if len(d) == 0 {
		return "", nil
	}
	clean := make(map[string][2]any, len(d))
	for field, v := range d {
		f := strings.ToLower(field)
		for _, s := range secretFields {
			if strings.Contains(f, s) && !strings.HasSuffix(f, "_id") && !tally(f, v) {
				v = [2]any{"[secret]", "[secret, changed]"}
				break
			}
		}
		clean[field] = v
	}
	b, err := json.Marshal(clean)
	return string(b), err
}

func timeMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
