package audit

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
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
	// Unsealed is a chain of entries with no checkpoint file at all: its end
	// could have been cut, and nothing would show it.
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
	Sealed      int64    `json:"sealed"`
	Unsealed    int64    `json:"unsealed"`
	Problem     *Problem `json:"problem,omitempty"`
	Torn        bool     `json:"torn_checkpoint,omitempty"`
	Unreadable  int      `json:"unreadable_checkpoints,omitempty"`
	ForeignKeys int      `json:"foreign_checkpoints,omitempty"`
}

// Verify recomputes the whole chain and checks it against cps, stopping at
// the first break, which it names.
func (l *Log) Verify(ctx context.Context, cps Checkpoints) (Report, error) {
	rep := Report{Torn: cps.Torn, Unreadable: cps.Unreadable}
	_, _, baseSeq, baseHash, err := l.head(ctx)
	if err != nil {
		return rep, err
	}
	rep.Pruned, rep.First = baseSeq, baseSeq+1
	sealed := l.trusted(cps, &rep)
	fail := func(p Problem) (Report, error) {
		rep.Problem = &p
		return rep, nil
	}
	if baseSeq > 0 && sealed[baseSeq] != baseHash {
		return fail(Problem{Kind: Forged, Seq: baseSeq + 1, Detail: fmt.Sprintf(
			"the chain claims entries up to %d were pruned, but no checkpoint "+
				"vouches for that", baseSeq)})
	}

	rows, err := l.db.QueryContext(ctx, l.q.ChainFrom, baseSeq)
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
				"entries %d to %d are missing", want, e.Seq-1)})
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
		prev, want = e.Hash, want+1
		rep.Entries++
	}
	rep.Last = want - 1
	for seq := range sealed {
		if seq > rep.Last {
			return fail(Problem{Kind: Truncated, Seq: rep.Last + 1, Detail: fmt.Sprintf(
				"a signed checkpoint names entry %d, but the chain ends at %d: "+
					"entries were cut from its end", seq, rep.Last)})
		}
		rep.Sealed = max(rep.Sealed, seq)
	}
	rep.Unsealed = rep.Last - max(rep.Sealed, baseSeq)
	if cps.Missing && rep.Entries > 0 {
		return fail(Problem{Kind: Unsealed, Seq: rep.Last, Detail: "the checkpoint file is " +
			"missing, so nothing vouches for where the chain ends: entries after the last " +
			"one could have been cut"})
	}
	rep.OK = true
	return rep, nil
}

// trusted returns the hashes the validly signed checkpoints vouch for, by
// sequence number. A checkpoint signed by another key is counted and set
// aside; one that claims this key but fails to verify is not trusted either.
func (l *Log) trusted(cps Checkpoints, rep *Report) map[int64]string {
	out := map[int64]string{}
	pub := l.keys.PublicString()
	list := append([]Checkpoint(nil), cps.List...)
	sort.Slice(list, func(i, j int) bool { return list[i].Seq < list[j].Seq })
	for _, c := range list {
		if c.Key != pub || !l.keys.signedBy(c) {
			rep.ForeignKeys++
			continue
		}
		out[c.Seq] = c.Hash
		rep.Checkpoints++
	}
	return out
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
