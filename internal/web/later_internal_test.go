package web

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// Work left for after an answer never makes an answer wait: a bounded
// number of workers run it from a bounded queue, and what the queue cannot
// hold is dropped, not done before answering, whose time would then tell a
// customer's address from a stranger's.
func TestWorkAfterAnswersNeverDelaysThem(t *testing.T) {
	s := &Server{log: slog.New(slog.DiscardHandler), queue: make(chan func(), 2),
		workers: make(chan struct{}, 1)}
	r := httptest.NewRequest("POST", "/", nil)
	started, release := make(chan struct{}), make(chan struct{})
	s.later(r, func(context.Context) { close(started); <-release })
	<-started // the one worker is busy
	var ran atomic.Int32
	for range 3 {
		s.later(r, func(context.Context) { ran.Add(1) })
	}
	if n := ran.Load(); n != 0 {
		t.Fatalf("%d pieces of work ran before their answers", n)
	}
	close(release)
	s.Drain()
	if n := ran.Load(); n != 2 {
		t.Fatalf("%d pieces of work ran after; want the 2 the queue holds", n)
	}
	if len(s.workers) != 0 || len(s.queue) != 0 {
		t.Fatalf("%d workers and %d jobs left", len(s.workers), len(s.queue))
	}
}
