package audit

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Problem kinds Verify reports.
const (
	Changed   = "changed"
	Removed   = "removed"
	Inserted  = "inserted"
	Reordered = "reordered"
	Truncated = "truncated"
	// Forged is a checkpoint whose signature does not verify, or a pruned
	// base that no checkpoint vouches for.
	Forged = "forged"
	// Unsealed is a chain whose checkpoints were removed from their sink:
	// the database remembers a checkpoint the sink no longer holds, so the
	// chain's end could have been cut, and nothing would show it.
	Unsealed = "unsealed"
)

// Problem is the first break in the chain.
type Problem struct {
	Kind string `json:"kind"`
	// Seq is the entry the break is at: the first changed, removed,
	// inserted or reordered one.
	Seq    int64  `json:"seq"`
	Detail string `json:"detail"`
}

func (p Problem) Error() string { return fmt.Sprintf("entry %d %s: %s", p.Seq, p.Kind, p.Detail) }

// Report is what Verify found.
type Report struct {
	OK bool `json:"ok"`
	// First and Last are the sequence numbers of the entries checked.
	First   int64 `json:"first"`
	Last    int64 `json:"last"`
	Entries int64 `json:"entries"`
	// Pruned is the newest entry removed by retention; the chain is
	// verified onward from its hash.
	Pruned      int64 `json:"pruned"`
	Checkpoints int   `json:"checkpoints"`
	// Sealed is the newest entry a checkpoint vouches for; entries after it
	// are intact as a chain but not yet sealed against a cut tail.
	Sealed int64 `json:"sealed"`
	// LastHash is the hash of entry Last.
	LastHash    string   `json:"last_hash,omitempty"`
	Unsealed    int64    `json:"unsealed"`
	Problem     *Problem `json:"problem,omitempty"`
	Torn        bool     `json:"torn_checkpoint,omitempty"`
	Unreadable  int      `json:"unreadable_checkpoints,omitempty"`
	ForeignKeys int      `json:"foreign_checkpoints,omitempty"`
}

// Verify recomputes the whole chain up to its head and checks it against
// cps, stopping at the first break, which it names. Entries appended while it
// runs are left for the next verification.
func (l *Log) Verify(ctx context.Context, cps Checkpoints) (Report, error) {
	rep := Report{Torn: cps.Torn, Unreadable: cps.Unreadable}
	headSeq, headHash, baseSeq, baseHash, err := l.head(ctx)
	if err != nil {
		return rep, err
	}
	rep.Pruned, rep.First = baseSeq, baseSeq+1
	fail := func(p Problem) (Report, error) {
		rep.Problem = &p
		return rep, nil
	}
	sealed, prunes, bad := l.trusted(cps, &rep)
	if bad != nil {
		return fail(*bad)
	}
	if baseSeq > 0 {
		p, ok := prunes[baseSeq]
		if !ok || p.Hash != baseHash || time.Duration(p.At-p.PrunedAt)*time.Millisecond <
			MinRetention {
			return fail(Problem{Kind: Forged, Seq: baseSeq + 1, Detail: fmt.Sprintf(
				"the chain claims entries up to %d were pruned, but no signed prune "+
					"checkpoint vouches that they were old enough", baseSeq)})
		}
	}

	rows, err := l.db.QueryContext(ctx, l.q.ChainFrom, baseSeq, headSeq)
	if err != nil {
		return rep, err
	}
	defer rows.Close()
	next := func() (*Entry, error) {
		if !rows.Next() {
			return nil, rows.Err()
		}
		e := new(Entry)
		return e, scanEntry(rows, e)
	}
	claims := cps.Claims[l.keys.PublicString()]
	c := l.keys.newChainer()
	prev, want := baseHash, baseSeq+1
	for {
		e, err := next()
		if err != nil {
			return rep, err
		}
		if e == nil {
			break
		}
		if e.Seq != want {
			return fail(Problem{Kind: Removed, Seq: want, Detail: fmt.Sprintf(
				"%s missing", span(want, e.Seq-1))})
		}
		if c.hash(prev, e) != e.Hash {
			after, err := next()
			if err != nil {
				return rep, err
			}
			return fail(diagnose(c, prev, e, after))
		}
		if h, ok := sealed[e.Seq]; ok && h != e.Hash {
			return fail(Problem{Kind: Changed, Seq: e.Seq,
				Detail: "its hash differs from the signed checkpoint's"})
		}
		if h, ok := claims[e.Seq]; ok && !strings.HasPrefix(e.Hash, h) {
			return fail(Problem{Kind: Changed, Seq: e.Seq, Detail: "an earlier checkpoint " +
				"names another hash for it: the chain was rewritten from here on, or that " +
				"checkpoint line was forged"})
		}
		prev, want = e.Hash, want+1
		rep.Entries++
	}
	rep.Last, rep.LastHash = want-1, prev
	if rep.Last != headSeq {
		return fail(Problem{Kind: Truncated, Seq: want, Detail: fmt.Sprintf(
			"the chain's head names entry %d, but %s missing", headSeq, span(want, headSeq))})
	}
	if prev != headHash {
		return fail(Problem{Kind: Changed, Seq: headSeq,
			Detail: "the chain's head record does not match this entry"})
	}
	for seq := range claims {
		if seq > rep.Last {
			return fail(Problem{Kind: Truncated, Seq: rep.Last + 1, Detail: fmt.Sprintf(
				"a checkpoint names entry %d, but the chain ends at %d: entries were cut "+
					"from its end, or that checkpoint line was forged", seq, rep.Last)})
		}
	}
	for seq := range sealed {
		if seq > rep.Last {
			return fail(Problem{Kind: Truncated, Seq: rep.Last + 1, Detail: fmt.Sprintf(
				"a signed checkpoint names entry %d, but the chain ends at %d: "+
					"entries were cut from its end", seq, rep.Last)})
		}
		rep.Sealed = max(rep.Sealed, seq)
	}
	rep.Unsealed = rep.Last - max(rep.Sealed, baseSeq)
	var planted int64
	if err := l.db.QueryRowContext(ctx, l.q.PastHead).Scan(&planted); err != nil {
		return rep, err
	}
	if planted > 0 {
		return fail(Problem{Kind: Inserted, Seq: planted, Detail: "it lies past the chain's " +
			"head, where no append puts an entry: it was planted, and blocks new entries"})
	}
	var sealedSeq int64
	if err := l.db.QueryRowContext(ctx, l.q.SealedSeq).Scan(&sealedSeq); err != nil {
		return rep, err
	}
	if sealedSeq > rep.Last {
		return fail(Problem{Kind: Truncated, Seq: rep.Last + 1, Detail: fmt.Sprintf(
			"a checkpoint was written for entry %d, but the chain ends at %d: entries "+
				"were cut from its end", sealedSeq, rep.Last)})
	}
	if cps.Read && sealedSeq > rep.Sealed {
		where := fmt.Sprintf("the newest checkpoint signed by this key is of entry %d",
			rep.Sealed)
		if cps.Missing {
			where = "the checkpoint file is missing"
		}
		return fail(Problem{Kind: Unsealed, Seq: sealedSeq, Detail: fmt.Sprintf(
			"a checkpoint was written for entry %d, but %s: checkpoints were removed, so "+
				"nothing vouches for where the chain ends", sealedSeq, where)})
	}
	rep.OK = true
	return rep, nil
}

