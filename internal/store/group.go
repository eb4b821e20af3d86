package store

import (
	"context"
	"fmt"
	"sync"
)

// maxGroup bounds how many transactions commit together, so that one group
// holds the writer no longer than a few transactions' worth.
const maxGroup = 32

// group is SQLite's group commit. Every commit there waits for a sync of the
// log (synchronous=FULL), and there is one writer: committed one at a time,
// transactions wait in line for each other's syncs. Instead, whoever finds
// no group running leads one: it runs every transaction queued by then in
// one SQLite transaction, each in a savepoint of its own so that a failure
// rolls back only its own writes, commits once, and hands the lead to the
// next in line. Each caller still returns only once its writes are durable.
type group struct {
	mu      sync.Mutex
	queue   []*pending
	leading bool
}

// pending is one caller's transaction waiting for its group.
type pending struct {
	ctx  context.Context
	fn   func(tx *Tx) error
	done chan outcome
	lead chan struct{}
}

// outcome is what became of a pending transaction: its error, or the panic
// of its function, raised again in its caller.
type outcome struct {
	err   error
	panic any
}

func (db *DB) inGroup(ctx context.Context, fn func(tx *Tx) error) error {
	p := &pending{ctx: ctx, fn: fn, done: make(chan outcome, 1), lead: make(chan struct{}, 1)}
	g := &db.group
	g.mu.Lock()
	g.queue = append(g.queue, p)
	leader := !g.leading
	g.leading = true
	g.mu.Unlock()
	for {
		if leader {
			db.lead()
		}
		select {
		case o := <-p.done:
			if o.panic != nil {
				panic(o.panic)
			}
			return o.err
		case <-p.lead:
			leader = true
		}
	}
}

// lead commits the transactions queued now as one group, then hands the
// lead to the first still waiting, or ends it.
func (db *DB) lead() {
	g := &db.group
	g.mu.Lock()
	n := min(len(g.queue), maxGroup)
	batch := append([]*pending(nil), g.queue[:n]...)
	g.queue = append(g.queue[:0:0], g.queue[n:]...)
	g.mu.Unlock()

	db.commitGroup(batch)

	g.mu.Lock()
	if len(g.queue) == 0 {
		g.leading = false
	} else {
		g.queue[0].lead <- struct{}{}
	}
	g.mu.Unlock()
}

// commitGroup runs batch in one transaction and tells each its outcome.
func (db *DB) commitGroup(batch []*pending) {
	if len(batch) == 1 {
		p := batch[0]
		p.done <- run(func() error { return db.inTx(p.ctx, p.fn) })
		return
	}
	out := make([]outcome, len(batch))
	defer func() {
		for i, p := range batch {
			p.done <- out[i]
		}
	}()
	// The group's transaction is no caller's: one caller's cancelled
	// context rolls back its own savepoint, not the others' writes.
	sqlTx, err := db.write.BeginTx(context.Background(), nil)
	if err != nil {
		for i := range out {
			out[i].err = fmt.Errorf("store: begin: %w", err)
		}
		return
	}
	tx := &Tx{db: db, tx: sqlTx}
	for i, p := range batch {
		if err := p.ctx.Err(); err != nil {
			out[i].err = err
			continue
		}
		if _, err := sqlTx.Exec("SAVEPOINT grouped"); err != nil {
			out[i].err = fmt.Errorf("store: savepoint: %w", err)
			continue
		}
		out[i] = run(func() error { return p.fn(tx) })
		if out[i].err != nil || out[i].panic != nil {
			if _, err := sqlTx.Exec("ROLLBACK TO grouped"); err != nil {
				sqlTx.Rollback()
				for j := range out {
					if out[j].err == nil && out[j].panic == nil {
						out[j].err = fmt.Errorf("store: roll back a grouped "+
							"transaction: %w", err)
					}
				}
				return
			}
		}
		if _, err := sqlTx.Exec("RELEASE grouped"); err != nil {
			out[i].err = fmt.Errorf("store: release: %w", err)
		}
	}
	if err := sqlTx.Commit(); err != nil {
		for i := range out {
			if out[i].err == nil && out[i].panic == nil {
				out[i].err = fmt.Errorf("store: commit: %w", err)
			}
		}
	}
}

// run calls fn, catching a panic to raise again in its caller.
func run(fn func() error) (o outcome) {
	defer func() {
		if p := recover(); p != nil {
			o.panic = p
		}
	}()
	o.err = fn()
	return o
}
