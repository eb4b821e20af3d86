package web

import (
	"context"
	"net/http/httptest"
	"testing"
)

// Work left for after an answer runs beside it only up to maxLater at a
// time; past that, a request does it before answering, so that a flood of
// requests cannot pile up goroutines waiting on a slow mail relay.
func TestWorkAfterAnswersIsBounded(t *testing.T) {
	s := &Server{running: make(chan struct{}, 2)}
	r := httptest.NewRequest("POST", "/", nil)
	release := make(chan struct{})
	for range 2 {
		s.later(r, func(context.Context) { <-release })
	}
	ran := false
	s.later(r, func(context.Context) { ran = true })
	if !ran {
		t.Fatal("a third piece of work was left running past the bound")
	}
	close(release)
	s.Drain()
	if len(s.running) != 0 {
		t.Fatalf("%d places still held after the work ended", len(s.running))
	}
}