// span names entries from to to: "entry 7 is", "entries 7 to 9 are".
func span(from, to int64) string {
	if from == to {
		return fmt.Sprintf("entry %d is", from)
	}
	return fmt.Sprintf("entries %d to %d are", from, to)
}

// trusted returns the hashes the checkpoints signed by this key vouch for, by
// sequence number, and the prune checkpoints among them. A checkpoint signed
// by another key, as one left from an earlier installation, is counted and
// set aside. A checkpoint whose signature fails under the key it names, or a
// line that does not parse, is a forgery, returned as the problem.
func (l *Log) trusted(cps Checkpoints, rep *Report) (map[int64]string, map[int64]Checkpoint,
	*Problem) {
	sealed, prunes := map[int64]string{}, map[int64]Checkpoint{}
	if cps.Unreadable > 0 {
		return nil, nil, &Problem{Kind: Forged, Detail: fmt.Sprintf(
			"%d checkpoint lines cannot be read: someone wrote into the checkpoint file",
			cps.Unreadable)}
	}
	pub := l.keys.PublicString()
	for _, c := range cps.List {
		if !c.signed() {
			return nil, nil, &Problem{Kind: Forged, Seq: c.Seq, Detail: fmt.Sprintf(
				"the checkpoint for entry %d does not verify under the key it names", c.Seq)}
		}
		if c.Key != pub {
			rep.ForeignKeys++
			continue
		}
		sealed[c.Seq] = c.Hash
		if c.PrunedAt != 0 {
			prunes[c.Seq] = c
		}
		rep.Checkpoints++
	}
	return sealed, prunes, nil
}

// diagnose tells apart the ways entry e, which does not chain from prev, came
// to be there, using the entry after it.
func diagnose(c *chainer, prev string, e, after *Entry) Problem {
	if after != nil && after.Seq == e.Seq+1 {
		switch {
		case c.hash(prev, after) == after.Hash && c.hash(after.Hash, e) == e.Hash:
			return Problem{Kind: Reordered, Seq: e.Seq, Detail: fmt.Sprintf(
				"it belongs after entry %d, which was moved before it", after.Seq)}
		case c.hash(prev, after) == after.Hash:
			return Problem{Kind: Inserted, Seq: e.Seq, Detail: "the chain continues " +
				"without it: it was added by someone without the key"}
		case c.hash(e.Hash, after) == after.Hash:
			return Problem{Kind: Changed, Seq: e.Seq,
				Detail: "its fields no longer match its hash"}
		}
	}
	return Problem{Kind: Changed, Seq: e.Seq, Detail: "it does not chain from the entry " +
		"before it: it was changed, inserted, or entries before it were replaced"}
}

func scanEntry(rows *sql.Rows, e *Entry) error {
	var at int64
	var action, outcome string
	err := rows.Scan(&e.Seq, &at, &e.Workspace, &e.ActorType, &e.ActorID, &e.ActorEmail,
		&e.IP, &e.UserAgent, &action, &e.TargetType, &e.TargetID, &outcome, &e.Reason,
		&e.RequestID, &e.Diff, &e.Hash)
	e.At = timeMillis(at)
	e.Action, e.Outcome = Action(action), Outcome(outcome)
	return err
}
