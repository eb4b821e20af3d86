package audit

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/thunaivi/thunaivi/internal/store"
)

// Filter selects a workspace's entries. Empty fields match everything.
type Filter struct {
	Workspace string
	From, To  time.Time
	// Actor matches the actor's id, email or type.
	Actor string
	// Action matches an action or every action under it: "authn" matches
	// "authn.login.fail".
	Action string
	// Target matches the target's id or type.
	Target  string
	Outcome Outcome
	// Before is the paging cursor: only entries older than this sequence
	// number. Limit caps the page.
	Before int64
	Limit  int
}

// MaxPage is the most entries one page returns.
const MaxPage = 500

// List returns a workspace's entries matching f, newest first.
func (l *Log) List(ctx context.Context, f Filter) ([]Entry, error) {
	if f.Limit <= 0 || f.Limit > MaxPage {
		f.Limit = MaxPage
	}
	var out []Entry
	err := l.each(ctx, f, func(e *Entry) error {
		out = append(out, *e)
		return nil
	})
	return out, err
}

func (l *Log) each(ctx context.Context, f Filter, fn func(*Entry) error) error {
	from, to, before := int64(0), int64(math.MaxInt64), int64(math.MaxInt64)
	if !f.From.IsZero() {
		from = f.From.UnixMilli()
	}
	if !f.To.IsZero() {
		to = f.To.UnixMilli()
	}
	if f.Before > 0 {
		before = f.Before
	}
	limit := f.Limit
	if limit <= 0 {
		limit = math.MaxInt32
	}
	rows, err := l.db.QueryContext(ctx, l.q.ListEntries, f.Workspace, from, to, before,
		f.Actor, f.Actor, f.Actor, f.Actor,
		f.Action, f.Action, f.Action+".%",
		f.Target, f.Target, f.Target,
		string(f.Outcome), string(f.Outcome), limit)
	if err != nil {
		return err
	}
	defer rows.Close()
	var e Entry
	for rows.Next() {
		if err := scanEntry(rows, &e); err != nil {
			return err
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Export formats.
const (
	CSV   = "csv"
	JSONL = "jsonl"
)

var csvHeader = []string{"seq", "at", "workspace_id", "actor_type", "actor_id",
	"actor_email", "ip", "user_agent", "action", "target_type", "target_id", "outcome",
	"reason", "request_id", "diff", "hash"}

// Export writes every entry matching f, newest first, to w as CSV or JSON
// Lines, and returns how many it wrote. Cells that a spreadsheet would run as
// a formula are quoted with a leading apostrophe.
func (l *Log) Export(ctx context.Context, w io.Writer, format string, f Filter) (int, error) {
	f.Limit = 0
	n := 0
	switch format {
	case CSV:
		cw := csv.NewWriter(w)
		cw.Write(csvHeader)
		err := l.each(ctx, f, func(e *Entry) error {
			n++
			return cw.Write([]string{strconv.FormatInt(e.Seq, 10),
				e.At.Format(time.RFC3339Nano), e.Workspace, e.ActorType, cell(e.ActorID),
				cell(e.ActorEmail), e.IP, cell(e.UserAgent), string(e.Action),
				e.TargetType, cell(e.TargetID), string(e.Outcome), cell(e.Reason),
				e.RequestID, cell(e.Diff), e.Hash})
		})
		cw.Flush()
		if err == nil {
			err = cw.Error()
		}
		return n, err
	case JSONL:
		enc := json.NewEncoder(w)
		err := l.each(ctx, f, func(e *Entry) error {
			n++
			return enc.Encode(e)
		})
		return n, err
	}
	return 0, fmt.Errorf("audit: export format %q is not csv or jsonl", format)
}

// cell defuses spreadsheet formulas: a cell starting with = + - @ or a tab
// or carriage return is prefixed with an apostrophe.
func cell(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' ||
		s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}

// Count is one line of the security page: how often something happened, by
// whom or from where, and when it last did.
type Count struct {
	Action Action    `json:"action"`
	Reason string    `json:"reason,omitempty"`
	Key    string    `json:"key"`
	Count  int       `json:"count"`
	Last   time.Time `json:"last"`
}

// SecuritySummary is a workspace's failed sign-ins and anomalies since a
// time, by account and by client address, busiest first.
type SecuritySummary struct {
	Since           time.Time `json:"since"`
	FailedByAccount []Count   `json:"failed_sign_ins_by_account"`
	FailedByIP      []Count   `json:"failed_sign_ins_by_ip"`
	Anomalies       []Count   `json:"anomalies"`
	// ServerWide are the refusals that belong to no workspace, by client
	// address: sign-ins to accounts that do not exist (password spraying)
	// and probes. Addresses only: the attempted names are not shown.
	ServerWide []Count `json:"server_wide"`
}

// Security summarises a workspace's failed sign-ins and anomalies since since.
func (l *Log) Security(ctx context.Context, wsID string, since time.Time) (SecuritySummary,
	error) {
	sum := SecuritySummary{Since: since}
	byAccount, byIP, anomalies := map[string]*Count{}, map[string]*Count{}, map[string]*Count{}
	add := func(m map[string]*Count, key string, action Action, reason string, n int,
		last time.Time) {
		c := m[key]
		if c == nil {
			c = &Count{Action: action, Reason: reason, Key: key}
			m[key] = c
		}
		c.Count += n
		if last.After(c.Last) {
			c.Last = last
		}
	}
	_, err := store.Collect(ctx, l.db, l.q.SecurityEvents, func(rows *sql.Rows) (struct{}, error) {
		var action, reason, email, ip string
		var n int
		var last int64
		if err := rows.Scan(&action, &reason, &email, &ip, &n, &last); err != nil {
			return struct{}{}, err
		}
		at := timeMillis(last)
		if Action(action) == LoginFailed {
			add(byAccount, email, LoginFailed, "", n, at)
			add(byIP, ip, LoginFailed, "", n, at)
			return struct{}{}, nil
		}
		who := email
		if who == "" {
			who = ip
		}
		add(anomalies, action+"\x00"+reason+"\x00"+who, Action(action), reason, n, at)
		anomalies[action+"\x00"+reason+"\x00"+who].Key = who
		return struct{}{}, nil
	}, wsID, since.UnixMilli())
	if err != nil {
		return sum, err
	}
	serverWide := map[string]*Count{}
	_, err = store.Collect(ctx, l.db, l.q.SecurityEvents, func(rows *sql.Rows) (struct{}, error) {
		var action, reason, email, ip string
		var n int
		var last int64
		if err := rows.Scan(&action, &reason, &email, &ip, &n, &last); err != nil {
			return struct{}{}, err
		}
		add(serverWide, action+"\x00"+ip, Action(action), "", n, timeMillis(last))
		serverWide[action+"\x00"+ip].Key = ip
		return struct{}{}, nil
	}, "", since.UnixMilli())
	if err != nil {
		return sum, err
	}
	sum.FailedByAccount, sum.FailedByIP, sum.Anomalies = sorted(byAccount), sorted(byIP),
		sorted(anomalies)
	sum.ServerWide = sorted(serverWide)
	return sum, nil
}

func sorted(m map[string]*Count) []Count {
	out := make([]Count, 0, len(m))
	for _, c := range m {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Key < out[j].Key
	})
	return out
}
